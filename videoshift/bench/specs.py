"""What one benchmarked model is, and how it is built, fed and trained for a step.

A :class:`ModelSpec` names a registered model, its keyword arguments and its input clip; :class:`RunSettings`
say how every model of one benchmark is built and fed. :mod:`videoshift.bench.models` times them,
:mod:`videoshift.bench.memory` measures their peak memory (also in a subprocess, from these two as JSON) and
:mod:`videoshift.bench.deploy` exports and streams them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ModelSpec:
    """A model to benchmark: the registry name, its keyword arguments and its input clip.

    Attributes:
        label: the name the row is shown under.
        name: registered model name (``videoshift.models.create_model``).
        kwargs: extra keyword arguments for the model's entrypoint.
        frames: input frames T (also passed as ``num_frames``).
        size: input height and width.
    """

    label: str
    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    frames: int = 32
    size: int = 224


@dataclass(frozen=True)
class RunSettings:
    """How every model of one benchmark is built and fed.

    Attributes:
        device: ``"cpu"`` or ``"cuda[:N]"``.
        dtype: name of the torch dtype of weights and inputs (``"float32"``, ``"bfloat16"``, ``"float16"``).
        channels_last: store 2D/3D convolution weights channels-last.
        num_classes: classifier width.
        imports: modules imported before building (they register extra models), also in subprocesses.
        threads: torch CPU threads; ``None`` keeps torch's choice.
    """

    device: str = "cpu"
    dtype: str = "float32"
    channels_last: bool = False
    num_classes: int = 400
    imports: tuple[str, ...] = ()
    threads: int | None = None


def import_modules(names: Iterable[str]) -> None:
    """Import ``names`` so that the models they register can be created."""
    for name in names:
        importlib.import_module(name)


def _tuples(value: Any) -> Any:
    """Lists (from JSON or YAML) back to tuples, the form models take window sizes and depths in."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def build_model(spec: ModelSpec, settings: RunSettings) -> nn.Module:
    """Create ``spec``'s model in eval mode on the settings' device and dtype."""
    from videoshift.models import create_model

    kwargs = {key: _tuples(value) for key, value in spec.kwargs.items()}
    model = create_model(spec.name, num_classes=settings.num_classes, num_frames=spec.frames, **kwargs)
    model = model.to(device=settings.device, dtype=getattr(torch, settings.dtype)).eval()
    if settings.channels_last:
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.to(memory_format=torch.channels_last)
            elif isinstance(module, nn.Conv3d):
                module.to(memory_format=torch.channels_last_3d)
    return model


def make_clip(spec: ModelSpec, settings: RunSettings, batch: int) -> torch.Tensor:
    """A random ``(batch, 3, T, H, W)`` clip for ``spec`` (seeded, so every model sees the same)."""
    generator = torch.Generator().manual_seed(0)
    clip = torch.randn(batch, 3, spec.frames, spec.size, spec.size, generator=generator)
    return clip.to(device=settings.device, dtype=getattr(torch, settings.dtype))


def training_step(model: nn.Module, clip: torch.Tensor, optimizer: torch.optim.Optimizer) -> torch.Tensor:
    """One training step on ``clip``: forward, cross-entropy against class 0, backward, ``optimizer`` step."""
    optimizer.zero_grad(set_to_none=True)
    target = torch.zeros(clip.shape[0], dtype=torch.long, device=clip.device)
    loss = F.cross_entropy(model(clip).float(), target)
    loss.backward()
    optimizer.step()
    return loss
