"""The recognizer contract: what the engine, benchmarks, export and visualisation may rely on.

Every registered model satisfies :class:`Recognizer` (``isinstance(model, Recognizer)`` checks that each member is
there). Clips are ``(B, C, T, H, W)`` with ``T == num_frames``; features and logits are per clip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import nn

FAMILIES = ("cnn", "swin", "vit")
"""Recognizer families: 2D CNNs over frames (TSN/TSM/STSM/TANet/TDN), Swin video transformers (2D Swin, Video
Swin, PST) and per-frame ViTs (DeiT with TSM or TPS). Latency tables compare a model with the 2D model of its
family, as the papers do."""


@dataclass(frozen=True)
class CamLayer:
    """Where a recognizer's Grad-CAM is taken.

    Attributes:
        module: a module whose forward output is the feature map (hooked with a forward hook), or ``None``: the
            output of ``model.forward_features``.
        to_maps: turns that output (batch of one clip) into ``(C, T', h, w)``.
        description: for messages and figure captions.
    """

    module: nn.Module | None
    to_maps: Callable[[torch.Tensor], torch.Tensor]
    description: str


def is_head_key(key: str, head_keys: tuple[str, ...]) -> bool:
    """Whether a state-dict key or parameter name belongs to the classifier named by ``head_keys`` prefixes."""
    return any(key == head or key.startswith(head + ".") for head in head_keys)


@runtime_checkable
class Recognizer(Protocol):
    """A video classifier: backbone features, a head, and what training and weight loading need to know.

    Attributes:
        num_features: width of the pooled clip feature that ``forward_head(..., pre_logits=True)`` returns.
        num_classes: outputs of the classifier (0 without one).
        num_frames: frames per clip the model is built for.
        head_keys: state-dict key prefixes of the classifier, which a checkpoint of another task may lack or
            size differently (the loader re-initialises them) and which get the head's learning rate.
        imagenet_weights: timm's pretrained ``<architecture>.<tag>`` whose ImageNet weights
            ``create_model(..., pretrained=True)`` loads through :meth:`checkpoint_filter` (found or fetched by
            :mod:`videoshift.models.imagenet`), or ``None`` where the architecture has none.
        family: one of :data:`FAMILIES`.
        mixes_frames: whether frames exchange information before the temporal average (a shift, temporal
            windows or patches, temporal pooling); ``False`` for the 2D baselines (TSN, 2D Swin, 2D DeiT).
    """

    num_features: int
    num_classes: int
    num_frames: int
    head_keys: tuple[str, ...]
    imagenet_weights: str | None
    family: str
    mixes_frames: bool

    def __call__(self, clip: torch.Tensor) -> torch.Tensor: ...

    def forward_features(self, clip: torch.Tensor) -> torch.Tensor:
        """Backbone features of a clip, before pooling."""
        ...

    def forward_head(self, features: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Logits ``(B, num_classes)`` from features, or the pooled ``(B, num_features)`` with ``pre_logits``."""
        ...

    def reset_classifier(self, num_classes: int) -> None:
        """A new classifier for ``num_classes`` classes."""
        ...

    def no_weight_decay(self) -> set[str]:
        """Parameter names that the optimizer must not decay (position tables, tokens)."""
        ...

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute activations in backward to save memory."""
        ...

    def cam_layer(self) -> CamLayer:
        """The feature map that Grad-CAM explains (:mod:`videoshift.viz.gradcam`)."""
        ...

    def checkpoint_filter(self, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Convert a checkpoint of a supported upstream format to this model's keys and shapes."""
        ...
