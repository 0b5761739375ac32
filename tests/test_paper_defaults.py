"""Every default that defines a paper's model or recipe, pinned against explicit numbers.

The paper configs pass only ``dropout`` and ``drop_path_rate``; everything else that makes a model "the paper's"
(TSM's fold 1/8, STSM's α = 3/8 over ``T+H+W``, TCS's head_dim/8, PST's pattern, alternation and windows, the †
settings, DeiT's shifted blocks) comes from defaults. So each model is built the way the engine builds it
(``load_config`` → ``model_arguments`` → ``create_model``, on the meta device: no weights, no compute), and its
shift modules are run on a small CPU tensor and compared with the naive element-by-element references of
``tests/support/ops_reference.py`` at the paper's settings, written out here. The operator functions and modules
are pinned the same way when called without the optional arguments.
"""

from __future__ import annotations

import functools

import pytest
import torch
from builtin_configs import PAPER_CONFIGS as PAPER_CONFIG_PATHS
from ops_reference import forward, stsm_rule, tcs_rule, tsm_rule

from videoshift.engine.config import load_config
from videoshift.engine.train import model_arguments
from videoshift.models import create_model
from videoshift.models.deit_video import PatchTokenShift, TokenChannelShift
from videoshift.models.papers import paper_row
from videoshift.models.swin_video import ShiftSettings
from videoshift.ops import (
    PSTChannelShift,
    SpatioTemporalShift,
    TemporalShift,
    pst_channel_shift,
    resolve_pattern,
    spatiotemporal_shift,
    temporal_shift,
)

PAPER_CONFIGS = [path.stem for path in PAPER_CONFIG_PATHS]

# ---------------------------------------------------------------------------------------------- the papers
TSM_SHIFT_DIV = 8  # TSM: 1/8 of the channels move each way (C/8 from t+1, C/8 from t-1)
STSM_ALPHA, STSM_DIMS = 3 / 8, "T+H+W"  # STSM paper, Table 3 / Sec. 4: alpha 3/8 split over T, H and W
TCS_DIV = 8  # PST's temporal channel shift: head_dim/8 channels of every head each way
# The released PST pattern (MartinXM/TPS): source-frame offsets indexed by (h % 3, w % 3); the paper's pattern C
# ((-4, 1, 2), (-1, 0, 3), (-2, -3, 4)) mirrored in time.
OFFICIAL_PATTERN = ((4, -1, -2), (1, 0, -3), (2, 3, -4))
PAPER_C = ((-4, 1, 2), (-1, 0, 3), (-2, -3, 4))
SWIN = {
    "t": {"embed_dim": 96, "depths": (2, 2, 6, 2), "num_heads": (3, 6, 12, 24), "drop_path_rate": 0.1},
    "b": {"embed_dim": 128, "depths": (2, 2, 18, 2), "num_heads": (4, 8, 16, 32), "drop_path_rate": 0.2},
}
PST_SHIFT = ShiftSettings(
    mixing="pst",  # TCS in the even blocks, TPS in the odd ones
    pattern="official",
    tps_stages=(0, 1, 2, 3),
    alternate=True,
    shift_back=True,
    shift_rpe=True,
    channel_div=8,
)
# (window, rpe) of PST and of PST† ("temporal attention window 2")
PST_WINDOW = {"pst": ((1, 7, 7), "official"), "pst_tw2": ((2, 7, 7), "general")}
DEIT_S = {"embed_dim": 384, "depth": 12, "num_heads": 6, "patch_size": 16, "img_size": 224}

FRAMES = 8  # frames of the small test tensors


def _frames(cfg, key: str = "sampling") -> int:
    """Frames per clip as the engine sees them (TDN widens each segment into ``segment_frames`` frames)."""
    sampling = cfg["data"][key]
    return int(sampling.get("num_frames") or sampling["clip_len"]) * int(sampling.get("segment_frames", 1))


@functools.cache
def built(config_name: str):
    """``(cfg, model)`` built as the engine builds a config's model (without the ImageNet download), on meta."""
    cfg = load_config(config_name)
    arguments = model_arguments(cfg, int(cfg["data"]["num_classes"]), _frames(cfg))
    kwargs = {k: v for k, v in arguments["kwargs"].items() if k != "pretrained"}
    with torch.device("meta"):
        model = create_model(arguments["name"], **kwargs)
    return cfg, model


@functools.cache
def _meta_model(name: str):
    with torch.device("meta"):
        return create_model(name)


def _configs(prefixes: tuple[str, ...]) -> list[str]:
    return [name for name in PAPER_CONFIGS if name.startswith(prefixes)]


def _cnn_input(channels: int = 64, size: int = 3) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(2 * FRAMES, channels, size, size)


@functools.cache
def tsm_reference(channels: int = 64) -> torch.Tensor:
    return forward(_cnn_input(channels), tsm_rule(FRAMES, TSM_SHIFT_DIV, channels))


@functools.cache
def stsm_reference(channels: int = 64) -> torch.Tensor:
    # alpha 3/8 of 64 channels over 3 groups: floor(24 / 3) = 8 channels each (T, then H, then W)
    share = int(STSM_ALPHA * channels) // 3
    groups = [(axis, share - share % 2) for axis in STSM_DIMS.split("+")]
    return forward(_cnn_input(channels), stsm_rule(FRAMES, groups, 3, 3))


def test_the_references_tell_the_paper_settings_apart():
    x = _cnn_input()
    assert not torch.equal(tsm_reference(), forward(x, tsm_rule(FRAMES, 4, 64)))
    quarter = [(axis, 4) for axis in "THW"]  # alpha 1/4: floor(16 / 3) = 5 -> 4 channels a group
    assert not torch.equal(stsm_reference(), forward(x, stsm_rule(FRAMES, quarter, 3, 3)))


# ---------------------------------------------------------------------------------------- operator defaults
def test_operator_defaults_are_the_papers():
    x = _cnn_input()
    torch.testing.assert_close(temporal_shift(x, FRAMES), tsm_reference(), rtol=0, atol=0)
    torch.testing.assert_close(TemporalShift(FRAMES)(x), tsm_reference(), rtol=0, atol=0)
    torch.testing.assert_close(spatiotemporal_shift(x, FRAMES), stsm_reference(), rtol=0, atol=0)
    torch.testing.assert_close(SpatioTemporalShift(FRAMES)(x), stsm_reference(), rtol=0, atol=0)
    torch.manual_seed(1)
    tokens = torch.randn(1, 4, 2, 3, 2 * 16)  # (B, T, H, W, C), 2 heads of 16 channels: fold 2
    expected = forward(tokens, tcs_rule(4, 2, TCS_DIV, 32))
    torch.testing.assert_close(pst_channel_shift(tokens, 2), expected, rtol=0, atol=0)
    torch.testing.assert_close(PSTChannelShift(2)(tokens), expected, rtol=0, atol=0)
    assert TemporalShift(FRAMES).convention == "tsm"


def test_named_patterns_are_the_released_and_the_papers():
    assert resolve_pattern("official").tolist() == [list(row) for row in OFFICIAL_PATTERN]
    assert resolve_pattern("C").tolist() == [list(row) for row in PAPER_C]
    assert ShiftSettings().pattern == "official" and ShiftSettings().channel_div == TCS_DIV


# ------------------------------------------------------------------------------------------------ TSN/TSM/STSM
def _shift_modules(model) -> list[torch.nn.Module]:
    return [m for m in model.modules() if isinstance(m, (TemporalShift, SpatioTemporalShift))]


@pytest.mark.parametrize(
    "name", [n for n in _configs(("tsn_", "tsm_", "stsm_")) if "tanet" not in n and "tdn" not in n]
)
def test_cnn_configs_build_the_papers_shift(name):
    cfg, model = built(name)
    shifts = _shift_modules(model)
    family = name.split("_")[0]
    blocks = 10 if "mbv2" in name else 16  # MobileNetV2: the 10 blocks with a skip; ResNet-50: 16 bottlenecks
    assert len(shifts) == (0 if family == "tsn" else blocks)
    assert model.num_frames == _frames(cfg) == FRAMES
    x = _cnn_input()
    for shift in shifts:  # every block's shift, run on a CPU tensor (the modules hold no parameters)
        reference = tsm_reference() if family == "tsm" else stsm_reference()
        torch.testing.assert_close(shift(x), reference, rtol=0, atol=0)
    assert model.head.drop.p == 0.5
    expected_nl = {"layer2_0", "layer2_2", "layer3_0", "layer3_2", "layer3_4"} if "_nl_" in name else set()
    assert set(model.non_local.keys()) == expected_nl  # TSM+NL: after blocks 0, 2 of layer2 and 0, 2, 4 of layer3
    assert model.temporal_pool is None


@pytest.mark.parametrize("name", ["tsm_r50", "stsm_r50", "tsm_mbv2", "stsm_mbv2", "tsm_r50_nl", "stsm_r50_nl"])
def test_cnn_factories_default_to_the_papers_shift(name):
    model = _meta_model(name)
    reference = tsm_reference() if name.startswith("tsm") else stsm_reference()
    for shift in _shift_modules(model):
        torch.testing.assert_close(shift(_cnn_input()), reference, rtol=0, atol=0)
    assert model.num_frames == 8 and model.head.drop.p == 0.5


# ------------------------------------------------------------------------------------------------------ PST
def _drop_prob(module) -> float:
    return float(getattr(module, "drop_prob", 0.0))  # nn.Identity where the rate is 0


@pytest.mark.parametrize("name", _configs(("pst_",)))
def test_pst_configs_build_the_papers_model(name):
    cfg, model = built(name)
    size = name.split("_")[1]
    arch = SWIN[size]
    window, rpe = PST_WINDOW["pst_tw2" if "_tw2_" in name else "pst"]
    backbone = model.backbone
    assert backbone.shift == PST_SHIFT
    assert (backbone.patch_size, backbone.window_size, backbone.rpe) == ((2, 4, 4), window, rpe)
    assert backbone.embed_dim == arch["embed_dim"] and backbone.num_frames == 32
    assert backbone.table_extent == (16, 7, 7)  # 32 frames / tubelet 2 = 16 temporal tokens
    assert tuple(len(stage.blocks) for stage in backbone.layers) == arch["depths"]
    rate = cfg["model"]["kwargs"]["drop_path_rate"]
    assert rate == arch["drop_path_rate"]
    total = sum(arch["depths"])
    k = 0
    for s, stage in enumerate(backbone.layers):
        for i, block in enumerate(stage.blocks):
            assert block.kind == ("tps" if i % 2 else "tcs"), (s, i)  # alternate: TCS, TPS, TCS, ...
            assert block.num_heads == arch["num_heads"][s]
            assert block.window_size == window
            assert block.shift_size == ((window[0] // 2, 3, 3) if i % 2 else (0, 0, 0))
            assert _drop_prob(block.drop_path) == pytest.approx(rate * k / (total - 1))
            k += 1
    assert model.cls_head.dropout.p == 0.5


@pytest.mark.parametrize("name", ["pst_t", "pst_b", "pst_t_tw2", "pst_b_tw2"])
def test_pst_factories_default_to_the_papers_model(name):
    model = _meta_model(name)
    size = name.split("_")[1]
    window, rpe = PST_WINDOW["pst_tw2" if name.endswith("tw2") else "pst"]
    assert model.backbone.shift == PST_SHIFT
    assert (model.backbone.window_size, model.backbone.rpe, model.num_frames) == (window, rpe, 32)
    last = model.backbone.layers[-1].blocks[-1]
    assert _drop_prob(last.drop_path) == pytest.approx(SWIN[size]["drop_path_rate"])
    assert model.cls_head.dropout.p == 0.5


# ----------------------------------------------------------------------------------------------------- DeiT
def _deit_tps_reference(x: torch.Tensor, frames: int, grid: tuple[int, int]) -> torch.Tensor:
    """Patch tokens (B*T, 1 + h*w, D): out[t, (h, w)] <- x[(t + OFFICIAL[h % 3][w % 3]) mod T], class token kept."""
    out = x.clone()
    clips = x.shape[0] // frames
    for b in range(clips):
        for t in range(frames):
            for h in range(grid[0]):
                for w in range(grid[1]):
                    src = (t + OFFICIAL_PATTERN[h % 3][w % 3]) % frames
                    out[b * frames + t, 1 + h * grid[1] + w] = x[b * frames + src, 1 + h * grid[1] + w]
    return out


def _deit_tsm_reference(x: torch.Tensor, frames: int) -> torch.Tensor:
    """All tokens (B*T, L, D): channels [0, D/8) from t+1, [D/8, D/4) from t-1, zeros at the clip ends."""
    fold = x.shape[-1] // TSM_SHIFT_DIV
    clip = x.reshape(-1, frames, *x.shape[1:])
    out = clip.clone()
    out[:, :, :, :fold] = 0
    out[:, :-1, :, :fold] = clip[:, 1:, :, :fold]
    out[:, :, :, fold : 2 * fold] = 0
    out[:, 1:, :, fold : 2 * fold] = clip[:, :-1, :, fold : 2 * fold]
    return out.reshape(x.shape)


@pytest.mark.parametrize("name", _configs(("deit_",)))
def test_deit_configs_build_the_papers_model(name):
    cfg, model = built(name)
    frames = _frames(cfg)
    assert frames == model.num_frames == 16
    assert (model.embed_dim, len(model.blocks), model.blocks[0].attn.num_heads) == (384, 12, 6)
    assert tuple(model.patch_embed.patch_size) == (16, 16) and tuple(model.patch_embed.img_size) == (224, 224)
    rate = cfg["model"]["kwargs"]["drop_path_rate"]
    assert rate == 0.1 and model.head_drop.p == 0.5
    for i, block in enumerate(model.blocks):
        assert _drop_prob(block.drop_path1) == pytest.approx(rate * i / 11)
    shifted = {i: block.temporal_shift for i, block in enumerate(model.blocks) if hasattr(block, "temporal_shift")}
    temporal = name.split("_")[2]
    torch.manual_seed(0)
    x = torch.randn(frames, 1 + 14 * 14, 16)  # one clip of tokens, 16 channels
    if temporal == "2d":
        assert not shifted
    elif temporal == "tps":
        assert sorted(shifted) == [1, 3, 5, 7, 9, 11]  # the odd blocks
        assert all(isinstance(op, PatchTokenShift) and op.grid_size == (14, 14) for op in shifted.values())
        expected = _deit_tps_reference(x, frames, (14, 14))
        for op in shifted.values():
            torch.testing.assert_close(op.shift(x), expected, rtol=0, atol=0)
    else:
        assert sorted(shifted) == list(range(12))  # every block
        assert all(isinstance(op, TokenChannelShift) for op in shifted.values())
        expected = _deit_tsm_reference(x, frames)
        for op in shifted.values():
            torch.testing.assert_close(op.shift(x), expected, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["deit_s_2d", "deit_s_tsm", "deit_s_tps"])
def test_deit_factories_default_to_the_papers_model(name):
    model = _meta_model(name)
    assert model.num_frames == 16 and model.head_drop.p == 0.5
    assert _drop_prob(model.blocks[-1].drop_path1) == pytest.approx(0.1)
    for block in model.blocks:
        op = getattr(block, "temporal_shift", None)
        if isinstance(op, PatchTokenShift):
            assert op.pattern == "official"
        elif isinstance(op, TokenChannelShift):
            assert op.shift_div == TSM_SHIFT_DIV
    torch.manual_seed(0)
    x = torch.randn(2 * 4, 5, 16)  # the modules' own defaults: 2 clips of 4 frames, 5 tokens, 16 channels
    torch.testing.assert_close(TokenChannelShift(4).shift(x), _deit_tsm_reference(x, 4), rtol=0, atol=0)
    tps = PatchTokenShift(4, (2, 2), 1)
    torch.testing.assert_close(tps.shift(x), _deit_tps_reference(x, 4, (2, 2)), rtol=0, atol=0)


# -------------------------------------------------------------------------------------------------- recipes
TPS_RECIPE = {  # TPS paper Sec. 4.1 / appendix A.3 and the released configs
    "optim": {"name": "adamw", "param_groups": "tps"},
    "schedule": {"name": "cosine", "warmup_epochs": 2.5},
    "train": {"epochs": 30, "batch_size": 8, "amp": "fp16"},
    "transform": {"input_size": 224, "short_side": 256, "train_crop": "random_resized", "flip": True,
                  "autoaugment": "auto", "test_crops": 3},
    "eval": {"average": "prob"},
}  # fmt: skip
TSM_RECIPE = {  # TSM repository / MMAction2 TSM configs, which the STSM paper follows
    "optim": {"name": "sgd", "param_groups": "tsm", "fc_lr5": True, "momentum": 0.9},
    "schedule": {"name": "step"},
    "train": {"clip_grad_norm": 20},
    "transform": {"input_size": 224, "short_side": 256, "train_crop": "multiscale", "flip": True,
                  "autoaugment": False, "test_crops": 3},
    "eval": {"average": "prob"},
}  # fmt: skip


@pytest.mark.parametrize("name", PAPER_CONFIGS)
def test_configs_follow_their_papers_recipe_frames_and_views(name):
    cfg = load_config(name)
    recipe = TPS_RECIPE if name.startswith(("pst_", "deit_")) else TSM_RECIPE
    if "tanet" in name or "tdn" in name:  # MMAction2's TANet and the TDN repository have recipes of their own
        recipe = {}
    for section, expected in recipe.items():
        actual = cfg["data"]["transform"] if section == "transform" else cfg[section]
        assert {k: actual[k] for k in expected} == expected, section
    if name.startswith(("pst_", "deit_")):
        lr, wd = (3e-4, 0.05) if name.startswith("pst_b") else (1e-3, 0.02)  # TPS: PST-B 3e-4 / 0.05
        assert (cfg["optim"]["lr"], cfg["optim"]["weight_decay"]) == (lr, wd)
    if cfg["paper"]["row"] is None:
        return
    row = paper_row(cfg["paper"]["row"])
    test = cfg["data"]["test_sampling"]
    assert _frames(cfg) == row.frames
    assert _frames(cfg, "test_sampling") == row.frames
    assert (int(test.get("num_clips", 1)), cfg["data"]["transform"]["test_crops"]) == row.views


# ---------------------------------------------------------------------------------------------- ImageNet starts
# The ImageNet weights each architecture starts from under pretrained: true, as timm names them. The CNN papers
# (TSN, TSM, TANet, TDN, STSM) and MMAction2 start from torchvision's ResNet-50 (timm: tv_in1k; timm's default
# a1_in1k is another recipe). TSM's MobileNetV2 weights are not on the Hub: timm's own. DeiT-S and Swin: their
# authors' releases, as timm re-publishes them.
IMAGENET_START = {
    "resnet50": "resnet50.tv_in1k",
    "mobilenetv2_100": "mobilenetv2_100.ra_in1k",
    "deit_small_patch16_224": "deit_small_patch16_224.fb_in1k",
    "swin_tiny_patch4_window7_224": "swin_tiny_patch4_window7_224.ms_in1k",
    "swin_base_patch4_window7_224": "swin_base_patch4_window7_224.ms_in22k_ft_in1k",
}
PRETRAINED_CONFIGS = [name for name in PAPER_CONFIGS if load_config(name)["model"]["pretrained"]]


@pytest.mark.parametrize("name", PRETRAINED_CONFIGS)
def test_each_pretrained_config_names_its_imagenet_start(name):
    """Read from the config and the model it builds, so that a new config (or backbone) must be added above."""
    _, model = built(name)
    architecture = getattr(model, "backbone_name", None) or str(model.imagenet_weights).split(".")[0]
    assert model.imagenet_weights == IMAGENET_START[architecture]
