"""TDN and STSM+TDN: Temporal Difference Networks on ResNet-50, as in the TDN repository (MCG-NJU/TDN).

TDN (Wang et al., CVPR 2021) samples ``S`` segments of 5 consecutive frames and adds two modules to a TSN
ResNet-50 whose convolutions all have biases:

- **short-term** (S-TDM): the 4 differences of a segment's consecutive RGB frames are stacked (12 channels),
  halved by 2x2 average pooling and run through their own stem (7x7 conv, BN, ReLU, 3x3 max-pool) and their
  own copy of ``layer1``. The segment's centre frame runs through the main stem; the difference features are
  added (nearest-neighbour resized) after the main stem and after ``layer1``: ``x ← α·x + β·diff``, with
  ``α = β = 0.5`` at 8 segments and ``α, β = 0.75, 0.25`` otherwise (the repository's rule).
- **long-term** (L-TDM, "mSE"): in every bottleneck of ``layer2``–``layer4``, after ``conv1``+BN+ReLU, a
  channel-reduced (1/16) difference between each frame and its depthwise-convolved neighbour, at two spatial
  scales and in both directions, excites the features (``x + x·y``). It is followed by a learnable temporal
  shift: a depthwise ``Conv1d`` over time initialised as TSM (1/8 of the channels each way).

``stsm_tdn_r50`` replaces that learnable shift by the zero-parameter STSM shift, as the STSM paper does.

Built on timm's ResNet, keeping its backbone keys (the convolutions are re-made with a bias); the difference
branch lives in ``diff_stem`` / ``diff_layer1``, the modules in each block as ``mse`` and ``shift``. Clips are
``(B, 3, S·5, H, W)`` (``num_frames = S·5``, segment by segment), which the ``tsn`` sampler gives with
``segment_frames: 5``. TDN-repository checkpoints (``module.base_model.*``, ``module.new_fc.*``) load strictly.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from videoshift.models.cnn_weights import convert_state_dict
from videoshift.models.registry import register_model
from videoshift.models.shift_cnn import ShiftCNN, _stsm, residual_stages
from videoshift.ops.temporal import split_frames
from videoshift.paper_defaults import STSM_ALPHA, STSM_DIMS, TDN_SEGMENT_FRAMES, TDN_SEGMENTS, TSM_SHIFT_DIV

logger = logging.getLogger(__name__)


class LearnableTemporalShift(nn.Module):
    """TDN's shift: a depthwise ``Conv1d`` (kernel 3) over time per channel, initialised as TSM.

    At initialisation channels ``[0, C/8)`` read the next frame, ``[C/8, 2C/8)`` the previous one and the rest
    stay (zero at the clip ends), exactly :func:`videoshift.ops.temporal_shift`; training may change the taps.
    The taps are kept in ``conv`` (a ``Conv1d``, the repository's ``shift.conv.weight``); like the paper's counts,
    the multiply-adds of applying them are not counted (element-wise, as TSM's shift is free).
    """

    def __init__(self, channels: int, num_frames: int, shift_div: int = TSM_SHIFT_DIV) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.conv = nn.Conv1d(channels, channels, 3, padding=1, groups=channels, bias=False)
        fold = channels // shift_div
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[:fold, 0, 2] = 1  # out[t] <- x[t+1]
            self.conv.weight[fold : 2 * fold, 0, 0] = 1  # out[t] <- x[t-1]
            self.conv.weight[2 * fold :, 0, 1] = 1  # unchanged

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The depthwise Conv1d over time, out[t] = w0·x[t−1] + w1·x[t] + w2·x[t+1] per channel, written as three
        # multiply-adds on the (N, T, C, H, W) view: the same function as running self.conv on (N·H·W, C, T)
        # series, without the two transposing copies that made it ~25x slower than STSM's shift on CPU.
        frames = split_frames(x, self.num_frames)  # (N, T, C, H, W)
        taps = self.conv.weight.view(1, 1, -1, 3, 1, 1)
        previous = F.pad(frames[:, :-1], (0, 0, 0, 0, 0, 0, 1, 0))  # x[t-1], zero at t = 0
        following = F.pad(frames[:, 1:], (0, 0, 0, 0, 0, 0, 0, 1))  # x[t+1], zero at the last frame
        out = frames * taps[:, :, :, 1] + previous * taps[:, :, :, 0] + following * taps[:, :, :, 2]
        return out.flatten(0, 1)  # no in-place writes: exporters turn those into scatters


class MotionExcitation(nn.Module):
    """TDN's long-term module (mSE) on CNN features ``(N*T, C, H, W)``; attribute names are the repository's.

    ``d_fwd[t] = conv2(z)[t+1] − z[t]`` and ``d_bwd[t] = conv2(z)[t−1] − z[t]`` (zero where the neighbour is
    outside the clip), with ``z = bn1(conv1(x))`` reduced to ``C/16`` channels and ``conv2`` depthwise 3x3.
    Each direction adds a half-resolution path (2x2 average pool, 3x3 conv, BN, resized back) and a
    full-resolution path (3x3 conv, BN), then ``y = bn3(conv3(mean of the three))``; the output is
    ``x + x·(σ(y_fwd) + σ(y_bwd) − 1)/2``.

    As in the released code, the backward direction's full-resolution path is applied to the forward
    direction's full-resolution output (``d_bwd`` itself only enters the other two terms); the published
    weights are trained with it, so it is kept.
    """

    def __init__(self, channels: int, num_frames: int, reduction: int = 16) -> None:
        super().__init__()
        self.num_frames = num_frames
        width = channels // reduction
        self.conv1 = nn.Conv2d(channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, groups=width, bias=False)
        self.conv3 = nn.Conv2d(width, channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)
        self.conv3_smallscale2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn3_smallscale2 = nn.BatchNorm2d(width)
        self.conv3_smallscale4 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn3_smallscale4 = nn.BatchNorm2d(width)

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}"

    def _half_scale(self, d: torch.Tensor) -> torch.Tensor:
        out = self.bn3_smallscale2(self.conv3_smallscale2(F.avg_pool2d(d, 2)))
        return F.interpolate(out, size=d.shape[-2:])

    def _full_scale(self, d: torch.Tensor) -> torch.Tensor:
        return self.bn3_smallscale4(self.conv3_smallscale4(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = self.bn1(self.conv1(x))
        own = split_frames(reduced, self.num_frames)  # (N, T, C', H, W)
        moved = split_frames(self.conv2(reduced), self.num_frames)
        zero = torch.zeros_like(own[:, :1])
        d_fwd = torch.cat([moved[:, 1:] - own[:, :-1], zero], dim=1).flatten(0, 1)
        d_bwd = torch.cat([zero, moved[:, :-1] - own[:, 1:]], dim=1).flatten(0, 1)
        full_fwd = self._full_scale(d_fwd)
        full_bwd = self._full_scale(full_fwd)  # sic: the released code's backward full-scale input
        y_fwd = self.bn3(self.conv3((d_fwd + self._half_scale(d_fwd) + full_fwd) / 3))
        y_bwd = self.bn3(self.conv3((d_bwd + self._half_scale(d_bwd) + full_bwd) / 3))
        return x + x * (0.5 * (y_fwd.sigmoid() - 0.5) + 0.5 * (y_bwd.sigmoid() - 0.5))


def _excite_and_shift(block: nn.Module, _module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return (block.shift(block.mse(args[0])), *args[1:])


def _biased(conv: nn.Conv2d) -> nn.Conv2d:
    """The same convolution with a (zero-initialised) bias: every convolution of TDN's ResNet has one."""
    out = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    with torch.no_grad():
        out.weight.copy_(conv.weight)
        out.bias.zero_()
    return out


def _add_conv_biases(backbone: nn.Module) -> None:
    backbone.conv1 = _biased(backbone.conv1)
    for stage in residual_stages(backbone):
        for _, block in stage:
            for name in ("conv1", "conv2", "conv3"):
                if isinstance(getattr(block, name, None), nn.Conv2d):
                    setattr(block, name, _biased(getattr(block, name)))
            if block.downsample is not None:
                block.downsample[0] = _biased(block.downsample[0])


class TDN(ShiftCNN):
    """TDN on a timm ResNet: clips ``(B, 3, S·L, H, W)`` of ``S`` segments of ``L`` consecutive frames.

    Args:
        backbone: a timm ResNet with a plain 7x7 stem (``resnet50``, ``resnet18``, …).
        num_frames: frames per clip, ``S·L`` (TDN 8 segments: 40).
        segment_frames: ``L``, consecutive frames per segment (5 in TDN); the centre one is the RGB input.
        temporal_shift: ``"learnable"`` (TDN's depthwise Conv1d shift), or a ShiftCNN shift factory
            (frames -> parameter-free module, e.g. STSM) put in its place.
        fusion: ``(α, β)`` of the short-term fusion; ``None``: TDN's rule (0.5/0.5 at 8 segments, else 0.75/0.25).
        **kwargs: :class:`ShiftCNN`'s ``num_classes``, ``dropout``, ``drop_path_rate``.
    """

    #: The convolutions' biases, the difference branch, the mSE modules and the learnable shifts: not in ImageNet.
    not_in_imagenet = re.compile(r"\.bias$|^diff_|\.mse\.|\.shift\.")
    mixes_frames = True  # the short-term differences, the mSE modules and the shifts all mix frames

    def __init__(
        self,
        backbone: str = "resnet50",
        *,
        num_frames: int = TDN_SEGMENTS * TDN_SEGMENT_FRAMES,
        segment_frames: int = TDN_SEGMENT_FRAMES,
        temporal_shift: Any = "learnable",
        fusion: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if segment_frames < 2 or num_frames % segment_frames:
            raise ValueError(
                f"TDN needs num_frames = segments x segment_frames (segment_frames >= 2), got num_frames={num_frames}"
                f", segment_frames={segment_frames}"
            )
        if kwargs.get("temporal_pool") or kwargs.get("non_local") or "shift_layer" in kwargs:
            raise ValueError("TDN takes temporal_shift=, and has no temporal pooling or non-local blocks")
        segments = num_frames // segment_frames
        super().__init__(backbone, num_frames=segments, **kwargs)
        bb = self.backbone
        if not hasattr(bb, "layer4") or not isinstance(bb.conv1, nn.Conv2d):
            raise ValueError(f"TDN needs a timm ResNet with a single-conv stem, got backbone={backbone!r}")
        self.num_frames = num_frames
        self.num_segments = segments
        self.segment_frames = segment_frames
        self.fusion = fusion if fusion is not None else ((0.5, 0.5) if segments == 8 else (0.75, 0.25))
        self.grad_checkpointing = False

        _add_conv_biases(bb)
        stem = bb.conv1
        self.diff_stem = nn.Sequential(
            nn.Conv2d(3 * (segment_frames - 1), stem.out_channels, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(stem.out_channels),
            nn.ReLU(inplace=True),
        )
        with torch.no_grad():  # TDN: the RGB stem's kernel averaged over colours, for each difference channel
            self.diff_stem[0].weight.copy_(stem.weight.mean(dim=1, keepdim=True).expand_as(self.diff_stem[0].weight))
        self.diff_layer1 = copy.deepcopy(bb.layer1)  # TDN: layer1 of a second (equally initialised) ResNet

        for stage in residual_stages(bb)[1:]:
            for _, block in stage:
                width = block.conv1.out_channels
                block.mse = MotionExcitation(width, segments)
                if temporal_shift == "learnable":
                    block.shift = LearnableTemporalShift(width, segments)
                else:
                    block.shift = temporal_shift(segments)
                block.conv2.register_forward_pre_hook(functools.partial(_excite_and_shift, block))

    def _run(self, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.grad_checkpointing and torch.is_grad_enabled():
            return checkpoint(layer, x, use_reentrant=False)
        return layer(x)

    def _wrong_frames_message(self, t: int) -> str:
        return (
            f"clip has {t} frames but this TDN takes num_frames={self.num_frames} = {self.num_segments} segments "
            f"x {self.segment_frames} consecutive frames (sample with segment_frames: {self.segment_frames})"
        )

    def _fuse(self, x: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        alpha, beta = self.fusion
        return alpha * x + beta * F.interpolate(diff, size=x.shape[-2:])

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features ``(B, F, S, h, w)`` of clips ``(B, 3, S·L, H, W)``."""
        self.check_clip(x)
        b, c, _, h, w = x.shape
        s, length = self.num_segments, self.segment_frames
        segments = x.view(b, c, s, length, h, w).permute(0, 2, 3, 1, 4, 5).reshape(b * s, length, c, h, w)
        centre = segments[:, length // 2]
        diffs = (segments[:, 1:] - segments[:, :-1]).flatten(1, 2)  # (B*S, 3(L-1), H, W), later minus earlier
        diff = F.max_pool2d(self.diff_stem(F.avg_pool2d(diffs, 2)), 3, stride=2, padding=1)

        bb = self.backbone
        out = self._fuse(bb.maxpool(bb.act1(bb.bn1(bb.conv1(centre)))), diff)
        out = self._fuse(self._run(bb.layer1, out), self._run(self.diff_layer1, diff))
        for layer in (bb.layer2, bb.layer3, bb.layer4):
            out = self._run(layer, out)
        return out.view(b, s, *out.shape[1:]).transpose(1, 2)  # (B, F, S, h, w)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each stage (and the difference branch's layer1) in the backward pass."""
        self.grad_checkpointing = enable

    def checkpoint_filter(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """TDN-repository checkpoints (``module.base_model.*``, ``module.new_fc.*``) to this model's keys."""
        return convert_tdn_state_dict(state_dict, self.state_dict(), self.not_in_imagenet)


_TDN_RULES = (
    (re.compile(r"^base_model\.layer(\d)_bak\."), r"backbone.layer\1."),
    (re.compile(r"^base_model\.resnext_layer1\."), "diff_layer1."),
    (re.compile(r"^base_model\.conv1_5\."), "diff_stem."),
    (re.compile(r"^base_model\.(conv1|bn1)\."), r"backbone.\1."),
    (re.compile(r"^(?:new_fc|base_model\.fc)\."), "head.fc."),  # base_model.fc: trained with dropout 0
)
_TDN_UNUSED = re.compile(r"^base_model\.conv1_temp1?\.")


def convert_tdn_state_dict(
    state: dict[str, torch.Tensor], own: dict[str, torch.Tensor], not_in_imagenet: re.Pattern[str] | None = None
) -> dict[str, torch.Tensor]:
    """Rename a TDN-repository state dict to :class:`TDN` keys; other formats go to the shift CNNs' converter.

    The repository's ``conv1_temp`` / ``conv1_temp1`` (the second ResNet's stem, never called) are dropped.
    Unknown keys are kept as they are, so the strict loader names them.
    """
    state = {k.removeprefix("module."): v for k, v in state.items()}
    if not any(k.startswith("base_model.layer1_bak.") for k in state):
        return convert_state_dict(state, own, not_in_imagenet)
    unused = sorted(k for k in state if _TDN_UNUSED.match(k))
    if unused:
        logger.info("dropped the TDN repository's unused second stem: %s", ", ".join(unused))
    out = {}
    for key, value in state.items():
        if key in unused:
            continue
        for pattern, replacement in _TDN_RULES:
            new, hits = pattern.subn(replacement, key)
            if hits:
                key = new
                break
        out[key] = value
    return out


@register_model(kwargs_to=(TDN,))
def tdn_r50(backbone: str = "resnet50", **kwargs: Any) -> TDN:
    """TDN: ResNet-50 with the short-term difference module and mSE + learnable shift in layers 2-4."""
    return TDN(backbone, **kwargs)


@register_model(kwargs_to=(TDN,))
def stsm_tdn_r50(backbone: str = "resnet50", alpha: float = STSM_ALPHA, dims: str = STSM_DIMS, **kwargs: Any) -> TDN:
    """STSM+TDN: TDN with the zero-parameter STSM shift in place of its learnable temporal shift."""
    shift = _stsm(alpha, dims)
    if shift is None:
        raise ValueError("stsm_tdn_r50 needs alpha > 0")
    return TDN(backbone, temporal_shift=shift, **kwargs)
