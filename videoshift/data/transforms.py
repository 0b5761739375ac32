"""Clip transforms on whole clips: every random choice is made once per clip and applied to all its frames.

Frames arrive as uint8 ``(T, H, W, 3)`` from a reader and are wrapped as a ``torchvision.tv_tensors.Video``
``(T, C, H, W)``, so that ``torchvision.transforms.v2`` (resize, crops, RandAugment/AutoAugment, random erasing)
draws its parameters once and applies them to every frame. TSN's MultiScaleCrop and MMAction2's ThreeCrop are
written here as v2 transforms. A horizontal flip also mirrors the label of direction classes (``flip_pairs``).

Output: training ``(C, T, H, W)`` float32; test ``(crops, C, T, H, W)`` (one view per crop).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from videoshift.data.settings import TransformConfig


class MultiScaleCrop(v2.Transform):
    """TSN multi-scale crop: width and height from ``scales × min(H, W)`` (at most ``max_gap`` scale steps apart),
    placed at one of the 5 or 13 fixed TSN positions (or anywhere with ``random_crop``), then resized to ``size``.
    """

    def __init__(
        self,
        size: int,
        scales: Sequence[float] = (1, 0.875, 0.75, 0.66),
        max_gap: int = 1,
        num_fixed_crops: int = 13,
        random_crop: bool = False,
    ) -> None:
        super().__init__()
        if num_fixed_crops not in (5, 13):
            raise ValueError(f"num_fixed_crops must be 5 or 13, got {num_fixed_crops}")
        self.size, self.scales, self.max_gap = size, tuple(scales), max_gap
        self.num_fixed_crops, self.random_crop = num_fixed_crops, random_crop

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        height, width = v2.query_size(flat_inputs)
        sides = [int(min(height, width) * s) for s in self.scales]
        pairs = [(h, w) for i, h in enumerate(sides) for j, w in enumerate(sides) if abs(i - j) <= self.max_gap]
        crop_h, crop_w = pairs[int(torch.randint(len(pairs), ()))]
        if self.random_crop:
            top = int(torch.randint(height - crop_h + 1, ()))
            left = int(torch.randint(width - crop_w + 1, ()))
        else:
            hs, ws = (height - crop_h) // 4, (width - crop_w) // 4
            grid = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2)]
            if self.num_fixed_crops == 13:
                grid += [(2, 0), (2, 4), (4, 2), (0, 2), (1, 1), (1, 3), (3, 1), (3, 3)]
            row, col = grid[int(torch.randint(len(grid), ()))]
            top, left = row * hs, col * ws
        return {"top": top, "left": left, "height": crop_h, "width": crop_w}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._call_kernel(F.resized_crop, inpt, **params, size=[self.size, self.size], antialias=True)


def three_crop(video: torch.Tensor, size: int) -> list[torch.Tensor]:
    """Three ``size``² crops along the longer side (start, centre, end), centred on the shorter side (MMAction2)."""
    height, width = video.shape[-2:]
    if size > min(height, width):
        raise ValueError(f"crop size {size} exceeds the clip's shorter side ({height}x{width})")
    if height > width:
        top, left = [0, (height - size) // 2, height - size], [(width - size) // 2] * 3
    else:
        top, left = [(height - size) // 2] * 3, [0, (width - size) // 2, width - size]
    return [F.crop(video, t, lft, size, size) for t, lft in zip(top, left, strict=True)]


def mirror_label(label: torch.Tensor, flip_map: Mapping[int, int]) -> torch.Tensor:
    """The label of the mirrored clip: class ids swapped by ``flip_map`` (int label or multi-hot vector)."""
    if not flip_map:
        return label
    if label.ndim == 0:
        return torch.tensor(flip_map.get(int(label), int(label)), dtype=label.dtype)
    order = torch.arange(label.numel())
    for src, dst in flip_map.items():
        order[dst] = src
    return label[order]


class ClipTransform:
    """Frames uint8 ``(T, H, W, 3)`` + label → clip float + label (see module docstring for layouts).

    Args:
        config: the transform settings.
        train: random augmentation (training) or deterministic crops (val/test).
        flip_map: ``{label: mirrored label}`` applied when a training clip is flipped.
    """

    def __init__(self, config: TransformConfig, *, train: bool, flip_map: Mapping[int, int] | None = None) -> None:
        self.config, self.train, self.flip_map = config, train, dict(flip_map or {})
        scale = 255.0 if max(config.mean) > 1.0 else 1.0  # MMAction2 configs give 0-255 statistics
        self.normalize = v2.Compose(
            [
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize([m / scale for m in config.mean], [s / scale for s in config.std]),
            ]
        )
        self.resize = v2.Resize(config.short_side, antialias=True)
        self.crop = self._train_crop() if train else None
        augment = {"rand": v2.RandAugment(), True: v2.RandAugment(), "auto": v2.AutoAugment()}
        self.augment = augment.get(config.autoaugment) if train else None
        self.erase = v2.RandomErasing(p=config.random_erasing) if train and config.random_erasing > 0 else None

    def _train_crop(self) -> v2.Transform:
        size = self.config.input_size
        if self.config.train_crop == "random_resized":
            return v2.RandomResizedCrop(size, scale=self.config.crop_scale, antialias=True)
        if self.config.train_crop == "multiscale":
            return MultiScaleCrop(size)
        return v2.CenterCrop(size)

    def __call__(self, frames: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
            raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {tuple(frames.shape)}")
        video = self.resize(tv_tensors.Video(frames.permute(0, 3, 1, 2)))
        if not self.train:
            return torch.stack([self.normalize(view).permute(1, 0, 2, 3) for view in self._test_crops(video)]), label
        video = self.crop(video)
        if self.config.flip and bool(torch.rand(()) < 0.5):
            video, label = F.horizontal_flip(video), mirror_label(label, self.flip_map)
        if self.augment is not None:
            video = self.augment(video)
        video = self.normalize(video)
        if self.erase is not None:
            video = self.erase(video)
        return video.permute(1, 0, 2, 3).as_subclass(torch.Tensor), label  # (T, C, H, W) -> (C, T, H, W)

    def _test_crops(self, video: torch.Tensor) -> list[torch.Tensor]:
        size, crops = self.config.input_size, self.config.test_crops
        if crops == 1:
            return [F.center_crop(video, [size, size])]
        if crops == 3:
            return three_crop(video, size)
        return list(F.ten_crop(video, [size, size]))
