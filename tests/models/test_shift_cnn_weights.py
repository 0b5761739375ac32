"""Loading the checkpoint formats users have into the shift CNNs, checked by the outputs."""

import re

import pytest
import timm
import torch
import torchvision
from torch import nn

from videoshift.models import CheckpointError, create_model, load_checkpoint
from videoshift.models.cnn_weights import detect_format

NL_BLOCKS = {"layer2.0", "layer2.2", "layer3.0", "layer3.2", "layer3.4"}
NL_NAMES = {
    "mmaction2": {"g": "g.0.conv", "theta": "theta.conv", "phi": "phi.0.conv", "out_conv": "conv_out.conv"}
    | {"out_norm": "conv_out.bn"},
    "tsm": {"g": "g.0", "theta": "theta", "phi": "phi.0", "out_conv": "W.0", "out_norm": "W.1"},
}


def randomised(name: str, seed: int, **kwargs) -> nn.Module:
    """A model with random weights everywhere, including norms (so that every tensor matters)."""
    torch.manual_seed(seed)
    model = create_model(name, num_classes=7, num_frames=2, backbone="resnet18", **kwargs).eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                noise = torch.rand_like(tensor) * 0.5 + 0.5 if tensor.ndim == 1 else torch.randn_like(tensor) * 0.05
                tensor.copy_(noise)
    return model


def clip() -> torch.Tensor:
    return torch.randn(1, 3, 2, 32, 32, generator=torch.Generator().manual_seed(0))


def _split_non_local(key: str) -> tuple[str, str, str]:
    layer, idx, part, rest = re.fullmatch(r"non_local\.(layer\d)_(\d+)\.(\w+)\.(.+)", key).groups()
    return f"{layer}.{idx}", part, rest


def _wrapped(key: str, state: dict) -> str:
    """Both toolboxes keep a block that has a non-local block after it under ``<block>.block``."""
    block = ".".join(key.split(".")[:2])
    if block in NL_BLOCKS and any(k.startswith("non_local.") for k in state):
        return key.replace(block + ".", block + ".block.", 1)
    return key


def to_mmaction2(state: dict) -> dict:
    """MMAction2 ResNetTSM keys: ConvModule names, ``.net`` on shifted convs, NL wrappers, cls_head."""
    out = {}
    for key, value in state.items():
        if key.startswith("head.fc."):
            out["cls_head.fc_cls." + key.removeprefix("head.fc.")] = value
            continue
        if key.startswith("non_local."):
            block, part, rest = _split_non_local(key)
            value = value[:, :, None] if value.ndim == 4 else value  # Conv3d kernels
            out[f"backbone.{block}.non_local_block.{NL_NAMES['mmaction2'][part]}.{rest}"] = value
            continue
        key = key.removeprefix("backbone.")
        match = re.fullmatch(r"(layer\d\.\d+)\.(conv|bn)(\d)\.(.+)", key)
        if match:
            block, kind, n, rest = match.groups()
            inner = "bn" if kind == "bn" else ("conv.net" if n == "1" else "conv")
            key = f"{block}.conv{n}.{inner}.{rest}"
        elif key.startswith(("conv1.", "bn1.")):
            key = "conv1.conv." + key[6:] if key.startswith("conv1.") else "conv1.bn." + key[4:]
        key = key.replace("downsample.0.", "downsample.conv.").replace("downsample.1.", "downsample.bn.")
        out["backbone." + _wrapped(key, state)] = value
    return {"meta": {"epoch": 50}, "state_dict": out}


def to_tsm_repo(state: dict, out_conv_bias: float = 0.3) -> dict:
    """TSM repository keys (DataParallel): torchvision names, ``conv1.net``, ``block``/``nl`` wrappers, new_fc.

    Its non-local output conv has a bias before the BatchNorm: the same function is kept by moving
    that bias into the BatchNorm's running mean.
    """
    out = {}
    for key, value in state.items():
        if key.startswith("head.fc."):
            out["module.new_fc." + key.removeprefix("head.fc.")] = value
            continue
        if key.startswith("non_local."):
            block, part, rest = _split_non_local(key)
            prefix = f"module.base_model.{block}.nl."
            if part == "out_conv":
                out[prefix + "W.0.bias"] = torch.full((value.shape[0],), out_conv_bias)
            if part == "out_norm" and rest == "running_mean":
                value = value + out_conv_bias
            out[prefix + f"{NL_NAMES['tsm'][part]}.{rest}"] = value[:, :, None] if value.ndim == 4 else value
            continue
        key = re.sub(r"^(layer\d\.\d+)\.conv1\.", r"\1.conv1.net.", key.removeprefix("backbone."))
        out["module.base_model." + _wrapped(key, state)] = value
    return out


@pytest.mark.parametrize("name", ["tsm_r50", "tsm_r50_nl"])
@pytest.mark.parametrize("fmt", ["videoshift", "mmaction2", "tsm"])
def test_checkpoint_formats_give_the_same_model(name, fmt, tmp_path):
    reference = randomised(name, seed=0)
    state = reference.state_dict()
    converted = {"videoshift": {"model": state}, "mmaction2": to_mmaction2(state), "tsm": to_tsm_repo(state)}[fmt]
    path = tmp_path / "checkpoint.pth"
    torch.save(converted, path)
    model = randomised(name, seed=1)
    load_checkpoint(model, path)
    with torch.no_grad():
        # 1e-5 absolute on logits of size ~5: the TSM-repo format folds the non-local output bias into the
        # norm's running mean, exact in real numbers but rounded differently in float32.
        assert torch.allclose(model(clip()), reference(clip()), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("keys", "fmt"),
    [
        (["backbone.conv1.conv.weight", "cls_head.fc_cls.weight"], "mmaction2"),
        (["base_model.conv1.weight", "new_fc.weight"], "tsm"),
        (["backbone.conv1.weight", "head.fc.weight"], "videoshift"),
        (["conv1.weight", "fc.weight"], "imagenet"),
    ],
)
def test_formats_are_detected_from_the_keys(keys, fmt):
    assert detect_format(keys) == fmt


def test_timm_imagenet_resnet_loads_into_the_backbone():
    torch.manual_seed(0)
    imagenet = timm.create_model("resnet50", num_classes=1000).eval()
    model = create_model("stsm_r50", num_classes=7, num_frames=2, alpha=0.0).eval()  # alpha=0: plain frames
    report = load_checkpoint(model, imagenet.state_dict())
    assert report.skipped_head == ["head.fc.weight", "head.fc.bias"]
    x = clip()
    frames = x.transpose(1, 2).flatten(0, 1)
    with torch.no_grad():
        ours = model.forward_features(x).transpose(1, 2).flatten(0, 1)
        assert torch.allclose(ours, imagenet.forward_features(frames))


def test_torchvision_imagenet_resnet_names_load():
    tv = torchvision.models.resnet18(num_classes=1000)
    model = create_model("tsn_r50", backbone="resnet18", num_classes=7, num_frames=2)
    load_checkpoint(model, {"state_dict": tv.state_dict()})
    assert torch.equal(model.backbone.layer3[1].conv2.weight, tv.layer3[1].conv2.weight)


@pytest.mark.parametrize("wrap", ["torchvision", "tsm"])
def test_other_mobilenetv2_layouts_are_matched_by_order(wrap):
    """torchvision's MobileNetV2 has other names but the same tensors in the same order as timm's."""
    torch.manual_seed(0)
    tv = torchvision.models.mobilenet_v2(num_classes=1000).eval()
    with torch.no_grad():
        for module in tv.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1), module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
    state = tv.state_dict()
    if wrap == "tsm":  # DataParallel + base_model + new_fc, classifier replaced by dropout
        state = {"module.base_model." + k: v for k, v in state.items() if not k.startswith("classifier.")}
        state |= {"module.new_fc.weight": torch.zeros(7, 1280), "module.new_fc.bias": torch.zeros(7)}
    model = create_model("tsn_mbv2", num_classes=7, num_frames=2).eval()
    load_checkpoint(model, state)
    x = clip()
    with torch.no_grad():
        ours = model.forward_features(x).transpose(1, 2).flatten(0, 1)
        assert torch.allclose(ours, tv.features(x.transpose(1, 2).flatten(0, 1)), atol=1e-5)


def test_a_checkpoint_of_another_architecture_is_refused():
    resnet18 = timm.create_model("resnet18").state_dict()
    with pytest.raises(CheckpointError, match=r"layer1\.0\.conv3\.weight"):
        load_checkpoint(create_model("tsm_r50", num_frames=2), resnet18)
