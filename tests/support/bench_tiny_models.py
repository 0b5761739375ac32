"""Tiny stand-in recognizers whose parameters and multiply-adds are computed by hand.

Importing this module registers nothing (so the registry other tests iterate over stays clean):
tests call :func:`register` inside a patched registry, and the memory subprocesses import
``bench_tiny_register``, which calls it.
"""

import torch
from torch import nn

from videoshift.models import is_model, register_model


class TinyConv3d(nn.Module):
    """Conv3d (1×3×3, ``width`` filters, bias) → ReLU → global average → Linear."""

    def __init__(self, num_classes: int, num_frames: int, width: int = 4) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.conv = nn.Conv3d(3, width, (1, 3, 3), padding=(0, 1, 1))
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3, 4)))


def bench_tiny_conv3d(num_classes: int = 400, num_frames: int = 4, width: int = 4, **kwargs) -> TinyConv3d:
    """Registered as ``bench_tiny_conv3d``: 4 filters by default."""
    return TinyConv3d(num_classes, num_frames, width)


def bench_tiny_conv3d_wide(num_classes: int = 400, num_frames: int = 4, width: int = 12, **kwargs) -> TinyConv3d:
    """Registered as ``bench_tiny_conv3d_wide``: 12 filters by default."""
    return TinyConv3d(num_classes, num_frames, width)


def expected_params(width: int, num_classes: int) -> int:
    return (width * 3 * 9 + width) + (width * num_classes + num_classes)


def expected_macs(width: int, num_classes: int, frames: int, size: int) -> int:
    """At batch 1: every output voxel of the conv costs 3·1·3·3 multiply-adds; the Linear width·classes."""
    return width * frames * size * size * 27 + width * num_classes


def register() -> None:
    """Register the tiny models in the current registry (those already there are left alone)."""
    for factory in (bench_tiny_conv3d, bench_tiny_conv3d_wide):
        if not is_model(factory.__name__):
            register_model(factory)
