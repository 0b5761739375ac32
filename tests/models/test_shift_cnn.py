"""TSN / TSM / STSM CNN recognizers: structure, contract, paper numbers, temporal behaviour."""

import copy
import itertools
from pathlib import Path

import pytest
import timm
import torch
from tiny_models import randomise_norms
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from videoshift.models import create_model, imagenet, list_models
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.papers import paper_setting
from videoshift.models.shift_cnn import ShiftCNN, TemporalMaxPool, residual_stages

CNN_MODELS = ["tsn_r50", "tsm_r50", "stsm_r50", "tsn_mbv2", "tsm_mbv2", "stsm_mbv2", "tsm_r50_nl", "stsm_r50_nl"]
TINY = {"r50": "resnet18", "mbv2": "mobilenetv2_050"}


def tiny(name: str, **kwargs) -> ShiftCNN:
    """The model with a small backbone of the same family, for fast CPU tests.

    timm zero-initialises the last norm of every residual branch, which would make the branches
    (and so the shifts) invisible at init: norms get random affine parameters and statistics.
    """
    backbone = TINY["mbv2"] if "mbv2" in name else TINY["r50"]
    kwargs = {"num_classes": 5, "num_frames": 4, "backbone": backbone} | kwargs
    return randomise_norms(create_model(name, **kwargs), seed=1)


def clip(batch: int = 2, frames: int = 4, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, 3, frames, size, size, generator=torch.Generator().manual_seed(seed))


def test_every_cnn_is_registered():
    assert set(CNN_MODELS) <= set(list_models())


@pytest.mark.parametrize("name", CNN_MODELS)
def test_forward_backward_and_head_reset(name):
    torch.manual_seed(0)
    model = tiny(name)
    x = clip()
    out = model(x)
    assert out.shape == (2, 5) and torch.isfinite(out).all()
    out.square().sum().backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert no_grad == []
    # the per-frame classifier really learns: its gradient is non-zero
    assert model.head.fc.weight.grad.abs().sum() > 0

    model.eval()
    features = model.forward_head(model.forward_features(x), pre_logits=True)
    assert features.shape == (2, model.num_features)
    model.reset_classifier(3)
    assert model(x).shape == (2, 3)
    model.reset_classifier(0)
    assert torch.allclose(model(x), features, atol=1e-6)
    assert model.head_keys == ("head.fc",)
    assert model.num_frames == 4


@pytest.mark.parametrize("name", CNN_MODELS)
def test_backbone_keys_and_parameters_are_exactly_timms(name):
    with torch.device("meta"):
        model = create_model(name, num_classes=400)
        reference = timm.create_model("mobilenetv2_100" if "mbv2" in name else "resnet50", num_classes=0)
    ours = {k: v.shape for k, v in model.backbone.state_dict().items()}
    theirs = {k: v.shape for k, v in reference.state_dict().items()}
    assert ours == theirs
    assert count_params(model.backbone) == count_params(reference)
    extra = {k.split(".")[0] for k in model.state_dict() if not k.startswith("backbone.")}
    assert extra == ({"head", "non_local"} if name.endswith("_nl") else {"head"})


class _Recorder(nn.Module):
    """A stand-in shift that records the frames it was built for and what it was called on."""

    def __init__(self, frames: int, calls: list) -> None:
        super().__init__()
        self.frames, self.calls = frames, calls

    def forward(self, x):
        self.calls.append((self.frames, x.shape))
        return torch.zeros_like(x)  # silence the residual branch's input


@pytest.mark.parametrize(
    ("backbone", "temporal_pool", "expected_frames"),
    [
        ("resnet50", False, [8] * 16),
        ("resnet50", True, [8] * 3 + [4] * 13),  # layer1 keeps 8 frames; TSM pools before layer2
        ("resnet18", False, [8] * 8),
        ("mobilenetv2_100", False, [8] * 10),  # the 10 inverted residuals with a skip connection
    ],
)
def test_one_shift_before_the_first_conv_of_every_residual_block(backbone, temporal_pool, expected_frames):
    calls: list = []
    model = ShiftCNN(
        backbone, num_frames=8, num_classes=3, temporal_pool=temporal_pool, shift_layer=lambda f: _Recorder(f, calls)
    ).eval()
    convs_seen: list = []
    for _, block in itertools.chain(*residual_stages(model.backbone)):
        first_conv = block.conv1 if hasattr(block, "conv1") else block.conv_pw
        first_conv.register_forward_pre_hook(lambda m, args: convs_seen.append(float(args[0].abs().sum())))
    with torch.no_grad():
        out = model(clip(1, 8, 32))
    assert [f for f, _ in calls] == expected_frames
    assert all(shape[0] == f for f, shape in calls)  # the shift sees (B*T, C, H, W) with T frames per clip
    assert len(convs_seen) == len(expected_frames) and not any(convs_seen)  # conv1 receives the shift's output
    assert torch.isfinite(out).all()  # the skip connection still carries the unshifted input


def test_shift_modules_are_visible_children_and_survive_deepcopy():
    model = tiny("tsm_r50")
    shifts = [m for m in model.modules() if type(m).__name__ == "TemporalShift"]
    assert len(shifts) == 8  # resnet18: 2 + 2 + 2 + 2 blocks
    twin = copy.deepcopy(model)
    for block in twin.backbone.layer1:
        (hook,) = block.conv1._forward_pre_hooks.values()
        assert hook.args[0].args[0] is block  # run_before(conv1, partial(_own_shift, block)): the copy's own block
    x = clip()
    model.eval(), twin.eval()
    assert torch.equal(model(x), twin(x))


def test_wrong_number_of_frames_is_rejected():
    model = tiny("tsm_r50")
    with pytest.raises(ValueError, match="num_frames=4"):
        model(clip(frames=8))
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        model(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match="temporal_pool"):
        tiny("tsm_r50", num_frames=5, temporal_pool=True)
    with pytest.raises(ValueError, match="ResNet"):
        tiny("tsm_mbv2", temporal_pool=True)


def test_temporal_max_pool_equals_maxpool3d():
    x = torch.randn(2 * 8, 5, 3, 3)
    reference = nn.MaxPool3d((3, 1, 1), (2, 1, 1), (1, 0, 0))(x.view(2, 8, 5, 3, 3).transpose(1, 2))
    assert torch.equal(TemporalMaxPool(8)(x), reference.transpose(1, 2).reshape(8, 5, 3, 3))


def test_temporal_pool_halves_the_frames_seen_by_the_head():
    model = tiny("tsm_r50", num_frames=8, temporal_pool=True).eval()
    assert model.forward_features(clip(frames=8)).shape[2] == 4
    assert model(clip(frames=8)).shape == (2, 5)


def _reversed_outputs(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    model.eval()
    x = clip(2, 4, 32, seed=1)
    with torch.no_grad():
        return model(x), model(x.flip(2))


def test_tsn_ignores_frame_order_and_shifts_do_not():
    torch.manual_seed(0)
    tsn = tiny("tsn_r50")
    out, rev = _reversed_outputs(tsn)
    assert torch.allclose(out, rev, rtol=1e-5, atol=1e-6)
    for name in ("tsm_r50", "stsm_r50", "stsm_mbv2"):
        shifted = tiny(name)
        shifted.load_state_dict(tiny("tsn_mbv2" if "mbv2" in name else "tsn_r50").state_dict())
        out, rev = _reversed_outputs(shifted)
        assert (out - rev).abs().max() > 1e-4, name


def test_spatial_only_stsm_ignores_frame_order():
    model = tiny("stsm_r50", dims="H+W")
    out, rev = _reversed_outputs(model)
    assert torch.allclose(out, rev, rtol=1e-5, atol=1e-6)


def test_stsm_with_alpha_zero_is_tsn():
    torch.manual_seed(0)
    tsn, stsm = tiny("tsn_r50").eval(), tiny("stsm_r50", alpha=0.0).eval()
    stsm.load_state_dict(tsn.state_dict())
    x = clip()
    with torch.no_grad():
        assert torch.equal(stsm(x), tsn(x))


def test_no_weight_decay_lists_biases_and_norms():
    names = tiny("tsm_r50").no_weight_decay()
    assert {"head.fc.bias", "backbone.bn1.weight", "backbone.layer1.0.bn2.bias"} <= names
    assert not any(n.endswith("conv1.weight") or n == "head.fc.weight" for n in names)


def _macs_by_op(model: nn.Module, size: int) -> dict[str, int]:
    with torch.device("meta"):
        x = torch.empty(1, 3, 8, size, size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(x)
    return {str(op): flops // 2 for op, flops in counter.get_flop_counts()["Global"].items()}


def _meta(name: str) -> ShiftCNN:
    with torch.device("meta"):
        return create_model(name, num_classes=400, num_frames=8)


@pytest.mark.parametrize(
    ("name", "params_m"),
    [("tsn_r50", 24.33), ("tsm_r50", 24.33), ("stsm_r50", 24.33), ("tsm_r50_nl", 31.7), ("stsm_r50_nl", 31.7)]
    + [(name, 2.74) for name in ("tsn_mbv2", "tsm_mbv2", "stsm_mbv2")],
)
def test_parameter_counts_match_the_papers(name, params_m):
    digits = 2 if params_m < 30 else 1
    assert round(count_params(_meta(name)) / 1e6, digits) == params_m
    setting = paper_setting(name)
    assert setting is not None and setting.frames == 8
    assert setting.params_m == pytest.approx(params_m, abs=0.05)


def test_resnet50_multiply_adds_match_the_papers():
    tsn_224 = count_macs(_meta("tsn_r50"), torch.empty(1, 3, 8, 224, 224, device="meta"))
    tsn_256 = count_macs(_meta("tsn_r50"), torch.empty(1, 3, 8, 256, 256, device="meta"))
    assert tsn_224 / 1e9 == pytest.approx(33, rel=0.01)  # 32.70 G
    # the papers' 43.1 G is 33 G x (256/224)^2; every feature map scales by exactly that ratio
    assert tsn_256 / 1e9 == pytest.approx(43.1, rel=0.01)  # 42.71 G
    for name in ("tsm_r50", "stsm_r50"):  # the shifts cost nothing
        assert count_macs(_meta(name), torch.empty(1, 3, 8, 256, 256, device="meta")) == tsn_256


def test_non_local_multiply_adds_match_the_papers():
    by_op = _macs_by_op(_meta("tsm_r50_nl"), 256)
    # the papers count convolutions and the classifier (their counters skip the attention products)
    assert (by_op["aten.convolution"] + by_op["aten.mm"]) / 1e9 == pytest.approx(64.6, rel=0.01)  # 64.19 G
    # attention: per block 2 * N * M * C' with N = 8*h*w queries, M = N/4 keys (2x2 sub-sampling)
    attention = 2 * (2 * (8 * 32 * 32) * (8 * 16 * 16) * 256) + 3 * (2 * (8 * 16 * 16) * (8 * 8 * 8) * 512)
    assert by_op["aten.bmm"] == attention
    assert _macs_by_op(_meta("stsm_r50_nl"), 256) == by_op


def test_mobilenetv2_multiply_adds_are_those_of_the_backbone():
    by_op = _macs_by_op(_meta("stsm_mbv2"), 256)
    assert by_op == _macs_by_op(_meta("tsn_mbv2"), 256)
    # timm MobileNetV2-1.0: 0.30 G per 224^2 frame; the papers report 3.33 G at 8x256^2 (their counter)
    assert by_op["aten.convolution"] / 1e9 == pytest.approx(8 * 0.3 * (256 / 224) ** 2, rel=0.02)


def test_pretrained_loads_timm_imagenet_weights_and_drop_path_reaches_timm(monkeypatch):
    real_create = timm.create_model
    calls = []

    def spy(name, **kwargs):
        calls.append((name, kwargs))
        torch.manual_seed(7)
        built = {k: v for k, v in kwargs.items() if k != "pretrained_cfg_overlay"} | {"pretrained": False}
        return real_create(name, **built)  # tests never download

    monkeypatch.setattr(timm, "create_model", spy)
    monkeypatch.setattr(imagenet, "imagenet_file", lambda name: Path(f"/placed/{name}"))
    model = create_model("tsm_r50_nl", backbone="resnet18", pretrained=True, drop_path_rate=0.1)
    assert calls[0] == ("resnet18", {"num_classes": 0, "drop_path_rate": 0.1})  # the backbone
    # its ImageNet classifier, torchvision's weights as the papers used, loaded by timm from the file found
    assert calls[1] == (
        "resnet18.tv_in1k",
        {"pretrained": True, "pretrained_cfg_overlay": {"file": "/placed/resnet18.tv_in1k"}},
    )
    image = spy("resnet18").state_dict()
    backbone = model.backbone.state_dict()
    assert set(backbone) == {k for k in image if not k.startswith("fc.")}
    for key, value in backbone.items():
        torch.testing.assert_close(value, image[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("name", ["tsm_r50_nl", "tanet_r50", "stsm_tdn_r50"])
def test_imagenet_weights_fill_the_backbone_and_added_modules_keep_their_init(name):
    """An ImageNet ResNet has no non-local blocks, TAMs, TDN branches or conv biases: those keep their init."""
    from videoshift.models import load_checkpoint

    torch.manual_seed(0)
    frames = 20 if "tdn" in name else 4
    model = create_model(name, backbone="resnet18", num_classes=5, num_frames=frames)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    image = {f"backbone.{k}": v for k, v in timm.create_model("resnet18").state_dict().items() if "fc." not in k}
    load_checkpoint(model, {k.removeprefix("backbone."): v for k, v in image.items()})
    after = model.state_dict()
    added = [k for k in after if k not in image and not k.startswith("head.")]
    assert added, "the video model adds modules to the ResNet"
    for key, value in image.items():
        torch.testing.assert_close(after[key], value, rtol=0, atol=0, msg=key)
    for key in added:
        torch.testing.assert_close(after[key], before[key], rtol=0, atol=0, msg=key)
