"""Recognizers (backbone + head) for video, created by name through the registry."""

from videoshift.models import (
    deit_video,  # noqa: F401  (registers deit_s_*)
    shift_cnn,  # noqa: F401  (registers the TSN/TSM/STSM CNNs)
    swin_zoo,  # noqa: F401  (registers the Swin video models)
    tanet,  # noqa: F401  (registers TANet and STSM+TANet)
    tdn,  # noqa: F401  (registers TDN and STSM+TDN)
)
from videoshift.models.checkpoint import CheckpointError, load_checkpoint, read_state_dict
from videoshift.models.registry import create_model, is_model, list_models, register_model

__all__ = [
    "CheckpointError",
    "create_model",
    "is_model",
    "list_models",
    "load_checkpoint",
    "read_state_dict",
    "register_model",
]
