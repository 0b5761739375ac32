"""The tiny setting of every registered model, from ``tests/models/test_every_model.py`` (one table for all tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "models" / "test_every_model.py"
_spec = importlib.util.spec_from_file_location("_every_model_table", _PATH)
every_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(every_model)

TINY = every_model.TINY
NUM_CLASSES = every_model.NUM_CLASSES
build = every_model.build
