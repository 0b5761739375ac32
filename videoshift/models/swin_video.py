"""One Swin video backbone for 2D Swin, Video Swin and the Patch Shift Transformers (PST).

Tokens are channels-last ``(B, T, H, W, C)``. A clip ``(B, C, T, H, W)`` is cut into tubelets by a
Conv3d (default ``(2, 4, 4)``) + LayerNorm; four stages of window-attention blocks follow, with
patch merging over ``H, W`` between stages, a final LayerNorm and an I3D-style head (mean over
``T, H, W`` → dropout → ``fc_cls``). Every block is one of three temporal kinds:

- ``"plain"``: window attention only (2D Swin with ``(1, Hw, Ww)`` windows, Video Swin with ``Tw > 1``);
- ``"tcs"``: temporal channel shift per head before attention (:func:`videoshift.ops.pst_channel_shift`);
- ``"tps"``: temporal patch shift of the window tokens before attention, shifted back afterwards.

Odd blocks use Swin's shifted windows. The roll, padding, window partition and patch shift of a
block are one cached gather and their inverse one cached scatter (:mod:`videoshift.models.swin_layout`).

Relative position bias, two modes:

- ``rpe="official"`` is the released ``SwinTransformer2D_TPS`` exactly (same state-dict keys and
  buffers; see :func:`~videoshift.models.swin_layout.official_rpe_indices`): the table is sized for 16
  temporal tokens, every query frame is paired with key frame 0, and non-TPS blocks get a bias that
  depends on the frame index. It runs only with 16 temporal tokens and 7×7 windows at every stage.
- ``rpe="general"`` uses true 3D relative positions of the tokens where they sit after the patch
  shift (the paper's "shift RPE"): temporal offset = difference of the source frames, clamped to the
  table's extent. It runs any number of frames, any input size (windows padded or clamped) and
  temporal windows larger than 1 (the † variants and Video Swin).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from timm.layers import DropPath, Mlp, trunc_normal_
from torch import nn
from torch.utils.checkpoint import checkpoint

from videoshift.models.contract import CamLayer
from videoshift.models.swin_layout import (
    OFFICIAL_FRAMES,
    OFFICIAL_WINDOW,
    OffsetGrid,
    Size3,
    block_layout,
    effective_window,
    general_rpe_index,
    official_rpe_indices,
    table_rows,
    window_offsets,
)
from videoshift.ops import pst_channel_shift, resolve_pattern
from videoshift.paper_defaults import (
    HEAD_DROPOUT,
    PST_FRAMES,
    PST_T_DROP_PATH,
    TCS_CHANNEL_DIV,
    TPS_ALTERNATE,
    TPS_PATTERN,
    TPS_STAGES,
)

MIXINGS = ("pst", "patch", "channel", "none")
RPE_MODES = ("official", "general")


@dataclass(frozen=True)
class ShiftSettings:
    """Which blocks shift what: the switches of the TPS paper's Table 2.

    Attributes:
        mixing: ``"pst"`` (TCS in even blocks, TPS in odd blocks), ``"patch"`` (TPS only, "patch-only
            PST"), ``"channel"`` (TCS in every block, "channel-only PST") or ``"none"``.
        pattern: TPS pattern name or grid (:func:`videoshift.ops.resolve_pattern`).
        tps_stages: stages (0-based) whose blocks may patch-shift; the others keep only TCS (if any).
        alternate: TPS in every second block (True, the paper's "alternative shift") or in every block.
        shift_back: return patch-shifted tokens to their frame after attention.
        shift_rpe: shift the relative positions alongside the patches.
        channel_div: TCS moves ``head_dim // channel_div`` channels of each head each way.
    """

    mixing: str = "none"
    pattern: str | tuple[tuple[int, ...], ...] = TPS_PATTERN
    tps_stages: tuple[int, ...] = TPS_STAGES
    alternate: bool = TPS_ALTERNATE
    shift_back: bool = True
    shift_rpe: bool = True
    channel_div: int = TCS_CHANNEL_DIV

    def __post_init__(self) -> None:
        if self.mixing not in MIXINGS:
            raise ValueError(f"mixing must be one of {MIXINGS}, got {self.mixing!r}")
        if self.channel_div < 1:
            raise ValueError(f"channel_div must be >= 1, got {self.channel_div}")
        resolve_pattern(self.pattern, width=OFFICIAL_WINDOW)  # raises on unknown names and bad grids
        if not isinstance(self.pattern, str):  # a grid: make it hashable for the layout caches
            object.__setattr__(self, "pattern", tuple(tuple(int(v) for v in row) for row in self.pattern))

    def block_kind(self, stage: int, index: int) -> str:
        """Temporal kind (``"plain"``, ``"tcs"``, ``"tps"``) of block ``index`` in ``stage``."""
        if self.mixing == "none":
            return "plain"
        if self.mixing == "channel":
            return "tcs"
        tps_here = stage in self.tps_stages and (index % 2 == 1 or not self.alternate)
        if tps_here:
            return "tps"
        return "tcs" if self.mixing == "pst" and index % 2 == 0 else "plain"


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows, plus a learned relative position bias.

    Args:
        dim: channels.
        num_heads: attention heads.
        table_size: rows of ``relative_position_bias_table``.
        official_offsets: window-local TPS offsets; when given, the release's two ``(16, 49, 49)``
            index buffers are registered (``rpe="official"``).
        qkv_bias: bias in the ``qkv`` projection.
        attn_drop: dropout on attention weights.
        proj_drop: dropout after the output projection.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        table_size: int,
        official_offsets: OffsetGrid | None = None,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros(table_size, num_heads))
        if official_offsets is not None:
            index, index_old = official_rpe_indices(official_offsets)
            self.register_buffer("relative_position_index", index)
            self.register_buffer("relative_position_index_old", index_old)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(
        self, x: torch.Tensor, bias_index: torch.Tensor, mask: torch.Tensor | None, num_windows: tuple[int, int]
    ) -> torch.Tensor:
        """Attend within windows.

        Args:
            x: ``(B*nWt*nWs, N, C)`` window tokens, windows ordered ``(batch, temporal, spatial)``.
            bias_index: ``(nWt or 1, N, N)`` rows of the bias table for each temporal window.
            mask: ``(nWt*nWs, N, N)`` additive mask of shifted windows, or ``None``.
            num_windows: ``(nWt, nWs)``.
        """
        bw, n, c = x.shape
        n_t, n_s = num_windows
        qkv = self.qkv(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B*nW, nH, N, hd)
        attn = (q * self.scale) @ k.transpose(-2, -1)  # (B*nW, nH, N, N)
        bias = self.relative_position_bias_table[bias_index.reshape(-1)]
        bias = bias.view(bias_index.shape[0], 1, n, n, self.num_heads).permute(0, 1, 4, 2, 3)  # (nWt|1, 1, nH, N, N)
        scores = attn.view(-1, n_t, n_s, self.num_heads, n, n)
        scores.add_(bias)  # in place: the matmul output is not needed by autograd
        if mask is not None:
            scores.add_(mask.to(attn.dtype).view(n_t, n_s, 1, n, n))
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj_drop(self.proj(x))


class SwinVideoBlock(nn.Module):
    """Window attention (optionally shifted windows, TCS or TPS) + MLP, each with a residual.

    Args:
        dim: channels.
        num_heads: attention heads.
        window_size: configured window ``(Tw, Hw, Ww)``; clamped per input by Swin's rule.
        shifted: use Swin's shifted windows (shift = half the window).
        kind: ``"plain"``, ``"tcs"`` or ``"tps"``.
        shift: the model's :class:`ShiftSettings`.
        rpe: ``"official"`` or ``"general"``.
        table_extent: ``(R, Hw, Ww)`` the bias table covers.
        mlp_ratio: MLP hidden width / ``dim``.
        qkv_bias: bias in ``qkv``.
        drop: dropout after projections.
        attn_drop: dropout on attention weights.
        drop_path: stochastic depth rate of both residual branches.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: Size3,
        shifted: bool,
        kind: str,
        shift: ShiftSettings,
        rpe: str,
        table_extent: Size3,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.window_size = window_size
        self.shift_size: Size3 = tuple(w // 2 for w in window_size) if shifted else (0, 0, 0)  # type: ignore[assignment]
        self.kind = kind
        self.shift = shift
        self.rpe = rpe
        self.table_extent = table_extent
        self.norm1 = nn.LayerNorm(dim)
        official = window_offsets(shift.pattern, window_size) if rpe == "official" else None
        self.attn = WindowAttention(dim, num_heads, table_rows(table_extent), official, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=nn.GELU, drop=drop)

    def extra_repr(self) -> str:
        return f"kind={self.kind}, window_size={self.window_size}, shift_size={self.shift_size}, rpe={self.rpe}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, H, W, C)`` → same shape."""
        x = x + self.drop_path(self._attention(x))
        return x + self.drop_path(self.mlp(self.norm2(x)))

    def _attention(self, x: torch.Tensor) -> torch.Tensor:
        """norm1 → TCS → pad → gather (roll, partition, TPS) → attention → scatter (inverse, crop).

        One name is rebound at each step so that no intermediate outlives its use (peak memory).
        """
        b, t, h, w, c = x.shape
        window, shift = effective_window((t, h, w), self.window_size, self.shift_size)
        offsets = window_offsets(self.shift.pattern, window) if self.kind == "tps" else None
        layout = block_layout((t, h, w), window, shift, offsets, self.shift.shift_back, x.device)
        dp, hp, wp = layout.padded
        tokens = self.norm1(x)
        if self.kind == "tcs":
            tokens = pst_channel_shift(tokens, self.num_heads, self.shift.channel_div)
        if (dp, hp, wp) != (t, h, w):
            tokens = F.pad(tokens, (0, 0, 0, wp - w, 0, hp - h, 0, dp - t))
        tokens = tokens.reshape(b, dp * hp * wp, c)
        if layout.gather is not None:
            tokens = tokens.index_select(1, layout.gather)
        n = window[0] * window[1] * window[2]
        bias_index = self._bias_index(t, dp, window, offsets if self.shift.shift_rpe else None)
        tokens = self.attn(tokens.view(-1, n, c), bias_index, layout.mask, layout.num_windows).view(b, -1, c)
        if layout.scatter is not None:
            tokens = tokens.index_select(1, layout.scatter)
        return tokens.view(b, t, h, w, c)

    def _bias_index(self, frames: int, padded_frames: int, window: Size3, offsets: OffsetGrid | None) -> torch.Tensor:
        if self.rpe == "general":
            return general_rpe_index(padded_frames, window, offsets, self.table_extent, self.attn.qkv.weight.device)
        if frames != OFFICIAL_FRAMES or window != (1, OFFICIAL_WINDOW, OFFICIAL_WINDOW):
            raise ValueError(
                f"rpe='official' runs only with {OFFICIAL_FRAMES} temporal tokens and 7x7 windows at every stage "
                f"(got {frames} tokens, window {window}); build the model with rpe='general'"
            )
        shifted = self.kind == "tps" and offsets is not None
        return self.attn.relative_position_index if shifted else self.attn.relative_position_index_old


class PatchMerging(nn.Module):
    """Halve ``H, W`` (padding odd sizes): concat the 2×2 neighbours → LayerNorm(4C) → Linear(4C → 2C)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, H, W, C)`` → ``(B, T, ceil(H/2), ceil(W/2), 2C)``."""
        h, w = x.shape[2:4]
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class SwinStage(nn.Module):
    """Blocks of one resolution, then (except in the last stage) patch merging."""

    def __init__(self, blocks: Sequence[SwinVideoBlock], dim: int, downsample: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = PatchMerging(dim) if downsample else None
        self.grad_checkpointing = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return x if self.downsample is None else self.downsample(x)


class PatchEmbed3D(nn.Module):
    """Tubelet embedding: Conv3d with stride = kernel, then LayerNorm; pads ``T, H, W`` at the end."""

    def __init__(self, patch_size: Size3, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` → ``(B, T', H', W', D)``."""
        pt, ph, pw = self.patch_size
        t, h, w = x.shape[2:]
        pads = ((pw - w % pw) % pw, (ph - h % ph) % ph, (pt - t % pt) % pt)
        if any(pads):
            x = F.pad(x, (0, pads[0], 0, pads[1], 0, pads[2]))
        return self.norm(self.proj(x).permute(0, 2, 3, 4, 1))


def _triple(value: int | Sequence[int], name: str) -> Size3:
    values = (value,) * 3 if isinstance(value, int) else tuple(int(v) for v in value)
    if len(values) != 3 or min(values) < 1:
        raise ValueError(f"{name} must be a positive int or 3 positive ints, got {value!r}")
    return values  # type: ignore[return-value]


class SwinVideoBackbone(nn.Module):
    """Tubelet embedding → 4 Swin stages → LayerNorm; keys as the released ``SwinTransformer2D_TPS``.

    Args:
        patch_size: tubelet ``(pt, ph, pw)``.
        in_chans: input channels.
        embed_dim: channels of stage 1 (doubled per stage).
        depths: blocks per stage.
        num_heads: heads per stage.
        window_size: ``(Tw, Hw, Ww)``.
        shift: :class:`ShiftSettings` (which blocks use TCS / TPS).
        rpe: ``"official"`` (release-exact) or ``"general"``.
        num_frames: input frames the model is built for; sets the temporal extent of the bias table.
        mlp_ratio: MLP hidden width / channels.
        qkv_bias: bias in ``qkv``.
        drop_rate: dropout after embeddings and projections.
        attn_drop_rate: dropout on attention weights.
        drop_path_rate: stochastic depth, linearly increasing over all blocks.
    """

    def __init__(
        self,
        *,
        patch_size: Size3 = (2, 4, 4),
        in_chans: int = 3,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        window_size: Size3 = (1, 7, 7),
        shift: ShiftSettings | None = None,
        rpe: str = "general",
        num_frames: int = PST_FRAMES,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = PST_T_DROP_PATH,
    ) -> None:
        super().__init__()
        shift = shift or ShiftSettings()
        patch_size = _triple(patch_size, "patch_size")
        window_size = _triple(window_size, "window_size")
        if len(depths) != len(num_heads):
            raise ValueError(f"depths {tuple(depths)} and num_heads {tuple(num_heads)} differ in length")
        if rpe not in RPE_MODES:
            raise ValueError(f"rpe must be one of {RPE_MODES}, got {rpe!r}")
        tokens = math.ceil(num_frames / patch_size[0])
        kinds = [[shift.block_kind(s, i) for i in range(d)] for s, d in enumerate(depths)]
        if rpe == "official":
            if window_size != (1, OFFICIAL_WINDOW, OFFICIAL_WINDOW) or tokens != OFFICIAL_FRAMES:
                raise ValueError(
                    f"rpe='official' (the released TPS model) needs window_size (1, 7, 7) and {OFFICIAL_FRAMES} "
                    f"temporal tokens, got window_size {window_size} and num_frames {num_frames} with patch "
                    f"{patch_size}; use rpe='general'"
                )
            extent_t = OFFICIAL_FRAMES
        else:
            patch_shifted = any("tps" in k for k in kinds)  # shifted tokens may sit any number of frames apart
            extent_t = max(tokens, window_size[0]) if patch_shifted else window_size[0]
        self.table_extent: Size3 = (extent_t, window_size[1], window_size[2])
        self.patch_size, self.window_size, self.rpe, self.shift = patch_size, window_size, rpe, shift
        self.embed_dim = embed_dim
        self.num_frames = num_frames

        self.patch_embed = PatchEmbed3D(patch_size, in_chans, embed_dim)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").tolist()
        self.layers = nn.ModuleList()
        for s, (depth, heads) in enumerate(zip(depths, num_heads, strict=True)):
            dim = embed_dim * 2**s
            blocks = [
                SwinVideoBlock(
                    dim,
                    heads,
                    window_size,
                    shifted=i % 2 == 1,
                    kind=kinds[s][i],
                    shift=shift,
                    rpe=rpe,
                    table_extent=self.table_extent,
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_path=rates[sum(depths[:s]) + i],
                )
                for i in range(depth)
            ]
            self.layers.append(SwinStage(blocks, dim, downsample=s < len(depths) - 1))
        self.num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(self.num_features)
        self.apply(_init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` clip → ``(B, T', H', W', num_features)`` normalised tokens."""
        x = self.pos_drop(self.patch_embed(x))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class I3DHead(nn.Module):
    """Mean over ``T, H, W`` → dropout → ``fc_cls`` (MMAction2's I3D head, same keys)."""

    def __init__(self, in_features: int, num_classes: int, dropout: float = HEAD_DROPOUT) -> None:
        super().__init__()
        self.in_features = in_features
        self.dropout = nn.Dropout(dropout)
        self.fc_cls: nn.Module = nn.Identity()
        self.reset(num_classes)

    def reset(self, num_classes: int) -> None:
        """Replace the classifier (``num_classes=0`` → identity, pooled features out)."""
        self.num_classes = num_classes
        if num_classes > 0:
            self.fc_cls = nn.Linear(self.in_features, num_classes)
            nn.init.normal_(self.fc_cls.weight, std=0.01)
            nn.init.zeros_(self.fc_cls.bias)
        else:
            self.fc_cls = nn.Identity()

    def forward(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """``(B, T, H, W, C)`` → ``(B, num_classes)`` (or pooled ``(B, C)`` with ``pre_logits``)."""
        x = self.dropout(x.mean(dim=(1, 2, 3)))
        return x if pre_logits else self.fc_cls(x)


class SwinVideoRecognizer(nn.Module):
    """Backbone + I3D head with the recognizer contract; state-dict keys ``backbone.*`` / ``cls_head.*``.

    Args:
        backbone: the :class:`SwinVideoBackbone`.
        num_classes: classifier outputs (0: no classifier).
        dropout: head dropout.
    """

    head_keys = ("cls_head.fc_cls",)
    imagenet_weights: str | None = None  # set by the entrypoints for the paper's architectures
    family = "swin"

    def __init__(self, backbone: SwinVideoBackbone, num_classes: int, dropout: float = HEAD_DROPOUT) -> None:
        super().__init__()
        self.backbone = backbone
        self.cls_head = I3DHead(backbone.num_features, num_classes, dropout)
        self.num_features = backbone.num_features
        self.num_frames = backbone.num_frames

    @property
    def num_classes(self) -> int:
        return self.cls_head.num_classes

    @property
    def mixes_frames(self) -> bool:
        """Whether tokens of different frames meet: a channel or patch shift, temporal windows or tubelets."""
        backbone = self.backbone
        return backbone.shift.mixing != "none" or backbone.window_size[0] > 1 or backbone.patch_size[0] > 1

    def cam_layer(self) -> CamLayer:
        """Grad-CAM reads the last stage's normalised tokens, channels-last ``(B, T', H', W', C)``."""
        return CamLayer(None, lambda a: a[0].permute(3, 0, 1, 2), "last Swin stage tokens (B, T', H', W', C)")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` clip → ``(B, T', H', W', num_features)`` channels-last tokens."""
        if x.ndim != 5:
            raise ValueError(f"expected a clip (B, C, T, H, W), got shape {tuple(x.shape)}")
        return self.backbone(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Tokens from :meth:`forward_features` → logits ``(B, num_classes)`` (or pooled features)."""
        return self.cls_head(x, pre_logits=pre_logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` → logits ``(B, num_classes)``."""
        return self.forward_head(self.forward_features(x))

    def reset_classifier(self, num_classes: int) -> None:
        """New, freshly initialised classifier with ``num_classes`` outputs."""
        self.cls_head.reset(num_classes)

    def no_weight_decay(self) -> set[str]:
        """Parameter names kept out of weight decay: the relative position bias tables."""
        return {name for name, _ in self.named_parameters() if name.endswith("relative_position_bias_table")}

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute block activations in backward to save memory."""
        for layer in self.backbone.layers:
            layer.grad_checkpointing = enable

    def checkpoint_filter(self, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Accept released TPS / Video Swin checkpoints and 2D ImageNet Swin ones (official or timm)."""
        from videoshift.models.swin_weights import convert_state_dict

        return convert_state_dict(state_dict, self)
