"""The TINY settings of ``tests/models/test_every_model.py``, loaded by path (that folder is not a package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "models" / "test_every_model.py"
_spec = importlib.util.spec_from_file_location("_viz_every_model", _PATH)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

TINY = _module.TINY
NUM_CLASSES = _module.NUM_CLASSES
build = _module.build
