"""The CNN shifts act on the residual branch only, compared with a reference built by hand.

TSM's "residual shift" (and STSM, inserted at the same place) shifts the input of a block's first convolution;
the skip connection (identity or downsample) carries the unshifted features. The reference here takes a TSN
model with the same weights and puts the shift in front of each residual block's first convolution by replacing
that convolution with ``Sequential(shift, conv)``; the model under test must give the same logits. A second
reference shifts the whole block input instead, to show that the comparison tells the two placements apart.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from tiny_models import randomise_norms
from torch import nn

from videoshift.models import create_model
from videoshift.models.shift_cnn import residual_stages
from videoshift.ops import SpatioTemporalShift, TemporalShift

FRAMES = 4
BACKBONES = {"r50": "resnet18", "mbv2": "mobilenetv2_050"}  # small backbones of the same block types


def _randomise_norms(model: nn.Module) -> nn.Module:
    """timm zero-initialises the last norm of each residual branch, hiding the branch: random affine and stats."""
    return randomise_norms(model, seed=3)


def _paper_shift(family: str) -> nn.Module:
    return TemporalShift(FRAMES, 8) if family == "tsm" else SpatioTemporalShift(FRAMES, 3 / 8, "T+H+W")


def _first_conv_name(block: nn.Module) -> str:
    return "conv1" if isinstance(getattr(block, "conv1", None), nn.Conv2d) else "conv_pw"


class _ShiftedInput(nn.Module):
    def __init__(self, shift: nn.Module, block: nn.Module) -> None:
        super().__init__()
        self.shift, self.block = shift, block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(self.shift(x))


def _reference(family: str, size: str, state: dict, whole_block: bool = False) -> nn.Module:
    """TSN with ``state``'s weights, the shift put in by hand before each residual branch (or block)."""
    model = create_model(f"tsn_{size}", backbone=BACKBONES[size], num_classes=5, num_frames=FRAMES)
    model.load_state_dict(state)
    stages = residual_stages(model.backbone)
    for name, block in itertools.chain(*stages):
        parent_name, index = name.rsplit(".", 1)
        parent = model.backbone.get_submodule(parent_name)
        if whole_block:
            parent[int(index)] = _ShiftedInput(_paper_shift(family), block)
        else:
            conv_name = _first_conv_name(block)
            setattr(block, conv_name, nn.Sequential(_paper_shift(family), getattr(block, conv_name)))
    return model.eval()


@pytest.mark.parametrize("size", ["r50", "mbv2"])
@pytest.mark.parametrize("family", ["tsm", "stsm"])
def test_shift_sits_on_the_residual_branch_only(family, size):
    torch.manual_seed(0)
    model = _randomise_norms(
        create_model(f"{family}_{size}", backbone=BACKBONES[size], num_classes=5, num_frames=FRAMES)
    )
    model.eval()
    state = model.state_dict()
    x = torch.randn(1, 3, FRAMES, 24, 24, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(x)
        branch_only = _reference(family, size, state)(x)
        whole_block = _reference(family, size, state, whole_block=True)(x)
    torch.testing.assert_close(out, branch_only, rtol=1e-5, atol=1e-5)
    assert (branch_only - whole_block).abs().max() > 1e-3  # the two placements give different logits
