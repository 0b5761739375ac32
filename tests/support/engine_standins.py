"""Tiny stand-ins that follow the model and data contracts, for engine tests (and their subprocesses).

Run as a script, it registers the stand-in model, routes ``build_datasets`` to the in-memory data and runs the
``videoshift`` command line with the remaining arguments.
"""

from __future__ import annotations

import os
import sys
import time

import torch
from torch import nn
from torch.utils.data import Dataset

MODEL_NAME = "engine_test_net"
DELAY_VARIABLE = "ENGINE_STANDIN_DELAY"  # seconds each stand-in item sleeps, to slow a subprocess run enough to kill it


class TinyRecognizer(nn.Module):
    """A 3D conv over (T, H, W) + mean pool + linear head; no batch statistics, optional dropout."""

    head_keys = ("head",)
    imagenet_weights = None
    family = "other"
    mixes_frames = True  # the 3D conv sees two frames at once

    def __init__(self, num_classes: int = 4, num_frames: int = 4, width: int = 8, dropout: float = 0.0, **_: object):
        super().__init__()
        self.num_frames, self.num_features = num_frames, width
        self.conv = nn.Conv3d(3, width, kernel_size=(2, 3, 3), padding=(0, 1, 1))
        self.norm = nn.LayerNorm(width)
        self.pos = nn.Parameter(torch.zeros(width))  # listed by no_weight_decay
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, num_classes)

    @property
    def num_classes(self) -> int:
        return self.head.out_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(torch.relu(self.conv(x)).mean((2, 3, 4)) + self.pos)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return x if pre_logits else self.head(self.drop(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def reset_classifier(self, num_classes: int) -> None:
        self.head = nn.Linear(self.num_features, num_classes)

    def no_weight_decay(self) -> set[str]:
        return {"pos"}

    def checkpoint_filter(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return dict(state_dict)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable


def engine_test_net(**kwargs: object) -> TinyRecognizer:
    return TinyRecognizer(**kwargs)


class TinyMotion(Dataset):
    """A bright dot moving right (class 0), left (1), down (2) or up (3) over T frames; train clips get noise."""

    num_classes = 4
    class_names = ("right", "left", "down", "up")
    skipped = 0

    def __init__(self, num_samples: int, split: str, num_frames: int = 4, size: int = 8, delay: float = 0.0) -> None:
        self.num_samples, self.split, self.num_frames, self.size = num_samples, split, num_frames, size
        self.delay = delay  # seconds per item, to slow a subprocess run down enough to kill it mid-way

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> dict:
        if self.delay:
            time.sleep(self.delay)
        label = index % 4
        clip = torch.zeros(3, self.num_frames, self.size, self.size)
        start = (index * 7) % 3
        for t in range(self.num_frames):
            step = start + t if label in (0, 2) else start + self.num_frames - 1 - t
            row, col = (self.size // 2, step) if label < 2 else (step, self.size // 2)
            clip[:, t, row, col] = 1.0
        # train: augmentation drawn from torch's RNG; val: one view (V=1, C, T, H, W)
        clip = clip + 0.05 * torch.randn_like(clip) if self.split == "train" else clip[None]
        return {"clip": clip, "label": torch.tensor(label), "index": index}


def register(monkeypatch=None) -> None:
    """Register the stand-in model (through ``monkeypatch`` in tests, for good in a subprocess)."""
    from videoshift.models import registry

    if monkeypatch is not None:
        monkeypatch.setitem(registry._MODEL_ENTRYPOINTS, MODEL_NAME, engine_test_net)
    elif not registry.is_model(MODEL_NAME):
        registry.register_model(engine_test_net)


def tiny_datasets(data_cfg) -> tuple[TinyMotion, TinyMotion]:
    n = data_cfg.get("synthetic", {})
    delay = float(os.environ.get(DELAY_VARIABLE, "0"))  # not a data key: configs hold only the schema's keys
    return TinyMotion(n.get("num_train", 32), "train", delay=delay), TinyMotion(
        n.get("num_val", 16), "val", delay=delay
    )


def tiny_config(**sections) -> dict:
    """A resolved config training the stand-in on the stand-in data (sections update the defaults)."""
    from videoshift.engine.config import DEFAULTS, deep_merge, validate_config

    base = {
        "name": "tiny",
        "model": {"name": MODEL_NAME},
        "data": {"dataset": "synthetic", "synthetic": {"num_train": 32, "num_val": 16}},
        "optim": {"lr": 0.01, "weight_decay": 0.01},
        "train": {"epochs": 2, "batch_size": 4, "num_workers": 0, "threads": 1, "device": "cpu"},
    }
    cfg = deep_merge(deep_merge(DEFAULTS, base), sections)
    validate_config(cfg)
    return cfg


class Crash(Exception):
    """Raised by :func:`crash_at_step` in place of an optimizer step, as if the process died there."""


def crash_at_step(trainer, monkeypatch, step: int, check=None) -> dict:
    """Run ``trainer.fit()`` until its optimizer step ``step`` and stop it there as a crash would.

    ``check(trainer, micro_batches)``, when given, runs before every step. Returns the checkpoint it left.
    """
    import pytest

    from videoshift.engine import checkpointing
    from videoshift.engine.train import Trainer

    original = Trainer.optimizer_step

    def step_then_crash(self, micro):
        if check is not None:
            check(self, micro)
        if self.global_step == step:
            raise Crash
        return original(self, micro)

    monkeypatch.setattr(Trainer, "optimizer_step", step_then_crash)
    with pytest.raises(Crash):
        trainer.fit()
    monkeypatch.setattr(Trainer, "optimizer_step", original)
    return checkpointing.load(trainer.run_dir / "latest.pth")


if __name__ == "__main__":
    import videoshift.engine.train as train_module
    from videoshift.cli import main

    register()
    train_module.build_datasets = tiny_datasets
    sys.exit(main(sys.argv[1:]))
