import math

import pytest
import torch
from engine_standins import TinyRecognizer

from videoshift.engine.config import DEFAULTS, deep_merge
from videoshift.engine.optim import build_optimizer, build_scheduler, lr_factor, param_groups


def _named(groups, model):
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: (g["weight_decay"], g["lr_mult"]) for g in groups for p in g["params"]}


def test_tps_groups_no_decay_for_norms_biases_and_listed_tables():
    model = TinyRecognizer()
    named = _named(
        param_groups(model, deep_merge(DEFAULTS["optim"], {"weight_decay": 0.05, "backbone_lr_mult": 0.1})), model
    )
    assert named == {
        "conv.weight": (0.05, 0.1),
        "conv.bias": (0.0, 0.1),
        "norm.weight": (0.0, 0.1),
        "norm.bias": (0.0, 0.1),
        "pos": (0.0, 0.1),  # model.no_weight_decay()
        "head.weight": (0.05, 1.0),
        "head.bias": (0.0, 1.0),
    }


def test_tsm_groups_double_bias_lr_and_fc_lr5():
    model = TinyRecognizer()
    cfg = deep_merge(DEFAULTS["optim"], {"param_groups": "tsm", "weight_decay": 1e-4, "fc_lr5": True})
    named = _named(param_groups(model, cfg), model)
    assert named["conv.weight"] == (1e-4, 1.0)
    assert named["conv.bias"] == (0.0, 2.0)
    assert named["norm.weight"] == (0.0, 1.0) and named["norm.bias"] == (0.0, 1.0)
    assert named["head.weight"] == (1e-4, 5.0) and named["head.bias"] == (0.0, 10.0)


def test_optimizer_lr_follows_groups_and_schedule():
    model = TinyRecognizer()
    optim_cfg = deep_merge(DEFAULTS["optim"], {"name": "sgd", "lr": 0.1, "param_groups": "tsm"})
    optimizer = build_optimizer(model, optim_cfg)
    assert isinstance(optimizer, torch.optim.SGD)
    sched_cfg = deep_merge(DEFAULTS["schedule"], {"name": "step", "milestones": [1], "gamma": 0.1})
    scheduler = build_scheduler(optimizer, sched_cfg, steps_per_epoch=2, epochs=2)
    lrs = []
    for _ in range(4):
        lrs.append({g["name"]: g["lr"] for g in optimizer.param_groups})
        optimizer.step()
        scheduler.step()
    bias = next(k for k in lrs[0] if k.endswith("x2"))
    assert [round(lr[bias], 6) for lr in lrs] == [0.2, 0.2, 0.02, 0.02]


def test_lr_factor_hand_values():
    cosine = deep_merge(DEFAULTS["schedule"], {"warmup_epochs": 1, "warmup_start_factor": 0.0})
    # 10 steps per epoch, 30 steps: warm-up over steps 0..9, cosine over the 20 after
    assert lr_factor(0, cosine, 10, 30) == 0.0
    assert lr_factor(5, cosine, 10, 30) == pytest.approx(0.5)
    assert lr_factor(10, cosine, 10, 30) == pytest.approx(1.0)
    assert lr_factor(20, cosine, 10, 30) == pytest.approx(0.5)  # half way: (1 + cos(pi/2)) / 2
    assert lr_factor(15, cosine, 10, 30) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert lr_factor(30, cosine, 10, 30) == pytest.approx(0.0)
    floor = deep_merge(cosine, {"min_lr_factor": 0.1})
    assert lr_factor(30, floor, 10, 30) == pytest.approx(0.1)
    step = deep_merge(DEFAULTS["schedule"], {"name": "step", "milestones": [2, 3], "gamma": 0.5})
    assert [lr_factor(s, step, 4, 16) for s in (7, 8, 11, 12)] == [1.0, 0.5, 0.5, 0.25]
