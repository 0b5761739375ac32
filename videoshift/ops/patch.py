"""Temporal patch shift (TPS): whole tokens move to other frames following a tiled pattern.

A pattern is a k×k grid of source-frame offsets. The token at window-local position (h, w) of
frame t is replaced by the token at the same position of frame (t + o) mod T, with
o = grid[h mod k, w mod k]: out[t, h, w] ← x[(t + o) mod T, h, w] (cyclic in time, so
:func:`patch_shift_back` is the exact inverse).

Window-local tiling, as released: the official PST code (MartinXM/TPS, ``PatchShift.shift`` in
``swin_transformer2d_tps.py``) views the tokens of each 7×7 window as ``(..., 7, 7, C)`` and
shifts the strided slices ``0::3, 1::3, 2::3`` of each window axis, i.e. the offset index is
((h mod 7) mod 3, (w mod 7) mod 3): window rows/columns 0, 3, 6 → 0; 1, 4 → 1; 2, 5 → 2. Here the
same tiling is ``window_size=7`` on the un-partitioned map, or no window size on tokens already
partitioned as ``(B, T, windows, 7, 7, C)``.

Sign convention: a grid entry is the source-frame offset o (out[t] ← x[t + o]); −4 means "from
four frames back". The paper's figures (Fig. 2, Fig. 5) label each patch with "the index of the
frame the patch is from", so its grids are used as printed: ``"A"``, ``"B"``, ``"C"``, ``"D"``,
``"center_one"``. The released code, however, rolls each slice by the printed number
(``torch.roll(..., shifts=n)``, i.e. out[t] ← x[t − n]), so the grid the released weights were
trained with, ``"official"``, is the paper's ``"C"`` with every sign flipped (its time mirror).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import torch
from torch import Tensor, nn

from videoshift.ops._core import Move, ShiftPlan, apply_shift
from videoshift.paper_defaults import TPS_PATTERN

Grid = tuple[tuple[int, ...], ...]
PatternLike = str | Sequence[Sequence[int]] | Tensor
WindowSize = int | tuple[int, int] | None

NAMED_PATTERNS: dict[str, Grid] = {
    # The released TPS code's pattern (MartinXM/TPS), indexed by (h % 3, w % 3).
    "official": ((4, -1, -2), (1, 0, -3), (2, 3, -4)),
    # Paper Fig. 5: (a) "Bayer filter", (b) A with a quarter of the current-frame patches from t+2,
    # (c) 9 consecutive frames, (d) 16 consecutive frames.
    "A": ((0, 1), (-1, 0)),
    "B": ((0, 1), (-1, 2)),
    "C": ((-4, 1, 2), (-1, 0, 3), (-2, -3, 4)),
    "D": ((0, 1, 2, 3), (-1, -7, 4, 5), (-2, -4, 7, 6), (-3, -5, -6, 8)),
    # Paper Table 2(a): one patch per 3×3 from t+1 (Fig. 2(a)); checkerboard half from t+1; no shift.
    "center_one": ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
    "even2": ((0, 1), (1, 0)),
    "none": ((0,),),
}
# "uneven" (Table 2(a)): the left half of each window from t+1; its grid spans the window width.
PATTERN_NAMES: tuple[str, ...] = (*NAMED_PATTERNS, "uneven")


def _uneven_grid(width: int) -> Grid:
    """A width×width grid whose left ⌊width/2⌋ columns come from t+1 (the rest stay)."""
    row = tuple(1 if w < width // 2 else 0 for w in range(width))
    return (row,) * width


def _validate_grid(pattern: Sequence[Sequence[int]] | Tensor) -> Grid:
    if isinstance(pattern, Tensor):
        if pattern.is_floating_point() or pattern.is_complex() or pattern.dtype == torch.bool:
            raise ValueError(f"pattern entries must be integers, got a {pattern.dtype} tensor")
        pattern = pattern.tolist()
    try:
        rows = [list(row) for row in pattern]
    except TypeError as error:
        raise ValueError(f"pattern must be a pattern name or a square grid of integers, got {pattern!r}") from error
    size = len(rows)
    if size == 0 or any(len(row) != size for row in rows):
        raise ValueError(f"pattern must be a non-empty square k×k grid, got row lengths {[len(r) for r in rows]}")
    for h, row in enumerate(rows):
        for w, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise ValueError(f"pattern entries must be integers, got {value!r} at ({h}, {w})")
    return tuple(tuple(int(value) for value in row) for row in rows)


def _grid(pattern: PatternLike, width: int | None) -> Grid:
    if isinstance(pattern, str):
        if pattern == "uneven":
            if width is None:
                raise ValueError("pattern 'uneven' spans a window: give window_size (or the map width)")
            return _uneven_grid(width)
        if pattern not in NAMED_PATTERNS:
            raise ValueError(f"unknown pattern {pattern!r}; named patterns: {', '.join(PATTERN_NAMES)}")
        return NAMED_PATTERNS[pattern]
    return _validate_grid(pattern)


def resolve_pattern(pattern: PatternLike, *, width: int | None = None) -> Tensor:
    """The k×k int64 grid of source-frame offsets of a named pattern or a user grid.

    Args:
        pattern: one of :data:`PATTERN_NAMES`, or a square grid (nested sequences or an integer
            tensor) of integer offsets; out[t] ← x[(t + o) mod T].
        width: window width, needed only by ``"uneven"`` (whose grid is one window wide).

    Raises:
        ValueError: unknown name, a grid that is not square, or an entry that is not an integer.
    """
    return torch.tensor(_grid(pattern, width), dtype=torch.int64)


def _window(window_size: WindowSize, height: int, width: int) -> tuple[int, int]:
    if window_size is None:
        return height, width
    wh, ww = (window_size, window_size) if isinstance(window_size, int) else tuple(window_size)
    if wh < 1 or ww < 1:
        raise ValueError(f"window_size must be positive, got {window_size}")
    return wh, ww


def source_frame_offsets(pattern: PatternLike, height: int, width: int, window_size: WindowSize = None) -> Tensor:
    """Offsets o(h, w) of a ``height × width`` token map: out[t, h, w] ← x[(t + o) mod T, h, w].

    The pattern is tiled over window-local coordinates, o(h, w) = grid[(h mod wh) mod k,
    (w mod ww) mod k]; without ``window_size`` the whole map is one window.

    Returns:
        int64 ``(height, width)``.
    """
    wh, ww = _window(window_size, height, width)
    grid = resolve_pattern(pattern, width=ww)
    k = grid.shape[0]
    rows = torch.arange(height) % wh % k
    cols = torch.arange(width) % ww % k
    return grid[rows[:, None], cols[None, :]]


def source_frame_map(
    pattern: PatternLike, num_frames: int, height: int, width: int, window_size: WindowSize = None
) -> Tensor:
    """The frame each token of a shifted clip comes from: int64 ``(T, H, W)`` with (t + o(h, w)) mod T.

    This is what a 3D relative position bias needs to follow the shifted tokens.
    """
    offsets = source_frame_offsets(pattern, height, width, window_size)
    return (torch.arange(num_frames)[:, None, None] + offsets) % num_frames


def _patch_plan(grid: Grid, h_dim: int, w_dim: int) -> ShiftPlan:
    # Moves on a view whose dim 1 is time and h_dim / w_dim are the (window-local) row / column axes.
    k = len(grid)
    moves = []
    for r, row in enumerate(grid):
        for s, offset in enumerate(row):
            region = (slice(None),) * h_dim + (slice(r, None, k),) + (slice(None),) * (w_dim - h_dim - 1)
            moves.append(Move((*region, slice(s, None, k)), ((1, offset),) if offset else ()))
    return ShiftPlan(tuple(moves), "cyclic")


def _patch(x: Tensor, pattern: PatternLike, window_size: WindowSize, back: bool) -> Tensor:
    if x.dim() < 5:
        raise ValueError(f"x must be channels-last tokens (B, T, ..., H, W, C), got shape {tuple(x.shape)}")
    height, width = x.shape[-3], x.shape[-2]
    wh, ww = _window(window_size, height, width)
    if height % wh or width % ww:
        raise ValueError(f"token map {height}×{width} is not a whole number of {wh}×{ww} windows (pad it first)")
    grid = _grid(pattern, ww)
    # (..., H, W, C) → (..., H/wh, wh, W/ww, ww, C): window-local row axis at -4, column axis at -2.
    tokens = x.unflatten(-2, (width // ww, ww)).unflatten(-4, (height // wh, wh))
    plan = _patch_plan(grid, tokens.dim() - 4, tokens.dim() - 2)
    if back:
        plan = plan.transposed()
    return apply_shift(tokens, plan).view(x.shape)


def patch_shift(x: Tensor, pattern: PatternLike = TPS_PATTERN, *, window_size: WindowSize = None) -> Tensor:
    """Temporal patch shift: out[t, h, w] ← x[(t + o(h, w)) mod T, h, w], whole tokens (all channels).

    Args:
        x: channels-last tokens ``(B, T, H, W, C)``; more axes between T and H (e.g. windows of
            partitioned tokens, ``(B, T, nW, 7, 7, C)``) are treated as batch.
        pattern: a name of :data:`PATTERN_NAMES` or a square integer grid (see :func:`resolve_pattern`).
        window_size: tile the pattern over windows of this size (int or (h, w)); H and W must be
            multiples of it. ``None``: tile from the map's origin.

    Returns:
        A new tensor of the shape of ``x``.
    """
    return _patch(x, pattern, window_size, back=False)


def patch_shift_back(x: Tensor, pattern: PatternLike = TPS_PATTERN, *, window_size: WindowSize = None) -> Tensor:
    """The inverse of :func:`patch_shift`: out[t, h, w] ← x[(t − o(h, w)) mod T, h, w]."""
    return _patch(x, pattern, window_size, back=True)


class PatchShift(nn.Module):
    """:func:`patch_shift` (or, with ``inverse=True``, :func:`patch_shift_back`) as a module; no parameters."""

    def __init__(
        self, pattern: PatternLike = TPS_PATTERN, window_size: WindowSize = None, inverse: bool = False
    ) -> None:
        super().__init__()
        if isinstance(pattern, str):
            if pattern not in PATTERN_NAMES:
                raise ValueError(f"unknown pattern {pattern!r}; named patterns: {', '.join(PATTERN_NAMES)}")
        else:
            pattern = _validate_grid(pattern)
        self.pattern = pattern
        self.window_size = window_size
        self.inverse = inverse

    def forward(self, x: Tensor) -> Tensor:
        return _patch(x, self.pattern, self.window_size, back=self.inverse)

    def extra_repr(self) -> str:
        return f"pattern={self.pattern!r}, window_size={self.window_size}, inverse={self.inverse}"
