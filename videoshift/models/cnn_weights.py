"""Checkpoint key conversion for the 2D shift CNNs (:mod:`videoshift.models.shift_cnn`).

videoshift keeps timm's names (``backbone.layer1.0.conv1.weight``), the non-local blocks under
``non_local.layer2_0.*`` and the classifier under ``head.fc.*``. The formats users have, detected
from the keys:

- **MMAction2** TSN/TSM R50 (``backbone.`` + ``cls_head.fc_cls``): ``ConvModule`` names
  (``conv1.conv.weight``, ``conv1.bn.*``, ``layerI.J.convK.conv[.net].weight``, ``convK.bn.*``,
  ``downsample.conv`` / ``downsample.bn``), the ``.net`` infix of shifted convs, non-local wrappers
  (``layerI.J.block.*`` + ``layerI.J.non_local_block.{g.0,theta,phi.0,conv_out}.conv|bn``, 3D
  kernels) and the temporal-pool wrapper (``layer2.net.*``).
- **TSM repository** (``module.base_model.*``, ``module.new_fc.*``): torchvision names with the
  ``.net`` infix, non-local wrappers ``layerI.J.block.*`` + ``layerI.J.nl.{g.0,theta,phi.0,W.0,W.1}``.
  Its output convolution has a bias followed by BatchNorm; the bias is folded exactly into the
  BatchNorm's running mean (in training BatchNorm removes any constant anyway).
- **ImageNet** backbones with timm / torchvision ResNet names (identical) or timm MobileNetV2 names;
  their 1000-class classifier is dropped.
- Any other backbone layout with the same tensors in the same order (torchvision MobileNetV2
  ``features.*``, the TSM repository's or MMAction2's MobileNetV2) is matched by order, shape by shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import torch

logger = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]

_MMACTION2_BACKBONE_RULES = (
    (re.compile(r"^conv1\.conv\."), "conv1."),
    (re.compile(r"^conv1\.bn\."), "bn1."),
    (re.compile(r"\.conv(\d)\.conv\.(?:net\.)?"), r".conv\1."),
    (re.compile(r"\.conv(\d)\.bn\."), r".bn\1."),
    (re.compile(r"\.downsample\.conv\."), ".downsample.0."),
    (re.compile(r"\.downsample\.bn\."), ".downsample.1."),
)
_MMACTION2_NON_LOCAL_RULES = (
    ("g.0.conv.", "g."),
    ("theta.conv.", "theta."),
    ("phi.0.conv.", "phi."),
    ("conv_out.conv.", "out_conv."),
    ("conv_out.bn.", "out_norm."),
)
_TSM_NON_LOCAL_RULES = (
    ("g.0.", "g."),
    ("theta.", "theta."),
    ("phi.0.", "phi."),
    ("W.0.", "out_conv."),
    ("W.1.", "out_norm."),
)
_POOL_WRAPPER = re.compile(r"^(layer\d)\.net\.")  # TSM / MMAction2 temporal pooling wraps layer2
_BLOCK_WRAPPER = re.compile(r"^(layer\d\.\d+)\.block\.")  # non-local wrappers keep the block under .block
_NON_LOCAL = {
    "mmaction2": re.compile(r"^(layer\d)\.(\d+)\.non_local_block\."),
    "tsm": re.compile(r"^(layer\d)\.(\d+)\.nl\."),
}


def detect_format(keys: list[str]) -> str:
    """Which checkpoint format ``keys`` come from: ``mmaction2``, ``tsm``, ``videoshift`` or ``imagenet``."""
    if any(k.startswith("cls_head.") or k.startswith("backbone.conv1.conv.") for k in keys):
        return "mmaction2"
    if any(k.startswith("base_model.") for k in keys):
        return "tsm"
    if any(k.startswith("backbone.") for k in keys):
        return "videoshift"
    return "imagenet"


def _strip_prefix(state: Mapping[str, torch.Tensor], prefix: str) -> StateDict:
    if all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return dict(state)


def _non_local_key(match: re.Match[str], rest: str, rules: tuple[tuple[str, str], ...]) -> str:
    for old, new in rules:
        if rest.startswith(old):
            return f"non_local.{match.group(1)}_{match.group(2)}.{new}{rest[len(old) :]}"
    return f"non_local.{match.group(1)}_{match.group(2)}.{rest}"


def _convert_backbone(state: StateDict, fmt: str) -> StateDict:
    """Rename MMAction2 / TSM-repository backbone keys (prefix removed) to videoshift keys."""
    out: StateDict = {}
    conv_bias: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        key = _BLOCK_WRAPPER.sub(r"\1.", _POOL_WRAPPER.sub(r"\1.", key))
        nl = _NON_LOCAL[fmt].match(key)
        if nl:
            rules = _MMACTION2_NON_LOCAL_RULES if fmt == "mmaction2" else _TSM_NON_LOCAL_RULES
            key = _non_local_key(nl, key[nl.end() :], rules)
            value = value[:, :, 0] if value.ndim == 5 else value  # 1x1x1 Conv3d -> 1x1 Conv2d kernel
            if key.endswith("out_conv.bias"):
                conv_bias[key.removesuffix("out_conv.bias")] = value
                continue
            out[key] = value
            continue
        if fmt == "mmaction2":
            for pattern, replacement in _MMACTION2_BACKBONE_RULES:
                key = pattern.sub(replacement, key)
        else:
            key = key.replace(".net.", ".")
        out["backbone." + key] = value
    for prefix, bias in conv_bias.items():  # BN(z + b) == BN'(z) with running_mean' = running_mean - b
        out[prefix + "out_norm.running_mean"] = out[prefix + "out_norm.running_mean"] - bias
    return out


def _match_by_order(backbone: StateDict, own: Mapping[str, torch.Tensor]) -> StateDict:
    """Pair checkpoint backbone tensors with the model's backbone keys in order; shapes must agree."""
    own_keys = [k for k in own if k.startswith("backbone.") and not k.endswith("num_batches_tracked")]
    theirs = [(k, v) for k, v in backbone.items() if not k.endswith("num_batches_tracked")]
    if len(theirs) != len(own_keys):
        return backbone  # not the same architecture: let the strict loader name the keys
    for own_key, (_, value) in zip(own_keys, theirs, strict=True):
        if own[own_key].shape != value.shape:
            return backbone
    logger.info("checkpoint backbone matched to the model by tensor order (%d tensors)", len(theirs))
    out = {own_key: value for own_key, (_, value) in zip(own_keys, theirs, strict=True)}
    for key in own:  # counters that old checkpoints lack carry no information
        if key.startswith("backbone.") and key.endswith("num_batches_tracked"):
            out[key] = backbone.get(key, torch.zeros((), dtype=torch.long))
    return out


def convert_state_dict(
    state: Mapping[str, torch.Tensor], own: Mapping[str, torch.Tensor], not_in_imagenet: re.Pattern[str] | None = None
) -> StateDict:
    """Convert a checkpoint in any supported format to the keys of a model whose state dict is ``own``.

    An ImageNet classifier has none of the modules a video model adds (non-local blocks, TAMs, ...): keys of
    ``own`` that match ``not_in_imagenet`` and are absent from such a checkpoint keep the model's initialisation.
    """
    state = _strip_prefix(state, "module.")
    fmt = detect_format(list(state))
    if fmt == "videoshift":
        return dict(state)
    head: StateDict = {}
    if fmt == "mmaction2":
        head = {"head.fc." + k.rsplit(".", 1)[1]: v for k, v in state.items() if k.startswith("cls_head.fc_cls.")}
        body = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
        converted = _convert_backbone(body, fmt)
    elif fmt == "tsm":
        body = {}
        for key, value in state.items():
            if key.startswith(("new_fc.", "base_model.fc.")):  # base_model.fc when trained without dropout
                head["head.fc." + key.rsplit(".", 1)[1]] = value
            elif key.startswith("base_model."):
                body[key.removeprefix("base_model.")] = value
        converted = _convert_backbone(body, fmt)
    else:  # ImageNet classifier: another task, dropped
        converted = {"backbone." + k: v for k, v in state.items() if not k.startswith(("fc.", "classifier."))}
    non_local = {k: v for k, v in converted.items() if k.startswith("non_local.")}
    backbone = {k: v for k, v in converted.items() if k.startswith("backbone.")}
    if set(backbone) - set(own):
        backbone = _match_by_order(backbone, own)
    logger.info("converted a %s checkpoint (%d tensors)", fmt, len(state))
    out = {**backbone, **non_local, **head}
    if fmt == "imagenet" and not_in_imagenet is not None:
        kept = {k: v for k, v in own.items() if k not in out and not_in_imagenet.search(k)}
        if kept:
            logger.info("%d tensors that ImageNet models lack keep their initialisation", len(kept))
        out.update(kept)
    return out
