"""A checkpoint tensor of the wrong shape is named with both shapes, in every model family."""

from __future__ import annotations

import re

import pytest
import torch
from tiny_models import build

from videoshift.models import load_checkpoint
from videoshift.models.checkpoint import CheckpointError
from videoshift.models.contract import is_head_key

ONE_PER_FAMILY = ["tsm_r50", "tsm_mbv2", "tanet_r50", "tdn_r50", "deit_s_tps", "pst_t"]


@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_a_misshaped_backbone_tensor_is_named_with_both_shapes(name, tmp_path):
    model, _ = build(name)
    state = model.state_dict()
    key = next(k for k, v in state.items() if v.ndim >= 2 and not is_head_key(k, tuple(model.head_keys)))
    model_shape = tuple(state[key].shape)
    wrong_shape = (model_shape[0] + 1, *model_shape[1:])
    torch.save({**state, key: torch.zeros(wrong_shape)}, tmp_path / "wrong.pth")  # through the real file format
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(model, tmp_path / "wrong.pth")
    message = str(caught.value)
    assert f"{key}: checkpoint {wrong_shape} vs model {model_shape}" in message
    assert not re.search(r"missing keys:.*" + re.escape(key), message)  # a wrong shape, not an absent key
