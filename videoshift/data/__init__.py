"""Video data: annotation lists, frame samplers, frame-exact readers, clip transforms, datasets, synthetic data.

The engine needs only :func:`build_dataset` (see ``datasets.py`` for the item layout); the parts are public for
tools and tests. Names are imported on first use, so that ``videoshift`` commands start without loading torch.
"""

from __future__ import annotations

from videoshift._lazy import lazy_getattr

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
__getattr__ = lazy_getattr(__name__, _EXPORTS)
