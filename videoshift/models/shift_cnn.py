"""TSN, TSM and STSM recognizers: timm 2D backbones run per frame, with zero-parameter shifts.

All three share one recognizer, :class:`ShiftCNN`: the clip ``(B, C, T, H, W)`` is folded into a
batch of frames ``(B*T, C, H, W)``, a timm ResNet or MobileNetV2 runs on it, and the head averages
per-frame logits over time. TSN has no shift; TSM inserts the temporal channel shift and STSM the
spatio-temporal shift (``videoshift.ops``) before the first convolution of every residual block —
the residual branch only (TSM's "blockres"; the STSM paper inserts STSM at the same place): all 16
bottlenecks of ResNet-50, and the 10 inverted-residual blocks of MobileNetV2 that have a skip
connection. ``*_nl`` variants add non-local blocks as TSM+NL does.

How the shift is inserted: the shift module is registered as a parameter-free child ``shift`` of
its block (so it shows in ``print(model)`` and ``model.modules()``), and is called from a forward
pre-hook on the block's first convolution. This is the only way that (a) keeps every backbone
weight under timm's own name — ImageNet weights load unchanged and ``backbone.state_dict()`` is
exactly timm's — while (b) not re-implementing timm's block ``forward`` for each block type
(Bottleneck, BasicBlock, InvertedResidual, DepthwiseSeparableConv) and each timm version. Wrapping
the convolution (TSM, MMAction2) would rename ``conv1.weight`` to ``conv1.net.weight``. The hook
is a ``functools.partial`` of a module-level function, so models deep-copy and pickle with their
shifts. Temporal pooling and non-local blocks are inserted the same way (pre-hook on ``layer2``,
forward hooks on the chosen blocks); the non-local blocks live in ``model.non_local``, outside the
backbone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import timm
import torch
import torch.nn.functional as F
from torch import nn

from videoshift.models.cnn_weights import convert_state_dict
from videoshift.models.contract import CamLayer
from videoshift.models.hooks import run_after, run_before
from videoshift.models.imagenet import imagenet_name
from videoshift.models.nonlocal_block import NonLocal
from videoshift.models.registry import register_model
from videoshift.ops import SpatioTemporalShift, TemporalShift
from videoshift.paper_defaults import CNN_FRAMES, HEAD_DROPOUT, STSM_ALPHA, STSM_DIMS, TSM_SHIFT_DIV

ShiftFactory = Callable[[int], nn.Module]  # frames per clip -> parameter-free shift module


def _own_shift(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The block's ``shift`` child, looked up when called: a deployment may swap in a causal or streaming one."""
    return block.shift(x)


class TemporalMaxPool(nn.Module):
    """TSM's temporal pooling: max over time, kernel 3, stride 2, padding 1, on ``(B*T, C, H, W)``.

    Returns ``(B*T', C, H, W)`` with ``T' = ceil(T / 2)``; the same as MMAction2's
    ``MaxPool3d((3, 1, 1), (2, 1, 1), (1, 0, 0))`` on the unfolded clip.
    """

    def __init__(self, num_frames: int) -> None:
        super().__init__()
        self.num_frames = num_frames

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bt, c, h, w = x.shape
        b = bt // self.num_frames
        x = x.view(b, self.num_frames, c * h * w).transpose(1, 2)  # (B, C*H*W, T)
        x = F.max_pool1d(x, kernel_size=3, stride=2, padding=1)  # (B, C*H*W, T')
        return x.transpose(1, 2).reshape(-1, c, h, w)


class FrameConsensusHead(nn.Module):
    """Classifier applied to every frame, then averaged over time (MMAction2 TSM head, avg consensus).

    Input ``(B, T, F)`` pooled frame features; output ``(B, num_classes)``. Averaging logits equals
    classifying the averaged feature at test time (the classifier is linear), but in training each
    frame draws its own dropout mask, as in MMAction2's ``TSMHead`` and the TSM repository.
    """

    def __init__(self, num_features: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.fc: nn.Module = nn.Identity()
        self.reset(num_features, num_classes)

    def reset(self, num_features: int, num_classes: int) -> None:
        """Replace the classifier by a fresh one (``num_classes=0``: no classifier, features out)."""
        if num_classes <= 0:
            self.fc = nn.Identity()
            return
        self.fc = nn.Linear(num_features, num_classes)
        nn.init.normal_(self.fc.weight, std=0.001)  # TSM / MMAction2 head initialisation
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(x)).mean(dim=1)


def _first_conv(block: nn.Module) -> nn.Module:
    """The first convolution of a timm residual block's residual branch."""
    for name in ("conv1", "conv_pw", "conv_dw"):  # ResNet blocks, InvertedResidual, DepthwiseSeparableConv
        if isinstance(getattr(block, name, None), nn.Conv2d):
            return getattr(block, name)
    raise ValueError(f"cannot find the first convolution of block {type(block).__name__}")


def residual_stages(backbone: nn.Module) -> list[list[tuple[str, nn.Module]]]:
    """Per stage, ``(name, block)`` of every block with a residual connection, in forward order.

    ResNet: ``layer1..layer4``, every block. MobileNetV2 / EfficientNet-style: ``blocks``, only the
    blocks whose ``has_skip`` is true (MobileNetV2-1.0: 10 of 17).
    """
    if hasattr(backbone, "layer4"):
        return [
            [(f"layer{i}.{j}", block) for j, block in enumerate(getattr(backbone, f"layer{i}"))] for i in range(1, 5)
        ]
    if hasattr(backbone, "blocks") and hasattr(backbone, "conv_stem"):
        return [
            [(f"blocks.{i}.{j}", block) for j, block in enumerate(stage) if getattr(block, "has_skip", False)]
            for i, stage in enumerate(backbone.blocks)
        ]
    raise ValueError(f"backbone {type(backbone).__name__} is neither a timm ResNet nor a MobileNetV2/EfficientNet")


def _block_out_channels(block: nn.Module) -> int:
    last = block.conv3 if hasattr(block, "conv3") else block.conv2
    return last.out_channels


class ShiftCNN(nn.Module):
    """A 2D CNN recognizer over frames, optionally with a shift in every residual block.

    Input ``(B, C, T, H, W)`` with ``T == num_frames``; output logits ``(B, num_classes)``.

    Args:
        backbone: timm model name of a ResNet (``resnet50``, ``resnet18``, …) or MobileNetV2.
        num_classes: classes of the classifier (0: none, ``forward`` returns pooled features).
        num_frames: frames per clip (TSM's ``num_segments``); clips of another length are rejected.
        shift_layer: builds the shift module for a given number of frames, or ``None`` (TSN).
        temporal_pool: TSM's temporal max-pooling before ``layer2`` (ResNets only); halves the
            frames seen by later stages and by the head.
        non_local: add non-local blocks after the even-indexed blocks of ``layer2`` and ``layer3``
            (ResNet-50: 2 + 3 blocks, TSM+NL / MMAction2 ``non_local=((0,0,0), (1,0,1,0),
            (1,0,1,0,1,0), (0,0,0))``).
        non_local_mode: pairwise function of the non-local blocks.
        dropout: dropout before the classifier.
        drop_path_rate: stochastic depth of the timm backbone.
    """

    #: Keys an ImageNet classifier lacks, which keep their initialisation under ``pretrained=True``.
    not_in_imagenet: re.Pattern[str] = re.compile(r"^non_local\.")
    family = "cnn"

    def __init__(
        self,
        backbone: str = "resnet50",
        *,
        num_classes: int = 400,
        num_frames: int = CNN_FRAMES,
        shift_layer: ShiftFactory | None = None,
        temporal_pool: bool = False,
        non_local: bool = False,
        non_local_mode: str = "embedded_gaussian",
        dropout: float = HEAD_DROPOUT,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        self.backbone = timm.create_model(backbone, num_classes=0, drop_path_rate=drop_path_rate)
        self.backbone_name = backbone
        self.imagenet_weights: str | None = imagenet_name(backbone)  # the papers' ImageNet start (torchvision's)
        self.num_frames = num_frames
        self.num_features: int = self.backbone.num_features
        stages = residual_stages(self.backbone)
        is_resnet = hasattr(self.backbone, "layer4")
        if (temporal_pool or non_local) and not is_resnet:
            raise ValueError(f"temporal_pool and non_local need a ResNet backbone, got backbone={backbone!r}")
        if temporal_pool and num_frames % 2:
            raise ValueError(f"temporal_pool needs an even num_frames, got {num_frames}")
        self.out_frames = num_frames // 2 if temporal_pool else num_frames
        stage_frames = [num_frames] + [self.out_frames] * (len(stages) - 1) if is_resnet else [num_frames] * len(stages)

        self.temporal_pool: nn.Module | None = None
        if temporal_pool:
            self.temporal_pool = TemporalMaxPool(num_frames)
            run_before(self.backbone.layer2, self.temporal_pool)
        if shift_layer is not None:
            for frames, stage in zip(stage_frames, stages, strict=True):
                for _, block in stage:
                    block.shift = shift_layer(frames)
                    run_before(_first_conv(block), functools.partial(_own_shift, block))
        self.non_local = nn.ModuleDict()
        if non_local:
            for frames, stage in zip(stage_frames[1:3], stages[1:3], strict=True):
                for name, block in stage[::2]:
                    layer = NonLocal(_block_out_channels(block), frames, mode=non_local_mode)
                    self.non_local[name.replace(".", "_")] = layer
                    run_after(block, layer)
        self.head = FrameConsensusHead(self.num_features, num_classes, dropout)

    @property
    def head_keys(self) -> tuple[str, ...]:
        """Key prefixes of the classifier (may be re-sized when loading a checkpoint)."""
        return ("head.fc",)

    @property
    def num_classes(self) -> int:
        """Outputs of the classifier (0 without one)."""
        return self.head.fc.out_features if isinstance(self.head.fc, nn.Linear) else 0

    @property
    def mixes_frames(self) -> bool:
        """Whether frames meet before the consensus: a shift in some block, temporal pooling or non-local blocks."""
        shifted = any(hasattr(block, "shift") for stage in residual_stages(self.backbone) for _, block in stage)
        return shifted or self.temporal_pool is not None or len(self.non_local) > 0

    def cam_layer(self) -> CamLayer:
        """Grad-CAM reads the last stage, ``forward_features``' ``(B, F, T', h, w)``."""
        return CamLayer(None, lambda a: a[0], "last CNN stage (B, F, T', h, w)")

    def _wrong_frames_message(self, t: int) -> str:
        return (
            f"clip has {t} frames but the model was built with num_frames={self.num_frames}; "
            "the shifts and the consensus group frames by num_frames (create the model with "
            f"num_frames={t} or sample {self.num_frames} frames)"
        )

    def check_clip(self, x: torch.Tensor) -> None:
        """Raise unless ``x`` is a clip ``(B, C, T, H, W)`` with ``T == num_frames``."""
        if x.ndim != 5:
            raise ValueError(f"expected clips (B, C, T, H, W), got shape {tuple(x.shape)}")
        if x.shape[2] != self.num_frames:
            raise ValueError(self._wrong_frames_message(x.shape[2]))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features ``(B, F, T', h, w)`` of clips ``(B, C, T, H, W)`` (T' = T/2 with temporal_pool)."""
        self.check_clip(x)
        b, c, t, h, w = x.shape
        x = x.transpose(1, 2).reshape(b * t, c, h, w)  # (B*T, C, H, W)
        x = self.backbone.forward_features(x)  # (B*T', F, h, w)
        return x.view(b, -1, *x.shape[1:]).transpose(1, 2)  # (B, F, T', h, w)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Logits ``(B, num_classes)`` from features ``(B, F, T', h, w)``; ``pre_logits``: ``(B, F)``."""
        x = x.mean(dim=(3, 4)).transpose(1, 2)  # (B, T', F), spatial average per frame
        if pre_logits:
            return x.mean(dim=1)
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier by a new one for ``num_classes`` classes."""
        self.head.reset(self.num_features, num_classes)

    def no_weight_decay(self) -> set[str]:
        """Biases and normalisation parameters (the TSM repository trains them without decay)."""
        return {name for name, p in self.named_parameters() if p.ndim <= 1}

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute backbone stages in the backward pass (shifts and hooks run again, deterministic)."""
        self.backbone.set_grad_checkpointing(enable)

    def checkpoint_filter(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Convert MMAction2, TSM-repository and plain ImageNet checkpoints to this model's keys."""
        return convert_state_dict(state_dict, self.state_dict(), self.not_in_imagenet)


def _tsm(shift_div: int, causal: bool = False) -> ShiftFactory:
    convention = "causal" if causal else "tsm"
    return lambda frames: TemporalShift(num_frames=frames, shift_div=shift_div, convention=convention)


def _stsm(alpha: float, dims: str, causal: bool = False) -> ShiftFactory | None:
    """STSM's shift; ``alpha=0`` moves no channel, the TSN baseline of the STSM paper's Table 1."""
    if alpha == 0:
        return None
    convention = "causal" if causal else "stsm"
    return lambda frames: SpatioTemporalShift(num_frames=frames, alpha=alpha, dims=dims, convention=convention)


@register_model(kwargs_to=(ShiftCNN,))
def tsn_r50(backbone: str = "resnet50", **kwargs: Any) -> ShiftCNN:
    """TSN: ResNet-50 per frame, no shift, average consensus."""
    return ShiftCNN(backbone, **kwargs)


@register_model(kwargs_to=(ShiftCNN,))
def tsm_r50(
    backbone: str = "resnet50", shift_div: int = TSM_SHIFT_DIV, causal: bool = False, **kwargs: Any
) -> ShiftCNN:
    """TSM: ResNet-50 with 1/shift_div channels shifted each way in time, in every bottleneck.

    ``causal``: online TSM, 1/shift_div channels read the previous frame only (streamable).
    """
    return ShiftCNN(backbone, shift_layer=_tsm(shift_div, causal), **kwargs)


@register_model(kwargs_to=(ShiftCNN,))
def stsm_r50(
    backbone: str = "resnet50", alpha: float = STSM_ALPHA, dims: str = STSM_DIMS, causal: bool = False, **kwargs: Any
) -> ShiftCNN:
    """STSM: ResNet-50 with the spatio-temporal shift (ratio ``alpha``, groups ``dims``) in every bottleneck.

    ``causal``: the T group reads only the past (an extension the STSM paper does not evaluate; streamable).
    """
    return ShiftCNN(backbone, shift_layer=_stsm(alpha, dims, causal), **kwargs)


@register_model(kwargs_to=(ShiftCNN,))
def tsn_mbv2(backbone: str = "mobilenetv2_100", **kwargs: Any) -> ShiftCNN:
    """TSN on MobileNetV2."""
    return ShiftCNN(backbone, **kwargs)


@register_model(kwargs_to=(ShiftCNN,))
def tsm_mbv2(
    backbone: str = "mobilenetv2_100", shift_div: int = TSM_SHIFT_DIV, causal: bool = False, **kwargs: Any
) -> ShiftCNN:
    """TSM on MobileNetV2: the shift before the expansion conv of the 10 blocks with a skip (``causal``: online TSM)."""
    return ShiftCNN(backbone, shift_layer=_tsm(shift_div, causal), **kwargs)


@register_model(kwargs_to=(ShiftCNN,))
def stsm_mbv2(
    backbone: str = "mobilenetv2_100",
    alpha: float = STSM_ALPHA,
    dims: str = STSM_DIMS,
    causal: bool = False,
    **kwargs: Any,
) -> ShiftCNN:
    """STSM on MobileNetV2: the shift before the expansion conv of the 10 blocks with a skip (``causal``: past only)."""
    return ShiftCNN(backbone, shift_layer=_stsm(alpha, dims, causal), **kwargs)


@register_model(kwargs_to=(ShiftCNN,))
def tsm_r50_nl(backbone: str = "resnet50", shift_div: int = TSM_SHIFT_DIV, **kwargs: Any) -> ShiftCNN:
    """TSM+NL: TSM ResNet-50 with 5 non-local blocks (layer2: 0, 2; layer3: 0, 2, 4)."""
    return ShiftCNN(backbone, shift_layer=_tsm(shift_div), non_local=True, **kwargs)


@register_model(kwargs_to=(ShiftCNN,))
def stsm_r50_nl(
    backbone: str = "resnet50", alpha: float = STSM_ALPHA, dims: str = STSM_DIMS, **kwargs: Any
) -> ShiftCNN:
    """STSM+TSN+NL: STSM ResNet-50 with the non-local blocks of TSM+NL."""
    return ShiftCNN(backbone, shift_layer=_stsm(alpha, dims), non_local=True, **kwargs)
