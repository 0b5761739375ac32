"""Recognizers (backbone + head) for video, created by name through the registry.

Names are imported on first use, so that the command line imports ``videoshift.models.cli`` (and parses its
arguments) without loading torch; the registry imports the model families when a model is first looked up.
"""

from __future__ import annotations

from videoshift._lazy import lazy_getattr

_EXPORTS = {
    "CheckpointError": "checkpoint",
    "load_checkpoint": "checkpoint",
    "read_state_dict": "checkpoint",
    "create_model": "registry",
    "is_model": "registry",
    "list_models": "registry",
    "register_model": "registry",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
