"""TDN and STSM+TDN: modules against naive references, the papers' counts, TDN-repository checkpoints."""

import logging
import re

import pytest
import torch
from torch import nn

from videoshift.models import create_model, load_checkpoint
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.papers import paper_setting
from videoshift.models.tdn import LearnableTemporalShift, MotionExcitation
from videoshift.ops import SpatioTemporalShift, temporal_shift

SEGMENTS, LENGTH = 4, 5


@pytest.fixture
def randomised(randomise):
    """Build a tiny (ResNet-18 width) TDN of 4 segments in eval mode with every floating tensor random."""

    def build(name: str, seed: int = 0, **kwargs) -> nn.Module:
        torch.manual_seed(seed)
        kwargs = {"num_classes": 7, "num_frames": SEGMENTS * LENGTH, "backbone": "resnet18", "dropout": 0.0} | kwargs
        return randomise(create_model(name, **kwargs).eval(), seed)

    return build


def clip(seed: int = 1) -> torch.Tensor:
    return torch.randn(2, 3, SEGMENTS * LENGTH, 64, 64, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def meta_models() -> dict[str, nn.Module]:
    with torch.device("meta"):
        return {name: create_model(name, num_classes=400, num_frames=40) for name in ("tdn_r50", "stsm_tdn_r50")}


def _hand_count(classes: int, learnable_shift: bool) -> int:
    resnet50 = 23_508_032  # timm / torchvision ResNet-50 without classifier, convolutions without bias
    biases = 64 + 6 * (64 * 3 + 128 * 4 + 256 * 6 + 512 * 3) + 4 * (64 + 128 + 256 + 512)
    layer1 = 215_808 + 6 * 64 * 3 + 256  # the difference branch's layer1, with biases
    diff_stem = 12 * 64 * 49 + 2 * 64

    def mse(c: int) -> int:  # conv1, bn1, depthwise conv2, conv3, bn3, two 3x3 convs with BN, at C/16
        r = c // 16
        return c * r + 2 * r + 9 * r + r * c + 2 * c + 2 * (9 * r * r + 2 * r)

    blocks = {128: 4, 256: 6, 512: 3}
    modules = sum(n * (mse(c) + (3 * c if learnable_shift else 0)) for c, n in blocks.items())
    return resnet50 + biases + layer1 + diff_stem + modules + 2048 * classes + classes


def test_parameter_counts(meta_models):
    tdn, stsm = count_params(meta_models["tdn_r50"]), count_params(meta_models["stsm_tdn_r50"])
    assert tdn == _hand_count(400, learnable_shift=True) == 24_873_648
    assert stsm == _hand_count(400, learnable_shift=False) == 24_862_896
    # The TDN repository's model has 9,472 more (24,883,120): its unused second stem conv1_temp (3*64*49 + 64),
    # registered but never called, which videoshift drops when loading.
    assert paper_setting("tdn_r50").params_m is None  # the STSM paper prints no parameter count for TDN


def test_multiply_adds_match_the_papers(meta_models):
    macs = {
        (name, size): count_macs(model, torch.empty(1, 3, 40, size, size, device="meta"))
        for name, model in meta_models.items()
        for size in (224, 256)
    }
    for name in meta_models:
        assert macs[name, 224] / 1e9 == pytest.approx(36, rel=0.02), name  # STSM Table 7, 8x224²: 35.61 G here
        assert macs[name, 256] / 1e9 == pytest.approx(47, rel=0.02), name  # STSM Tables 6-7, 8x256²: 46.51 G here
    # the paper gives STSM+TDN TDN's GFLOPs: both shifts are element-wise (uncounted), the rest is the same network
    assert macs["tdn_r50", 256] == macs["stsm_tdn_r50", 256]
    assert paper_setting("stsm_tdn_r50").gmacs == 47


def test_learnable_shift_starts_as_tsm():
    shift = LearnableTemporalShift(16, num_frames=4)
    x = torch.randn(2 * 4, 16, 3, 5)
    with torch.no_grad():
        torch.testing.assert_close(shift(x), temporal_shift(x, 4, 8))


def test_learnable_shift_is_a_depthwise_temporal_conv1d():
    torch.manual_seed(0)
    shift = LearnableTemporalShift(6, num_frames=5)
    with torch.no_grad():
        shift.conv.weight.normal_()
        x = torch.randn(2 * 5, 6, 3, 4)
        series = x.view(2, 5, 6, 3, 4).permute(0, 3, 4, 2, 1).reshape(2 * 3 * 4, 6, 5)  # (N*H*W, C, T)
        expected = nn.functional.conv1d(series, shift.conv.weight, padding=1, groups=6)
        expected = expected.view(2, 3, 4, 6, 5).permute(0, 4, 3, 1, 2).reshape(10, 6, 3, 4)
        torch.testing.assert_close(shift(x), expected)


def naive_mse(module: MotionExcitation, x: torch.Tensor) -> torch.Tensor:
    """mSE frame by frame: differences with the next / previous frame, as the TDN paper describes them."""
    t = module.num_frames
    z = module.bn1(module.conv1(x))
    moved = module.conv2(z)
    out = []
    for n in range(x.shape[0] // t):
        for i in range(t):
            frame = n * t + i
            zero = torch.zeros_like(z[frame : frame + 1])
            fwd = moved[frame + 1 : frame + 2] - z[frame : frame + 1] if i < t - 1 else zero
            bwd = moved[frame - 1 : frame] - z[frame : frame + 1] if i > 0 else zero
            full_fwd = module.bn3_smallscale4(module.conv3_smallscale4(fwd))
            full_bwd = module.bn3_smallscale4(module.conv3_smallscale4(full_fwd))  # the released code's quirk
            ys = []
            for d, full in ((fwd, full_fwd), (bwd, full_bwd)):
                half = module.bn3_smallscale2(module.conv3_smallscale2(nn.functional.avg_pool2d(d, 2)))
                half = half.repeat_interleave(2, -2).repeat_interleave(2, -1)  # nearest x2 (even sizes)
                ys.append(torch.sigmoid(module.bn3(module.conv3(d / 3 + half / 3 + full / 3))) - 0.5)
            out.append(x[frame : frame + 1] * (1 + 0.5 * ys[0] + 0.5 * ys[1]))
    return torch.cat(out)


def test_motion_excitation_equals_a_naive_reference():
    torch.manual_seed(0)
    module = MotionExcitation(32, num_frames=3).eval()
    with torch.no_grad():
        for bn in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
            bn.running_var.uniform_(0.5, 1.5)
        x = torch.randn(2 * 3, 32, 6, 4)
        torch.testing.assert_close(module(x), naive_mse(module, x))


def test_modules_sit_in_layers_2_to_4_after_conv1_bn_relu():
    tdn = create_model("tdn_r50", num_frames=20, backbone="resnet18")
    stsm = create_model("stsm_tdn_r50", num_frames=20, backbone="resnet18")
    for i in range(1, 5):
        for a, b in zip(getattr(tdn.backbone, f"layer{i}"), getattr(stsm.backbone, f"layer{i}"), strict=True):
            assert hasattr(a, "mse") == hasattr(b, "mse") == (i > 1)
            assert i == 1 or (isinstance(a.shift, LearnableTemporalShift) and isinstance(b.shift, SpatioTemporalShift))
            assert a.conv1.bias is not None and a.conv2.bias is not None  # TDN's ResNet: every conv has a bias
    assert tdn.backbone.conv1.bias is not None and tdn.fusion == (0.75, 0.25)
    assert create_model("tdn_r50", num_frames=40, backbone="resnet18").fusion == (0.5, 0.5)


def test_rgb_path_reads_only_the_centre_frame_of_each_segment(randomised):
    model = randomised("tdn_r50", fusion=(1.0, 0.0))  # difference branch weighted out
    x = clip()
    y = x.clone()
    centres = [s * LENGTH + LENGTH // 2 for s in range(SEGMENTS)]
    others = [f for f in range(SEGMENTS * LENGTH) if f not in centres]
    y[:, :, others] = torch.randn_like(y[:, :, others])
    with torch.no_grad():
        torch.testing.assert_close(model(y), model(x))
        z = x.clone()
        z[:, :, centres[1]] += 1
        assert (model(z) - model(x)).abs().max() > 1e-4


def test_short_term_differences_are_later_minus_earlier(randomised):
    """S-TDM's input: frame k+1 minus frame k of each segment (the TDN repository's ``x2-x1, …, x5-x4``), 2x2-pooled."""
    model = randomised("tdn_r50")
    x = clip()  # random frames: every difference is non-zero, so its sign shows
    seen = []
    model.diff_stem.register_forward_pre_hook(lambda _module, args: seen.append(args[0]))
    with torch.no_grad():
        model(x)
    b, _, _, h, w = x.shape
    expected = torch.empty(b * SEGMENTS, 3 * (LENGTH - 1), h // 2, w // 2)
    for n in range(b):
        for s in range(SEGMENTS):
            for k in range(LENGTH - 1):
                later, earlier = x[n, :, s * LENGTH + k + 1], x[n, :, s * LENGTH + k]  # (3, H, W)
                d = later - earlier
                pooled = (d[:, 0::2, 0::2] + d[:, 1::2, 0::2] + d[:, 0::2, 1::2] + d[:, 1::2, 1::2]) / 4
                expected[n * SEGMENTS + s, 3 * k : 3 * k + 3] = pooled
    torch.testing.assert_close(seen[0], expected)


@pytest.mark.parametrize("name", ["tdn_r50", "stsm_tdn_r50"])
def test_frame_order_matters(name, randomised):
    model = randomised(name)
    x = clip()
    with torch.no_grad():
        assert (model(x) - model(x.flip(2))).abs().max() > 1e-4


def test_another_number_of_frames_is_rejected():
    model = create_model("tdn_r50", num_classes=5, num_frames=20, backbone="resnet18")
    with pytest.raises(ValueError, match=r"4 segments x 5 consecutive frames"):
        model(torch.randn(1, 3, 4, 64, 64))
    with pytest.raises(ValueError, match="segments x segment_frames"):
        create_model("tdn_r50", num_frames=8)


# --- TDN-repository checkpoints ---------------------------------------------------------------------------------
# Hand-written table, videoshift prefix -> TDN repository prefix (TSN wrapper in DataParallel).
_TDN_PREFIX = {
    "backbone.conv1.": "module.base_model.conv1.",
    "backbone.bn1.": "module.base_model.bn1.",
    "diff_stem.": "module.base_model.conv1_5.",
    "diff_layer1.": "module.base_model.resnext_layer1.",
    "head.fc.": "module.new_fc.",
}


def to_tdn_repo(state: dict[str, torch.Tensor]) -> dict:
    out = {}
    for key, value in state.items():
        layer = re.fullmatch(r"backbone\.layer(\d)\.(.+)", key)
        if layer:
            out[f"module.base_model.layer{layer[1]}_bak.{layer[2]}"] = value
            continue
        prefix = next(p for p in _TDN_PREFIX if key.startswith(p))
        out[_TDN_PREFIX[prefix] + key.removeprefix(prefix)] = value
    stem = {k: v for k, v in out.items() if k.startswith("module.base_model.conv1.")}
    for name in ("conv1_temp", "conv1_temp1"):  # the repository's second stem, registered twice, never used
        out |= {k.replace(".conv1.", f".{name}.", 1): torch.randn_like(v) for k, v in stem.items()}
    return {"epoch": 60, "arch": "resnet50", "state_dict": out, "best_prec1": 76.5}


@pytest.mark.parametrize("name", ["tdn_r50", "stsm_tdn_r50"])
def test_tdn_repository_checkpoints_load_strictly_with_identical_outputs(name, caplog, randomised):
    source = randomised(name, seed=3)
    checkpoint = to_tdn_repo(source.state_dict())
    keys = set(checkpoint["state_dict"])
    assert {"module.base_model.layer2_bak.0.mse.conv3_smallscale4.weight", "module.new_fc.weight"} <= keys
    assert {"module.base_model.conv1_5.0.weight", "module.base_model.resnext_layer1.0.conv2.bias"} <= keys
    assert ("module.base_model.layer3_bak.1.shift.conv.weight" in keys) == (name == "tdn_r50")
    target = randomised(name, seed=4)
    with caplog.at_level(logging.INFO, logger="videoshift.models.tdn"):
        report = load_checkpoint(target, checkpoint)
    assert "conv1_temp1" in caplog.text
    assert report.loaded == len(keys) - 4
    x = clip()
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x), rtol=0, atol=0)
