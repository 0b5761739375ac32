"""The recognizer contract: what the engine, benchmarks, export and visualisation may rely on.

Every registered model satisfies :class:`Recognizer` (``isinstance(model, Recognizer)`` checks that each member is
there). Clips are ``(B, C, T, H, W)`` with ``T == num_frames``; features and logits are per clip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import torch


def is_head_key(key: str, head_keys: tuple[str, ...]) -> bool:
    """Whether a state-dict key or parameter name belongs to the classifier named by ``head_keys`` prefixes."""
    return any(key == head or key.startswith(head + ".") for head in head_keys)


@runtime_checkable
class Recognizer(Protocol):
    """A video classifier: backbone features, a head, and what training and weight loading need to know.

    Attributes:
        num_features: width of the pooled clip feature that ``forward_head(..., pre_logits=True)`` returns.
        num_frames: frames per clip the model is built for.
        head_keys: state-dict key prefixes of the classifier, which a checkpoint of another task may lack or
            size differently (the loader re-initialises them) and which get the head's learning rate.
        imagenet_weights: the timm model whose ImageNet weights ``create_model(..., pretrained=True)`` loads
            through :meth:`checkpoint_filter`, or ``None`` where the architecture has none.
    """

    num_features: int
    num_frames: int
    head_keys: tuple[str, ...]
    imagenet_weights: str | None

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

    def checkpoint_filter(self, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Convert a checkpoint of a supported upstream format to this model's keys and shapes."""
        ...
