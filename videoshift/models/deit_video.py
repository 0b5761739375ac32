"""DeiT-S video recognizers of the TPS paper's Table 7: per-frame 2D, TSM and TPS (temporal patch shift).

Every frame of a clip is one image for timm's ``VisionTransformer``: ``(B, C, T, H, W)`` is folded to
``(B*T, C, H, W)`` (clip-major, frame-minor), giving tokens ``(B*T, P + N, D)`` — ``P`` prefix tokens
(the class token first), then the ``N = h*w`` patch tokens of the ``h × w`` patch grid, row-major.
:class:`DeiTVideo` *is* a timm ``VisionTransformer`` (a subclass, built from the same arguments as
``timm.create_model("deit_small_patch16_224")``), so its blocks, parameters and state_dict key names
are timm's and DeiT ImageNet weights load unchanged.

The temporal operators are zero-parameter modules that act around a block's attention:

- ``"tps"`` (DeiT-S-TPS): in every second block — the odd-indexed ones, 1, 3, 5, …, as in the released
  DeiT experiments of MartinXM/TPS (``i % 2 == 1``) and like the odd (shifted-window) blocks of PST —
  the *patch* tokens at the input of attention (after ``norm1``) are patch-shifted in time with a
  pattern tiled over the whole ``h × w`` grid, and the attention output is shifted back before the
  residual add. The class token is never shifted (the paper: TPS "operate[s] directly on image
  patches"). The paper does not name the pattern it used for DeiT; the default is the released PST
  pattern ``"official"`` (the paper's pattern C mirrored in time, temporal field 9), tiled over the
  whole grid. The released 8-frame DeiT research code (only
  published as bytecode) shifted 2 of 6 heads of q, k, v with a Bayer-like pattern instead; that
  variant is not reproduced here.
- ``"tsm"`` (DeiT-S-TSM): in every block, all tokens — class token included, as the paper states —
  at the input of attention get the TSM channel shift (``shift_div`` 8: D/8 channels from the next
  frame, D/8 from the previous one, zeros at the clip ends, the ratio of TSM). Shifting the attention
  input, not the block input, keeps the identity path unshifted (TSM's residual shift).
- ``"2d"`` (DeiT-S-2D): no temporal operator.

For all three, each frame's class token (timm's ``global_pool="token"``) after the final norm is
averaged over time, then head dropout and the linear classifier (the paper's "temporal averaging only
if using class tokens").

Why forward hooks: the shift must sit *inside* timm's ``Block.forward``
(``x + drop_path(ls(attn(norm1(x))))``), between ``norm1`` and the residual add. Replacing
``blocks[i].attn`` with a wrapper would rename every attention weight (``attn.qkv`` →
``attn.inner.qkv``) and break ImageNet weights, and re-implementing ``Block.forward`` would fork timm.
A forward pre-hook (shift) and a forward hook (shift back) on ``blocks[i].attn`` change neither the
code path nor the key names; the hooks are bound methods of a parameter-free module registered as
``blocks[i].temporal_shift``, so it shows in ``print(model)``, moves with ``deepcopy`` and adds no
state_dict keys. Because it runs inside the block, timm's gradient checkpointing recomputes it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
from timm.layers import resample_abs_pos_embed
from timm.models.vision_transformer import VisionTransformer
from torch import nn

from videoshift.models.contract import CamLayer
from videoshift.models.hooks import run_after, run_before
from videoshift.models.registry import register_model
from videoshift.ops import patch_shift, patch_shift_back, resolve_pattern, temporal_shift
from videoshift.paper_defaults import DEIT_FRAMES, HEAD_DROPOUT, INPUT_SIZE, PST_T_DROP_PATH, TPS_PATTERN, TSM_SHIFT_DIV

TemporalMode = Literal["2d", "tsm", "tps"]

# timm's deit_small_patch16_224 architecture (the rest are VisionTransformer defaults).
DEIT_S_ARGS: dict[str, Any] = {"patch_size": 16, "embed_dim": 384, "depth": 12, "num_heads": 6}
DEIT_S_TIMM_NAME = "deit_small_patch16_224.fb_in1k"  # timm's default: DeiT's own ImageNet-1k release


class AttentionShift(nn.Module):
    """A zero-parameter operator applied to the tokens ``(B*T, P + N, D)`` entering an attention module.

    Subclasses define :meth:`shift` and, when the attention output is to be moved back, :meth:`shift_back`.
    """

    shifts_back = False

    def __init__(self, num_frames: int) -> None:
        super().__init__()
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        self.num_frames = num_frames

    def shift(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(B*T, P + N, D)`` before attention."""
        raise NotImplementedError

    def shift_back(self, x: torch.Tensor) -> torch.Tensor:
        """Attention output ``(B*T, P + N, D)``, before the residual add."""
        raise NotImplementedError

    def attach(self, attn: nn.Module) -> None:
        """Install :meth:`shift` (and :meth:`shift_back`) around ``attn``."""
        run_before(attn, self.shift)
        if self.shifts_back:
            run_after(attn, self.shift_back)


class PatchTokenShift(AttentionShift):
    """Temporal patch shift of the patch tokens; prefix (class) tokens pass through untouched.

    Args:
        num_frames: frames per clip ``T``; the batch is ``B*T`` clip-major.
        grid_size: patch grid ``(h, w)``.
        num_prefix_tokens: tokens before the patches (class / register tokens).
        pattern: a named pattern of :func:`videoshift.ops.resolve_pattern` or an offset grid, tiled
            over the whole grid; out[t, i, j] ← x[(t + o(i, j)) mod T].
    """

    shifts_back = True

    def __init__(
        self,
        num_frames: int,
        grid_size: tuple[int, int],
        num_prefix_tokens: int,
        pattern: str | torch.Tensor | list[list[int]] = TPS_PATTERN,
    ) -> None:
        super().__init__(num_frames)
        resolve_pattern(pattern, width=grid_size[1])  # raises on an unknown name or a malformed grid
        self.grid_size = tuple(grid_size)
        self.num_prefix_tokens = num_prefix_tokens
        self.pattern = pattern

    def shift(self, x: torch.Tensor) -> torch.Tensor:
        return self._on_patches(x, patch_shift)

    def shift_back(self, x: torch.Tensor) -> torch.Tensor:
        return self._on_patches(x, patch_shift_back)

    def _on_patches(self, x: torch.Tensor, op: Any) -> torch.Tensor:
        bt, length, dim = x.shape
        h, w = self.grid_size
        p = self.num_prefix_tokens
        if length != p + h * w:
            raise ValueError(f"expected {p} + {h}x{w} tokens, got {length}")
        patches = x[:, p:].reshape(bt // self.num_frames, self.num_frames, h, w, dim)  # (B, T, h, w, D)
        patches = op(patches, self.pattern).reshape(bt, h * w, dim)  # (B*T, N, D)
        return torch.cat((x[:, :p], patches), dim=1)

    def extra_repr(self) -> str:
        pattern = self.pattern if isinstance(self.pattern, str) else resolve_pattern(self.pattern).tolist()
        return f"num_frames={self.num_frames}, grid_size={self.grid_size}, pattern={pattern!r}"


class TokenChannelShift(AttentionShift):
    """TSM channel shift of every token (class token included); not shifted back.

    Args:
        num_frames: frames per clip ``T``; the batch is ``B*T`` clip-major.
        shift_div: ``D // shift_div`` channels come from frame t+1, as many from t−1 (zeros at the ends).
    """

    def __init__(self, num_frames: int, shift_div: int = TSM_SHIFT_DIV) -> None:
        super().__init__(num_frames)
        if shift_div < 2:
            raise ValueError(f"shift_div must be >= 2, got {shift_div}")
        self.shift_div = shift_div

    def shift(self, x: torch.Tensor) -> torch.Tensor:
        # tokens (B*T, L, D) seen as a (B*T, D, L, 1) feature map for the TSM operator
        shifted = temporal_shift(x.transpose(1, 2).unsqueeze(-1), self.num_frames, self.shift_div)
        return shifted.squeeze(-1).transpose(1, 2)

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}, shift_div={self.shift_div}"


class DeiTVideo(VisionTransformer):
    """timm ``VisionTransformer`` run per frame with an optional temporal operator; input ``(B, C, T, H, W)``.

    Args:
        num_frames: frames ``T`` per clip; the shifted models require exactly this many.
        temporal: ``"2d"``, ``"tsm"`` or ``"tps"`` (see the module docstring).
        pattern: TPS pattern (``temporal="tps"`` only).
        shift_div: TSM channel fraction divisor (``temporal="tsm"`` only).
        **vit_kwargs: ``VisionTransformer`` arguments (``img_size``, ``patch_size``, ``embed_dim``,
            ``depth``, ``num_heads``, ``num_classes``, ``drop_rate`` (head dropout), ``drop_path_rate``, …).
    """

    head_keys = ("head",)
    imagenet_weights: str | None = None  # DEIT_S_TIMM_NAME for DeiT-S's architecture
    family = "vit"

    def __init__(
        self,
        *,
        num_frames: int = DEIT_FRAMES,
        temporal: TemporalMode = "2d",
        pattern: str | torch.Tensor | list[list[int]] = TPS_PATTERN,
        shift_div: int = TSM_SHIFT_DIV,
        **vit_kwargs: Any,
    ) -> None:
        super().__init__(**vit_kwargs)
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        self.num_frames = num_frames
        self.temporal = temporal
        if temporal == "tps":
            grid = tuple(self.patch_embed.grid_size)
            shifted = {
                i: PatchTokenShift(num_frames, grid, self.num_prefix_tokens, pattern)
                for i in range(1, len(self.blocks), 2)
            }
        elif temporal == "tsm":
            shifted = {i: TokenChannelShift(num_frames, shift_div) for i in range(len(self.blocks))}
        elif temporal == "2d":
            shifted = {}
        else:
            raise ValueError(f"temporal must be '2d', 'tsm' or 'tps', got {temporal!r}")
        for i, op in shifted.items():
            block = self.blocks[i]
            if not isinstance(getattr(block, "attn", None), nn.Module):
                raise ValueError(f"block {i} ({type(block).__name__}) has no 'attn' module to shift around")
            block.temporal_shift = op
            op.attach(block.attn)

    @property
    def mixes_frames(self) -> bool:
        """Whether frames meet before the temporal average: TSM's channel shift or TPS's patch shift."""
        return self.temporal != "2d"

    def cam_layer(self) -> CamLayer:
        """Grad-CAM reads the patch tokens entering the last block's attention (the output of its ``norm1``): the
        head reads only the class token of the last layer, so the last layer's patch tokens get no gradient."""
        prefix, (h, w) = self.num_prefix_tokens, self.patch_embed.grid_size

        def to_maps(a: torch.Tensor) -> torch.Tensor:  # (T, P + N, D) for one clip -> (D, T, h, w)
            return a[:, prefix:].reshape(a.shape[0], h, w, -1).permute(3, 0, 1, 2)

        return CamLayer(self.blocks[-1].norm1, to_maps, "patch tokens entering the last attention")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Clip ``(B, C, T, H, W)`` → normalised tokens ``(B, T, P + N, D)``."""
        if x.ndim != 5:
            raise ValueError(f"expected a clip (B, C, T, H, W), got shape {tuple(x.shape)}")
        b, c, t, h, w = x.shape
        if self.temporal != "2d" and t != self.num_frames:
            raise ValueError(f"{self.temporal} model built for num_frames={self.num_frames} got {t} frames")
        x = x.transpose(1, 2).reshape(b * t, c, h, w)  # (B*T, C, H, W)
        x = super().forward_features(x)  # (B*T, P + N, D)
        return x.reshape(b, t, *x.shape[1:])

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Tokens ``(B, T, P + N, D)`` → per-frame pooled token averaged over time → logits ``(B, classes)``."""
        b, t = x.shape[:2]
        x = self.pool(x.flatten(0, 1)).reshape(b, t, -1).mean(dim=1)  # (B, D)
        x = self.fc_norm(x)
        x = self.head_drop(x)
        return x if pre_logits else self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clip ``(B, C, T, H, W)`` → logits ``(B, num_classes)``."""
        return self.forward_head(self.forward_features(x))

    def no_weight_decay(self) -> set[str]:
        """Position embedding and prefix tokens (timm's names) that this model has."""
        names = dict(self.named_parameters())
        return {n for n in super().no_weight_decay() if n in names}

    def checkpoint_filter(self, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """timm / DeiT-release ViT keys as they are; position embeddings resampled to this model's patch grid."""
        state = dict(state_dict)
        pos_embed = state.get("pos_embed")
        if pos_embed is not None and pos_embed.shape != self.pos_embed.shape:
            prefix = 0 if self.no_embed_class else self.num_prefix_tokens
            state["pos_embed"] = resample_abs_pos_embed(
                pos_embed, new_size=list(self.patch_embed.grid_size), num_prefix_tokens=prefix
            )
        return state


def create_deit_video(
    temporal: TemporalMode,
    *,
    num_classes: int = 400,
    num_frames: int = DEIT_FRAMES,
    img_size: int | tuple[int, int] = INPUT_SIZE,
    drop_path_rate: float = PST_T_DROP_PATH,
    dropout: float = HEAD_DROPOUT,
    **kwargs: Any,
) -> DeiTVideo:
    """DeiT-S (or any ViT: ``kwargs`` override ``DEIT_S_ARGS``) with the ``temporal`` operator.

    ``create_model(..., pretrained=True)`` loads timm's ``deit_small_patch16_224`` ImageNet-1k weights into the
    DeiT-S architecture (position embeddings resampled for another ``img_size``), strictly but for the
    classifier, which is new unless ``num_classes=1000``. Head dropout defaults to
    0.5 and drop path to 0.1, PST-T's settings, which Table 7 says DeiT-S shares.
    """
    shift_args = {k: kwargs.pop(k) for k in ("pattern", "shift_div") if k in kwargs}
    vit_args = dict(DEIT_S_ARGS, **kwargs)
    common = {"num_classes": num_classes, "img_size": img_size, "drop_path_rate": drop_path_rate}
    model = DeiTVideo(num_frames=num_frames, temporal=temporal, drop_rate=dropout, **shift_args, **common, **vit_args)
    if vit_args == DEIT_S_ARGS:
        model.imagenet_weights = DEIT_S_TIMM_NAME
    return model


@register_model(kwargs_to=(create_deit_video, DeiTVideo))
def deit_s_2d(**kwargs: Any) -> DeiTVideo:
    """DeiT-S-2D: per-frame DeiT-S, class tokens averaged over time (TPS paper, Table 7)."""
    return create_deit_video("2d", **kwargs)


@register_model(kwargs_to=(create_deit_video, DeiTVideo))
def deit_s_tsm(**kwargs: Any) -> DeiTVideo:
    """DeiT-S-TSM: TSM channel shift of patch and class tokens before every attention (Table 7)."""
    return create_deit_video("tsm", **kwargs)


@register_model(kwargs_to=(create_deit_video, DeiTVideo))
def deit_s_tps(**kwargs: Any) -> DeiTVideo:
    """DeiT-S-TPS: temporal patch shift of the patch tokens around every second attention (Table 7)."""
    return create_deit_video("tps", **kwargs)
