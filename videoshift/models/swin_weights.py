"""Checkpoint conversion for the Swin video models: released video checkpoints and 2D ImageNet Swin.

:func:`convert_state_dict` is what :meth:`SwinVideoRecognizer.checkpoint_filter` runs; it detects the
format from the keys:

- **video** (``backbone.*`` / ``cls_head.*``, as MMAction2-based releases such as TPS and Video Swin
  write them, or this package): bias tables are fitted to the model's temporal extent, index buffers the
  model does not keep are dropped, and the release's index buffers are checked against the model's.
- **bare video backbone** (3D ``patch_embed.proj.weight`` without prefix): prefixed, then as above.
- **2D ImageNet Swin**, official (``layers.i.downsample`` ends stage ``i``, ``head.*``) or timm
  (downsample starts stage ``i+1``, ``head.fc.*``): inflated — the patch-embedding kernel is repeated
  ``pt`` times along time and divided by ``pt``, each 2D bias table is repeated along the temporal
  offsets (resized bicubically first if its window differs), 2D index buffers and masks are dropped
  and the ImageNet classifier is left out (the model's head is declared in ``head_keys``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from videoshift.models.checkpoint import CheckpointError

_TABLE = "relative_position_bias_table"
_DERIVED = ("relative_position_index", "relative_position_index_old", "attn_mask", "relative_coords_table")
_TIMM_DOWNSAMPLE = re.compile(r"^layers\.(\d+)\.downsample\.")


def convert_state_dict(state: Mapping[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Bring ``state`` (any supported format) to the keys and shapes of ``model``'s state dict."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    embed = state.get("patch_embed.proj.weight")
    from_2d = embed is not None and embed.ndim == 4
    if from_2d:
        state = inflate_2d_swin(state, pt=model.backbone.patch_size[0])
    elif embed is not None:
        state = {f"backbone.{k}": v for k, v in state.items()}
    return _fit_to_model(state, model, from_2d)


def inflate_2d_swin(state: Mapping[str, torch.Tensor], pt: int) -> dict[str, torch.Tensor]:
    """2D ImageNet Swin (official or timm layout) → this package's video keys, inflated to ``pt`` frames."""
    timm_layout = "layers.0.downsample.reduction.weight" not in state
    out = {}
    for key, value in state.items():
        if key.startswith("head.") or key.rsplit(".", 1)[-1] in _DERIVED:
            continue
        if timm_layout and (match := _TIMM_DOWNSAMPLE.match(key)):
            key = f"layers.{int(match.group(1)) - 1}.downsample.{key[match.end() :]}"
        if key == "patch_embed.proj.weight":
            value = value.unsqueeze(2).repeat(1, 1, pt, 1, 1) / pt
        out[f"backbone.{key}"] = value
    return out


def fit_bias_table(table: torch.Tensor, target: torch.Size, spatial: tuple[int, int], from_2d: bool) -> torch.Tensor:
    """Fit a relative-position bias table to ``target`` rows ``(2R-1) * (2Hw-1) * (2Ww-1)``.

    Args:
        table: ``(rows, nH)`` from the checkpoint.
        target: shape of the model's table.
        spatial: ``(2Hw-1, 2Ww-1)`` of the model.
        from_2d: the table is 2D (``S*S`` rows, resized bicubically when ``S`` differs).

    Temporal offsets: a 2D table is repeated for each; a video table's offsets keep their meaning —
    the central ones are kept when the model covers fewer, the outermost repeated when it covers more.
    """
    rows, heads = table.shape
    if heads != target[1]:
        raise CheckpointError(f"bias table has {heads} heads, model {target[1]}")
    plane = spatial[0] * spatial[1]
    if from_2d:
        side = round(rows**0.5)
        if side * side != rows:
            raise CheckpointError(f"2D bias table with {rows} rows is not square")
        if (side, side) != spatial:
            grid = table.T.reshape(1, heads, side, side).float()
            table = F.interpolate(grid, size=spatial, mode="bicubic", align_corners=False).reshape(heads, plane).T
    if table.shape[0] % plane:
        raise CheckpointError(f"bias table with {table.shape[0]} rows does not fit windows of {spatial} offsets")
    have, want = table.shape[0] // plane, target[0] // plane
    blocks = table.reshape(have, plane, heads)
    if have == 1:
        blocks = blocks.expand(want, -1, -1)
    elif have >= want:
        start = (have - want) // 2
        blocks = blocks[start : start + want]
    else:
        pad = torch.arange(want) - (want - have) // 2
        blocks = blocks[pad.clamp(0, have - 1)]
    return blocks.reshape(target).contiguous()


def _fit_to_model(state: dict[str, torch.Tensor], model: nn.Module, from_2d: bool) -> dict[str, torch.Tensor]:
    own = model.state_dict()
    spatial = tuple(2 * w - 1 for w in model.backbone.window_size[1:])
    out = {}
    for key, value in state.items():
        leaf = key.rsplit(".", 1)[-1]
        if leaf in _DERIVED and key not in own:
            continue  # 2D / Video Swin index buffers and masks: the model derives its own
        if leaf == _TABLE and key in own and value.shape != own[key].shape:
            value = fit_bias_table(value, own[key].shape, spatial, from_2d)
        out[key] = value
    for key, value in own.items():
        if key.rsplit(".", 1)[-1] not in ("relative_position_index", "relative_position_index_old"):
            continue
        if key not in out:
            out[key] = value
        elif not torch.equal(out[key].to(value.device), value):
            raise CheckpointError(f"{key} differs from the model's: the checkpoint used another shift pattern or RPE")
    return out
