"""Figures of what the shift operators move, made by running the operators themselves on index tensors.

- :func:`patch_sources` runs :func:`~videoshift.ops.patch_shift` on a clip whose every token holds its frame
  number: the output says which frame each patch comes from (the TPS paper's Fig. 3). :func:`patch_shift_figure`
  draws it on a numbered grid or on a video's frames, whose patches it moves with the same operator.
- :func:`stsm_sources` runs :func:`~videoshift.ops.spatiotemporal_shift` on features whose every value encodes
  its ``(t, h, w)`` position: the output says, channel by channel, where the feature at one position was read
  from (which channel groups STSM moves along T, H and W). :func:`stsm_figure` draws it.

So the figures show what the code does: change an operator and its figure changes with it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from videoshift.ops import patch_shift, resolve_pattern, spatiotemporal_shift
from videoshift.paper_defaults import STSM_ALPHA, STSM_DIMS, TPS_PATTERN
from videoshift.viz.figures import new_figure


def pattern_grid(pattern: str, width: int | None = None) -> torch.Tensor:
    """The pattern's offset grid (``ValueError`` naming an unknown pattern)."""
    return resolve_pattern(pattern, width=width)


def patch_sources(pattern: str, num_frames: int, height: int, width: int) -> torch.Tensor:
    """int64 ``(T, H, W)``: the frame each token of ``patch_shift`` output comes from, found by running it."""
    if num_frames < 1 or height < 1 or width < 1:
        raise ValueError(f"need num_frames, height, width >= 1, got {num_frames}, {height}, {width}")
    index = torch.arange(num_frames, dtype=torch.float32).view(1, num_frames, 1, 1, 1)
    tokens = index.expand(1, num_frames, height, width, 1).contiguous()  # (B, T, H, W, C): token = its frame
    return patch_shift(tokens, pattern)[0, ..., 0].round().long()


def shift_patches(frames: torch.Tensor, pattern: str, grid: int) -> torch.Tensor:
    """``uint8 (T, S, S, 3)`` frames (``S`` a multiple of ``grid``) with their ``grid × grid`` patches patch-shifted."""
    t, size, _, c = frames.shape
    p = size // grid
    tokens = frames.reshape(t, grid, p, grid, p, c).permute(0, 1, 3, 2, 4, 5).reshape(1, t, grid, grid, p * p * c)
    shifted = patch_shift(tokens, pattern)[0].reshape(t, grid, grid, p, p, c).permute(0, 1, 3, 2, 4, 5)
    return shifted.reshape(t, size, size, c)


def _square_frames(video: str | Path, num_frames: int, size: int) -> torch.Tensor:
    """``num_frames`` evenly spaced frames of a video, centre-cropped square and resized: ``uint8 (T, S, S, 3)``."""
    from videoshift.data.readers import count_frames, read_frames

    path = Path(video)
    if not path.is_file():
        raise ValueError(f"video not found: {path}")
    total = count_frames(path)
    indices = np.linspace(0, max(total - 1, 0), num_frames).round().astype(int).tolist()
    frames = read_frames(path, indices)  # (T, H, W, 3)
    h, w = frames.shape[1:3]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = frames[:, top : top + side, left : left + side].permute(0, 3, 1, 2).float()
    resized = F.interpolate(square, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def _frame_colours(num_frames: int) -> np.ndarray:
    cmap = matplotlib.colormaps["tab10" if num_frames <= 10 else "tab20"]
    return np.array([cmap(i % cmap.N)[:3] for i in range(num_frames)])


def patch_shift_figure(
    pattern: str = TPS_PATTERN,
    num_frames: int | None = None,
    grid: int | None = None,
    video: str | Path | None = None,
    patch_pixels: int = 32,
) -> Figure:
    """Which frame each patch comes from after ``patch_shift(pattern)`` (TPS Fig. 3), frame by frame.

    Top row: the input frames (a video's, or frame numbers); bottom row: the shifted frames, each patch labelled
    with its source frame and coloured by it. Defaults: as many frames as the pattern reaches
    (``max(o) − min(o) + 1``), a grid of two pattern tiles per side.
    """
    offsets = pattern_grid(pattern, width=grid or 4)
    k = offsets.shape[0]
    reach = int(offsets.max() - offsets.min()) + 1
    num_frames = num_frames or max(reach, 2)
    grid = grid or (2 * k if k <= 3 else k)  # two tiles of the small patterns, one of D
    if num_frames < 2 or grid < 1:
        raise ValueError(f"need at least 2 frames and 1 patch per side, got {num_frames} and {grid}")
    sources = patch_sources(pattern, num_frames, grid, grid)  # (T, G, G)
    colours = _frame_colours(num_frames)
    if video is not None:
        before = _square_frames(video, num_frames, grid * patch_pixels)
        after = shift_patches(before, pattern, grid)
        images_before, images_after = before.numpy(), after.numpy()
    else:
        images_before = (colours[np.arange(num_frames)][:, None, None].repeat(grid, 1).repeat(grid, 2) * 255).astype(
            np.uint8
        )
        images_after = (colours[sources.numpy()] * 255).astype(np.uint8)
    cell = images_after.shape[1] / grid
    per_row = min(num_frames, 9)  # longer clips wrap: pairs of rows (input, shifted) of up to 9 frames
    pairs = -(-num_frames // per_row)
    panel = 1.8
    fig = new_figure((panel * per_row, 2 * pairs * panel + 1.0), layout=None)
    grid_axes = fig.subplots(2 * pairs, per_row, squeeze=False)
    for t in range(num_frames, pairs * per_row):  # empty places of the last pair of rows
        for ax in grid_axes[2 * (pairs - 1) : 2 * pairs, t % per_row]:
            ax.set_axis_off()
    for t in range(num_frames):
        axes = grid_axes[2 * (t // per_row) : 2 * (t // per_row) + 2, t % per_row]
        for row, images in enumerate((images_before, images_after)):
            ax = axes[row]
            ax.imshow(images[t], extent=(0, images[t].shape[1], images[t].shape[0], 0))
            ax.set_xticks([])
            ax.set_yticks([])
            for i in range(1, grid):
                ax.axhline(i * cell, color="white", lw=0.5)
                ax.axvline(i * cell, color="white", lw=0.5)
            if row == 0:
                ax.set_title(f"frame {t}", fontsize=8)
                if video is None:
                    ax.text(grid * cell / 2, grid * cell / 2, str(t), ha="center", va="center", fontsize=12)
                continue
            for h in range(grid):
                for w in range(grid):
                    source = int(sources[t, h, w])
                    style = {"fontsize": max(4, 9 - grid // 3), "ha": "center", "va": "center"}
                    if video is not None:
                        style["bbox"] = {"boxstyle": "round,pad=0.1", "fc": colours[source], "ec": "none", "alpha": 0.8}
                    ax.text((w + 0.5) * cell, (h + 0.5) * cell, str(source), **style)
    for pair in range(pairs):
        grid_axes[2 * pair, 0].set_ylabel("input", fontsize=9)
        grid_axes[2 * pair + 1, 0].set_ylabel("patch_shift", fontsize=9)
    grid_text = "; ".join(" ".join(f"{v:+d}" for v in row) for row in offsets.tolist())
    fig.suptitle(
        f"temporal patch shift, pattern {pattern!r} (offsets {grid_text}): each patch of frame t comes from "
        f"frame (t + o) mod {num_frames}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def stsm_sources(channels: int, num_frames: int = 3, alpha: float = STSM_ALPHA, dims: str = STSM_DIMS) -> torch.Tensor:
    """int64 ``(C, 3)``: per channel, the ``(dt, dh, dw)`` the STSM output at the centre position reads from.

    Found by running :func:`spatiotemporal_shift` on a ``(T, C, 3, 3)`` map whose values encode their own
    position; a channel that reads zero padding would come out as ``(-99, -99, -99)`` (never at the centre).
    """
    if num_frames < 3:
        raise ValueError(f"num_frames must be >= 3 so the centre frame has both neighbours, got {num_frames}")
    size = 3
    t, h, w = torch.meshgrid(torch.arange(num_frames), torch.arange(size), torch.arange(size), indexing="ij")
    code = ((t * size + h) * size + w + 1).float()  # 0 is reserved for zero padding
    x = code[:, None].expand(num_frames, channels, size, size).contiguous()  # (N*T, C, H, W), N = 1
    out = spatiotemporal_shift(x, num_frames, alpha, dims)[num_frames // 2, :, 1, 1].round().long()  # (C,)
    read = out - 1
    src = torch.stack((read // (size * size), read // size % size, read % size), dim=1)
    centre = torch.tensor([num_frames // 2, 1, 1])
    return torch.where((out > 0)[:, None], src - centre, torch.full_like(src, -99))


def _move_label(move: tuple[int, int, int]) -> str:
    if move == (0, 0, 0):
        return "stay"
    if move == (-99, -99, -99):
        return "zero"
    return ", ".join(f"{axis}{d:+d}" for axis, d in zip("THW", move, strict=True) if d)


def stsm_figure(channels: int = 32, num_frames: int = 3, alpha: float = STSM_ALPHA, dims: str = STSM_DIMS) -> Figure:
    """Which channels STSM moves along T, H and W (from :func:`stsm_sources`).

    Left: the channels, coloured by where the output at ``(t, h, w)`` reads them from (``T+1``: frame t+1,
    ``H−1``: the row above, ``W+1``: the column to the right). Right: frames t−1, t, t+1 around the centre
    position, each cell labelled with the channels read from it.
    """
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    moves = [tuple(m) for m in stsm_sources(channels, num_frames, alpha, dims).tolist()]
    kinds = sorted(set(moves), key=lambda m: (m == (0, 0, 0), moves.index(m)))  # in channel order, stay last
    cmap = matplotlib.colormaps["tab10"]
    colour = {m: ((0.8, 0.8, 0.8) if m == (0, 0, 0) else cmap(i % 10)[:3]) for i, m in enumerate(kinds)}
    fig = new_figure((12, 4.2), layout=None)
    grid = fig.add_gridspec(2, 4, height_ratios=[1, 4], width_ratios=[1, 1, 1, 1.1])
    strip = fig.add_subplot(grid[0, :3])
    strip.imshow(np.array([[colour[m] for m in moves]]), aspect="auto", extent=(-0.5, channels - 0.5, 0, 1))
    strip.set_yticks([])
    strip.set_xlabel("channel", fontsize=8)
    step = max(1, channels // 16)
    strip.set_xticks(range(0, channels, step))
    strip.tick_params(labelsize=7)
    strip.set_title(f"STSM dims={dims!r}, alpha={alpha:g}: where each channel of out[t, h, w] is read from", fontsize=9)
    legend = fig.add_subplot(grid[:, 3])
    legend.set_axis_off()
    for i, m in enumerate(kinds):
        members = [c for c, mm in enumerate(moves) if mm == m]
        legend.add_patch(Rectangle((0, 0.92 - i * 0.09), 0.08, 0.06, color=colour[m]))
        legend.text(0.11, 0.95 - i * 0.09, f"{_move_label(m)}: {len(members)} ch", va="center", fontsize=8)
    centre = num_frames // 2
    for col, dt in enumerate((-1, 0, 1)):
        ax = fig.add_subplot(grid[1, col])
        ax.set_xlim(-0.5, 2.5)
        ax.set_ylim(2.5, -0.5)
        ax.set_xticks(range(3), ["w-1", "w", "w+1"], fontsize=7)
        ax.set_yticks(range(3), ["h-1", "h", "h+1"], fontsize=7)
        ax.set_title(f"frame t{dt:+d}" if dt else "frame t", fontsize=8)
        for h in range(3):
            for w in range(3):
                move = (dt, h - 1, w - 1)
                members = [c for c, mm in enumerate(moves) if mm == move]
                face = colour.get(move, (1, 1, 1)) if members else (1, 1, 1)
                ax.add_patch(Rectangle((w - 0.5, h - 0.5), 1, 1, fc=face, ec="black", lw=0.6))
                if members:
                    ax.text(w, h, _ranges(members), ha="center", va="center", fontsize=6, wrap=True)
        if dt == 0:
            ax.add_patch(Rectangle((0.5, 0.5), 1, 1, fill=False, ec="red", lw=2))
    legend.text(
        0.0,
        0.92 - len(kinds) * 0.09,
        f"red square: the output position\n(frame t = {centre} of {num_frames});\ncells: the channels it reads there",
        va="top",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def _ranges(members: list[int]) -> str:
    """Channel lists as ranges: [0, 1, 2, 5] -> "0-2, 5" (broken into lines of a few ranges)."""
    parts, start = [], members[0]
    for prev, cur in zip(members, [*members[1:], None], strict=True):
        if cur != prev + 1 if cur is not None else True:
            parts.append(f"{start}-{prev}" if prev > start else str(start))
            start = cur
    return "\n".join(", ".join(parts[i : i + 2]) for i in range(0, len(parts), 2))
