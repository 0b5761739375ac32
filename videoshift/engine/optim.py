"""Optimizers, parameter groups and per-iteration learning-rate schedules of the papers' recipes.

* TPS/PST (``param_groups: tps``): AdamW; norms, biases and the model's ``no_weight_decay()`` names (relative
  position tables) get no weight decay; everything but the classifier head may get a learning-rate multiplier.
* TSM/STSM (``param_groups: tsm``): SGD with momentum and the TSM policies: weights ×1 lr with decay, biases ×2 lr
  without decay, normalisation layers without decay; with ``fc_lr5`` the head weight gets ×5 lr and its bias ×10.

Each group carries ``lr_mult``; the schedule multiplies the base lr by its factor and by the group's multiplier,
so the groups keep their ratios through warm-up and decay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from videoshift.models.contract import Recognizer, is_head_key

_NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)


def _norm_param_names(model: nn.Module) -> set[str]:
    names = set()
    for module_name, module in model.named_modules():
        if isinstance(module, _NORM_TYPES):
            names.update(f"{module_name}.{p}" if module_name else p for p, _ in module.named_parameters(recurse=False))
    return names


def param_groups(model: Recognizer, optim_cfg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Split the trainable parameters of ``model`` into groups with ``weight_decay`` and ``lr_mult``.

    Uses only the recognizer contract: ``no_weight_decay()`` (parameter names) and ``head_keys`` (classifier
    prefixes). Empty groups are left out; every group has a ``name``.
    """
    no_decay_names = set(model.no_weight_decay())
    norm_names = _norm_param_names(model)
    head_keys = tuple(model.head_keys)
    weight_decay = float(optim_cfg["weight_decay"])
    backbone_mult = float(optim_cfg["backbone_lr_mult"])
    tsm = optim_cfg["param_groups"] == "tsm"
    groups: dict[str, dict[str, Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        head = is_head_key(name, head_keys)
        is_bias = name.endswith(".bias") or name == "bias"
        no_decay = name in norm_names or is_bias or name in no_decay_names or param.ndim <= 1
        lr_mult = 1.0 if head else backbone_mult
        if tsm:
            if head and optim_cfg["fc_lr5"]:
                lr_mult = 10.0 if is_bias else 5.0
            elif is_bias and name not in norm_names:
                lr_mult *= 2.0
        key = f"{'head' if head else 'backbone'}_{'no_decay' if no_decay else 'decay'}_x{lr_mult:g}"
        group = groups.setdefault(
            key, {"name": key, "params": [], "weight_decay": 0.0 if no_decay else weight_decay, "lr_mult": lr_mult}
        )
        group["params"].append(param)
    return list(groups.values())


def scaled_lr(lr: float, lr_batch: int, global_batch: int) -> float:
    """The linear scaling rule (Goyal et al. 2017, as the TSM and TPS recipes apply it): ``lr`` set for a global
    batch of ``lr_batch`` becomes ``lr * global_batch / lr_batch``."""
    if lr_batch < 1 or global_batch < 1:
        raise ValueError(f"batch sizes must be >= 1, got lr_batch={lr_batch} and global batch {global_batch}")
    return float(lr) * global_batch / lr_batch


def build_optimizer(model: nn.Module, optim_cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    """The optimizer of ``optim_cfg`` (AdamW or SGD with momentum) over :func:`param_groups`."""
    groups = param_groups(model, optim_cfg)
    lr = float(optim_cfg["lr"])
    for group in groups:
        group["lr"] = lr * group["lr_mult"]
    if optim_cfg["name"] == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(optim_cfg["betas"]))
    return torch.optim.SGD(groups, lr=lr, momentum=float(optim_cfg["momentum"]), nesterov=bool(optim_cfg["nesterov"]))


def lr_factor(step: int, schedule_cfg: Mapping[str, Any], steps_per_epoch: int, total_steps: int) -> float:
    """Factor of the base learning rate at optimizer step ``step`` (0-based), updated every iteration.

    Linear warm-up from ``warmup_start_factor`` to 1 over ``warmup_epochs``, then cosine decay to
    ``min_lr_factor`` at ``total_steps`` (``cosine``), multiplication by ``gamma`` at each epoch milestone
    (``step``), or 1 (``constant``).
    """
    warmup = round(float(schedule_cfg["warmup_epochs"]) * steps_per_epoch)
    if step < warmup:
        start = float(schedule_cfg["warmup_start_factor"])
        return start + (1.0 - start) * step / warmup
    name = schedule_cfg["name"]
    if name == "cosine":
        floor = float(schedule_cfg["min_lr_factor"])
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    if name == "step":
        passed = sum(step >= round(m * steps_per_epoch) for m in schedule_cfg["milestones"])
        return float(schedule_cfg["gamma"]) ** passed
    return 1.0


def build_scheduler(
    optimizer: torch.optim.Optimizer, schedule_cfg: Mapping[str, Any], steps_per_epoch: int, epochs: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-iteration ``LambdaLR`` following :func:`lr_factor` (call ``step()`` after every optimizer step)."""
    total = steps_per_epoch * epochs
    cfg = dict(schedule_cfg)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, cfg, steps_per_epoch, total))
