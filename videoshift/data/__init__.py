"""Video data: annotation lists, frame samplers, frame-exact readers, clip transforms, datasets, synthetic data.

The engine needs only :func:`build_dataset` (see ``datasets.py`` for the item layout); the parts are public for
tools and tests. Names are imported on first use, so that ``videoshift`` commands start without loading torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_dataset": "datasets",
    "ListDataset": "datasets",
    "VideoReadError": "readers",
    "read_frames": "readers",
    "count_frames": "readers",
    "build_sampler": "samplers",
    "TSNSampler": "samplers",
    "UniformSampler": "samplers",
    "DenseSampler": "samplers",
    "SyntheticMotionDataset": "synthetic",
    "write_synthetic_dataset": "synthetic",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'videoshift.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"videoshift.data.{_EXPORTS[name]}"), name)
