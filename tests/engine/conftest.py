import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import engine_standins


@pytest.fixture
def standin_model(monkeypatch):
    """Register the stand-in recognizer for the duration of a test."""
    engine_standins.register(monkeypatch)
    return engine_standins.MODEL_NAME
