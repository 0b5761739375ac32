"""Stochastic depth rises linearly over all blocks of a model, not anew in each stage."""

from __future__ import annotations

import pytest

from videoshift.models import create_model

RATE = 0.7
SWIN_TINY = {"embed_dim": 8, "depths": (2, 2, 2, 2), "num_heads": (1, 1, 2, 2), "rpe": "general"}
DEIT_TINY = {"img_size": 32, "patch_size": 8, "embed_dim": 24, "depth": 4, "num_heads": 2}


def _prob(module) -> float:
    return float(getattr(module, "drop_prob", 0.0))  # nn.Identity where the rate is 0


def _block_rates(name: str, model) -> list[float]:
    if name.startswith(("pst", "swin", "video_swin")):
        return [_prob(block.drop_path) for stage in model.backbone.layers for block in stage.blocks]
    if name.startswith("deit"):
        return [_prob(block.drop_path1) for block in model.blocks]
    return [_prob(block.drop_path) for layer in range(1, 5) for block in getattr(model.backbone, f"layer{layer}")]


@pytest.mark.parametrize(
    ("name", "kwargs", "blocks"),
    [
        ("pst_t", SWIN_TINY, 8),  # 4 stages of 2 blocks
        ("video_swin_t", SWIN_TINY, 8),
        ("deit_s_tps", DEIT_TINY, 4),
        ("tsm_r50", {"backbone": "resnet18"}, 8),  # timm's ResNet, given the rate by ShiftCNN
    ],
)
def test_each_block_drops_its_share_of_a_linspace_over_all_blocks(name, kwargs, blocks):
    model = create_model(name, num_classes=3, drop_path_rate=RATE, **kwargs)
    hand = [RATE * k / (blocks - 1) for k in range(blocks)]  # 0, 0.1, ..., 0.7: one rise across all stages
    assert _block_rates(name, model) == pytest.approx(hand)
