"""Parameters and multiply-adds of the Swin video models against the papers and the release.

Counted on the meta device (shapes only), so the full-size models cost well under a second each.
"""

import pytest
import torch

from videoshift.models import create_model
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.papers import paper_setting
from videoshift.models.swin_zoo import SWIN_MODELS


def meta_counts(name, frames=32, size=224, **kwargs):
    with torch.device("meta"):
        model = create_model(name, **kwargs)
        clip = torch.empty(1, 3, frames, size, size)
    return count_params(model), count_macs(model, clip)


EXPECTED = {  # name: (parameters at 400 classes, G multiply-adds at 1x3x32x224x224)
    "pst_t": (28_531_222, 72.07),  # release: 28,223,622 backbone + 307,600 head
    "swin2d_t": (27_831_562, 72.07),  # bias tables 169 rows (2D) instead of 31 x 169
    "pst_b": (89_065_688, 247.19),
    "swin2d_b": (87_159_368, 247.19),
    "pst_t_tw2": (28_531_222, 74.31),  # paper: 74 G
    "pst_b_tw2": (89_065_688, 252.07),  # paper: 252 G
    "video_swin_t": (28_158_070, 87.76),  # "Local" 8x7x7, paper: 88 G, Video Swin: 28.2 M
    "video_swin_b": (88_048_984, 281.33),  # Video Swin-B: 88.1 M, 282 G
}


@pytest.mark.parametrize("name", SWIN_MODELS)
def test_full_size_counts(name):
    params, macs = meta_counts(name)
    assert (params, round(macs / 1e9, 2)) == EXPECTED[name]


def test_joint_video_swin_costs_106_g():
    params, macs = meta_counts("video_swin_t", window_size=(16, 7, 7))
    assert params == 28_531_222 and macs / 1e9 == pytest.approx(105.70, abs=0.005)


def test_patch_shift_costs_no_multiply_adds_over_2d_swin():
    assert meta_counts("pst_t")[1] == meta_counts("swin2d_t")[1] == 72_068_296_704


def test_bias_tables_are_the_release_parameter_difference():
    with torch.device("meta"):
        model = create_model("pst_t")
    tables = sum(p.numel() for n, p in model.named_parameters() if n.endswith("relative_position_bias_table"))
    assert tables == 722_982


@pytest.mark.parametrize("name", SWIN_MODELS)
def test_paper_settings_agree_with_the_models(name):
    setting = paper_setting(name)
    assert setting is not None and setting.frames == 32 and setting.top1
    params, gmacs = EXPECTED[name]
    assert gmacs == pytest.approx(setting.gmacs, rel=0.01)
    if setting.params_m is not None:  # Table 6 prints one merged cell per group: 2D Swin's bias tables are smaller
        assert params / 1e6 == pytest.approx(setting.params_m, rel=0.03 if setting.table == "6" else 0.01)
