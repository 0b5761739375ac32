"""TANet and STSM+TANet: the TAM against a naive reference, MMAction2's counts, MMAction2 checkpoints."""

import re

import pytest
import torch
from torch import nn

from videoshift.models import CheckpointError, create_model, load_checkpoint
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.papers import paper_setting
from videoshift.models.tanet import TAM
from videoshift.ops import SpatioTemporalShift


@pytest.fixture
def randomised(randomise):
    """Build a tiny (ResNet-18 width) model in eval mode with every floating tensor random."""

    def build(name: str, seed: int = 0, frames: int = 4, **kwargs) -> nn.Module:
        torch.manual_seed(seed)
        model = create_model(name, num_classes=7, num_frames=frames, backbone="resnet18", dropout=0.0, **kwargs)
        return randomise(model.eval(), seed)

    return build


def clip(frames: int = 4, size: int = 32, seed: int = 1) -> torch.Tensor:
    return torch.randn(2, 3, frames, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def meta_models() -> dict[str, nn.Module]:
    with torch.device("meta"):
        return {
            "tanet_400": create_model("tanet_r50", num_classes=400, num_frames=8),
            "tanet_174": create_model("tanet_r50", num_classes=174, num_frames=8),
            "stsm_tanet_400": create_model("stsm_tanet_r50", num_classes=400, num_frames=8),
        }


def test_parameter_counts_are_mmaction2s(meta_models):
    # MMAction2 configs/recognition/tanet/metafile.yml: K400 (400 classes) and Sth (174 classes) models
    assert count_params(meta_models["tanet_400"]) == 25_590_320
    assert count_params(meta_models["tanet_174"]) == 25_127_246
    assert count_params(meta_models["stsm_tanet_400"]) == 25_590_320  # STSM adds no parameter
    assert paper_setting("tanet_r50").params_m == 25.6 and paper_setting("stsm_tanet_r50").params_m == 25.6


def test_parameters_by_hand():
    # TAM per block with C = conv1 width, T = 8: G 8*16 + 2*16 + 16*3; L 3*C*C/4 + 2*C/4 + C/4*C
    def tam(c: int) -> int:
        return 8 * 16 + 2 * 16 + 16 * 3 + 3 * c * c // 4 + 2 * c // 4 + c * c // 4

    blocks = {64: 3, 128: 4, 256: 6, 512: 3}
    resnet50 = 23_508_032  # timm / torchvision ResNet-50 without its classifier
    expected = resnet50 + sum(n * tam(c) for c, n in blocks.items()) + 2048 * 400 + 400
    with torch.device("meta"):
        assert count_params(create_model("tanet_r50", num_classes=400, num_frames=8)) == expected


def test_multiply_adds_match_mmaction2_and_the_stsm_paper(meta_models):
    macs_224 = count_macs(meta_models["tanet_400"], torch.empty(1, 3, 8, 224, 224, device="meta"))
    macs_256 = count_macs(meta_models["tanet_400"], torch.empty(1, 3, 8, 256, 256, device="meta"))
    assert macs_224 / 1e9 == pytest.approx(32.97, rel=0.01)  # MMAction2 metafile 32,972,787,840 (32.76 G here)
    assert macs_256 / 1e9 == pytest.approx(43.07, rel=0.01)  # STSM Tables 6-7: 43.1 G (42.78 G here)
    stsm_256 = count_macs(meta_models["stsm_tanet_400"], torch.empty(1, 3, 8, 256, 256, device="meta"))
    assert stsm_256 == macs_256


def naive_tam(tam: TAM, x: torch.Tensor, frames: int) -> torch.Tensor:
    """TAM written out with loops: per clip and channel, gate every frame, then a K-tap sum over time."""
    nt, c = x.shape[:2]
    out = torch.zeros_like(x)
    k = tam.kernel_size
    for n in range(nt // frames):
        clip_x = x[n * frames : (n + 1) * frames]  # (T, C, H, W)
        descriptor = clip_x.mean(dim=(2, 3)).t()  # (C, T)
        gates = tam.L(descriptor[None])[0]  # (C, T)
        kernels = tam.G(descriptor)  # (C, K)
        for ch in range(c):
            for t in range(frames):
                for j in range(k):
                    source = t + j - k // 2
                    if 0 <= source < frames:
                        out[n * frames + t, ch] += kernels[ch, j] * gates[ch, source] * clip_x[source, ch]
    return out


def test_tam_equals_a_naive_reference():
    torch.manual_seed(0)
    tam = TAM(8, num_frames=5).eval()
    with torch.no_grad():
        for module in tam.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
        x = torch.randn(2 * 5, 8, 3, 4)
        torch.testing.assert_close(tam(x), naive_tam(tam, x, 5))
    kernels = tam.G(torch.randn(8, 5))
    torch.testing.assert_close(kernels.sum(-1), torch.ones(8))  # a softmax over the K taps


def test_tam_sits_after_conv1_bn_relu_and_stsm_before_conv1():
    model = create_model("stsm_tanet_r50", num_classes=5, num_frames=4, backbone="resnet18")
    blocks = [b for i in range(1, 5) for b in getattr(model.backbone, f"layer{i}")]
    assert len(blocks) == 8
    seen = []
    hooks = [
        model.backbone.layer1[0].shift.register_forward_hook(lambda *a: seen.append("shift")),
        model.backbone.layer1[0].conv1.register_forward_hook(lambda *a: seen.append("conv1")),
        model.backbone.layer1[0].act1.register_forward_hook(lambda *a: seen.append("act1")),
        model.backbone.layer1[0].tam.register_forward_hook(lambda *a: seen.append("tam")),
        model.backbone.layer1[0].conv2.register_forward_hook(lambda *a: seen.append("conv2")),
    ]
    model(clip())
    for hook in hooks:
        hook.remove()
    assert seen == ["shift", "conv1", "act1", "tam", "conv2"]
    assert all(isinstance(b.shift, SpatioTemporalShift) and isinstance(b.tam, TAM) for b in blocks)
    assert not hasattr(create_model("tanet_r50", num_frames=4, backbone="resnet18").backbone.layer1[0], "shift")


def test_another_number_of_frames_is_rejected_naming_the_tam():
    model = create_model("tanet_r50", num_classes=5, num_frames=4, backbone="resnet18")
    with pytest.raises(ValueError, match=r"6 frames.*num_frames=4.*G of every TAM"):
        model(clip(frames=6))


@pytest.mark.parametrize("name", ["tanet_r50", "stsm_tanet_r50"])
def test_frame_order_matters(name, randomised):
    model = randomised(name)
    x = clip()
    with torch.no_grad():
        assert (model(x) - model(x.flip(2))).abs().max() > 1e-4


# --- MMAction2 checkpoints -------------------------------------------------------------------------------------
# Hand-written table: videoshift key (after "backbone.") -> MMAction2 TANet key (after "backbone.").
# TABlock keeps the ResNet block under ".block" and the TAM beside it; ConvModule names conv + bn.
_MM_BLOCK = {"conv1": "block.conv1.conv", "bn1": "block.conv1.bn", "conv2": "block.conv2.conv"}
_MM_BLOCK |= {"bn2": "block.conv2.bn", "conv3": "block.conv3.conv", "bn3": "block.conv3.bn"}
_MM_BLOCK |= {"downsample.0": "block.downsample.conv", "downsample.1": "block.downsample.bn", "tam": "tam"}


def to_mmaction2(state: dict[str, torch.Tensor]) -> dict:
    out = {}
    for key, value in state.items():
        if key.startswith("head.fc."):
            out["cls_head.fc_cls." + key.removeprefix("head.fc.")] = value
            continue
        key = key.removeprefix("backbone.")
        stem = re.fullmatch(r"(conv1|bn1)\.(\w+)", key)
        if stem:
            out[f"backbone.conv1.{'conv' if stem[1] == 'conv1' else 'bn'}.{stem[2]}"] = value
            continue
        block, part, rest = re.fullmatch(r"(layer\d\.\d+)\.(conv\d|bn\d|downsample\.\d|tam)\.(.+)", key).groups()
        out[f"backbone.{block}.{_MM_BLOCK[part]}.{rest}"] = value
    return {"meta": {"mmaction2_version": "0.x"}, "state_dict": out}


@pytest.mark.parametrize("name", ["tanet_r50", "stsm_tanet_r50"])
def test_mmaction2_checkpoints_load_strictly_with_identical_outputs(name, randomised):
    source = randomised(name, seed=3)
    checkpoint = to_mmaction2(source.state_dict())
    keys = checkpoint["state_dict"]
    assert {"backbone.conv1.conv.weight", "backbone.layer1.0.block.conv1.conv.weight", "cls_head.fc_cls.bias"} <= set(
        keys
    )
    assert {"backbone.layer4.1.tam.G.0.weight", "backbone.layer4.1.tam.G.1.running_var"} <= set(keys)
    assert {
        "backbone.layer4.1.tam.L.0.weight",
        "backbone.layer4.1.tam.L.1.weight",
        "backbone.layer4.1.tam.L.3.weight",
    } <= set(keys)
    assert {"backbone.layer2.0.block.downsample.conv.weight", "backbone.layer2.0.block.downsample.bn.bias"} <= set(keys)
    target = randomised(name, seed=4)
    report = load_checkpoint(target, checkpoint)
    assert report.loaded == len(keys) and report.skipped_head == []
    x = clip()
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x), rtol=0, atol=0)


def test_checkpoint_missing_a_tam_tensor_is_rejected_by_name(randomised):
    checkpoint = to_mmaction2(randomised("tanet_r50").state_dict())
    del checkpoint["state_dict"]["backbone.layer3.1.tam.L.1.weight"]
    with pytest.raises(CheckpointError, match=r"missing keys: backbone\.layer3\.1\.tam\.L\.1\.weight"):
        load_checkpoint(randomised("tanet_r50"), checkpoint)


def test_older_mmaction2_without_local_batchnorm_is_named(randomised):
    state = to_mmaction2(randomised("tanet_r50").state_dict())["state_dict"]
    old = {}
    for key, value in state.items():  # old TAM: L = Conv1d, ReLU, Conv1d, Sigmoid (no BN1d; L.0 and L.2)
        if ".tam.L.1." in key:
            continue
        old[key.replace(".tam.L.3.", ".tam.L.2.")] = value
    with pytest.raises(CheckpointError, match=r"older MMAction2 TANet.*no BatchNorm"):
        load_checkpoint(randomised("tanet_r50"), old)
