"""The demo's tests share one model trained on two fixture videos (:mod:`demo_model`, in tests/support)."""

from pathlib import Path

import pytest
from demo_model import train_demo_model


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory) -> Path:
    """The training checkpoint of the demo model, trained once per test session (4 s)."""
    return train_demo_model(tmp_path_factory.mktemp("demo_model"))
