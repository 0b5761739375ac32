"""The fine-tuning recipe of each model family, with where each number comes from (torch-free).

Learning rates are stated for a global batch (``lr_batch``); a run scales them linearly to its own global batch
(per-process batch x processes x accumulation, :func:`videoshift.engine.optim.scaled_lr`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FamilyRecipe:
    """How a family is fine-tuned.

    Attributes:
        optim: the config's ``optim`` section values (``lr`` at ``lr_batch``).
        lr_batch: the global batch ``optim["lr"]`` is stated for.
        schedule: the ``schedule`` section; ``milestones`` are fractions of the epochs.
        epochs, dropout, clip_grad_norm: the ``train.epochs``, the model's head ``dropout``, ``train.clip_grad_norm``.
        source: where the numbers come from.
    """

    optim: Mapping[str, Any]
    lr_batch: int
    schedule: Mapping[str, Any]
    epochs: int
    dropout: float
    clip_grad_norm: float | None
    source: str
    batch: int = field(default=8)  # the default per-process batch (a small GPU's or a CPU's)

    def schedule_for(self, epochs: int) -> dict[str, Any]:
        """The ``schedule`` section for a run of ``epochs`` epochs (milestones in epochs)."""
        out = dict(self.schedule)
        if "milestones" in out:
            out["milestones"] = [fraction * epochs for fraction in out["milestones"]]
        return out


CNN = FamilyRecipe(
    optim={"name": "sgd", "lr": 0.001, "momentum": 0.9, "weight_decay": 5e-4, "param_groups": "tsm", "fc_lr5": True},
    lr_batch=64,
    schedule={"name": "step", "milestones": [0.4, 0.8], "gamma": 0.1, "warmup_epochs": 0.0},
    epochs=25,
    dropout=0.8,
    clip_grad_norm=20.0,
    source="TSM repository, scripts/finetune_tsm_ucf101_rgb_8f.sh (Kinetics-400 to UCF101): SGD lr 0.001 at batch "
    "64, lr x0.1 at epochs 10 and 20 of 25, dropout 0.8, gradient-norm clip 20; weight decay 5e-4 and momentum 0.9 "
    "are its main.py defaults; TSM parameter groups with the head at x5/x10 lr (its fc_lr5 when tuning from another "
    "dataset)",
)
TRANSFORMER = FamilyRecipe(
    optim={"name": "adamw", "lr": 1e-4, "weight_decay": 0.02, "betas": [0.9, 0.999], "param_groups": "tps"},
    lr_batch=64,
    schedule={"name": "cosine", "warmup_epochs": 1.0, "warmup_start_factor": 0.01, "min_lr_factor": 0.0},
    epochs=30,
    dropout=0.5,
    clip_grad_norm=None,
    source="TPS/PST recipe (released code): AdamW, weight decay 0.02, cosine, batch 64, 30 epochs, head dropout "
    "0.5; lr 1e-4 is a tenth of its 1e-3 from ImageNet weights, and warm-up 1 epoch instead of 2.5, because the "
    "start is already a video model (videoshift's choice, as TSM fine-tunes at 1/20 of its training lr)",
)
FAMILY_RECIPES: dict[str, FamilyRecipe] = {"cnn": CNN, "swin": TRANSFORMER, "vit": TRANSFORMER}


def family_recipe(family: str) -> FamilyRecipe:
    """The recipe of a model family (``cnn``, ``swin``, ``vit``); any other family is fine-tuned like a
    transformer (AdamW is the safer optimizer for an architecture without a stated recipe)."""
    return FAMILY_RECIPES.get(family, TRANSFORMER)
