"""Token layouts of a Swin video block: windows, shifts and patch shifts as cached index tensors.

Swin's cyclic window shift, the window partition and the temporal patch shift (TPS) are all fixed
permutations of token positions. Composed, they are one gather: :func:`block_layout` returns, for a
padded ``(Dp, Hp, Wp)`` token grid, the padded position that feeds every window slot (``gather``) and
the window slot whose output returns to every real position (``scatter``, which also undoes the
patch shift when it is shifted back). Both are cached per geometry, so a block costs two
``index_select`` calls whatever it shifts.

Conventions (the released TPS code's): the roll moves position ``p + shift`` to ``p``; windows are
ordered ``(window_t, window_h, window_w)`` and tokens inside a window ``(t, h, w)``; a patch-shifted
slot at rolled frame ``d`` and window-local ``(i, j)`` holds the token of frame ``(d + o(i, j)) mod Dp``
(``o`` from :func:`videoshift.ops.source_frame_offsets`).

The relative-position indices are here too: :func:`official_rpe_indices` reproduces the release's two
``(16, 49, 49)`` buffers; :func:`general_rpe_index` gives true 3D relative positions of the shifted
tokens for any grid and window.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from videoshift.ops import source_frame_offsets

Size3 = tuple[int, int, int]
OffsetGrid = tuple[tuple[int, ...], ...]  # window-local source-frame offsets o(i, j), hashable

#: Logit added between tokens that the cyclic shift brought together from far apart (Swin's value).
MASK_VALUE = -100.0
#: Temporal extent the released TPS bias table is sized for, whatever the configuration says.
OFFICIAL_FRAMES = 16
OFFICIAL_WINDOW = 7


def effective_window(grid: Size3, window: Size3, shift: Size3) -> tuple[Size3, Size3]:
    """Swin's rule: an axis no longer than its window gets one window covering it and no shift."""
    eff_window = tuple(g if g <= w else w for g, w in zip(grid, window, strict=True))
    eff_shift = tuple(0 if g <= w else s for g, w, s in zip(grid, window, shift, strict=True))
    return eff_window, eff_shift  # type: ignore[return-value]


def padded_grid(grid: Size3, window: Size3) -> Size3:
    """``grid`` rounded up to whole windows along every axis."""
    return tuple(-(-g // w) * w for g, w in zip(grid, window, strict=True))  # type: ignore[return-value]


@dataclass(frozen=True)
class BlockLayout:
    """The fixed index tensors of one block on one token grid (all on the block's device).

    Attributes:
        padded: ``(Dp, Hp, Wp)`` grid after padding to whole windows.
        window: effective window ``(wd, wh, ww)``; ``num_windows`` are ``(nWt, nWs)``.
        gather: ``(Dp*Hp*Wp,)`` padded flat position read by each window slot, or ``None`` (identity).
        scatter: ``(T*H*W,)`` window slot returned to each real position, or ``None`` (identity).
        mask: ``(nWt*nWs, N, N)`` 0 / :data:`MASK_VALUE` for shifted windows, or ``None``.
    """

    padded: Size3
    window: Size3
    num_windows: tuple[int, int]
    gather: torch.Tensor | None
    scatter: torch.Tensor | None
    mask: torch.Tensor | None


def _slot_coordinates(padded: Size3, window: Size3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rolled grid coordinates ``(d, h, w)`` of every window slot, each shaped ``(nWt, nWh, nWw, wd, wh, ww)``."""
    axes = []
    for axis, (size, win) in enumerate(zip(padded, window, strict=True)):
        coord = torch.arange(size).view(size // win, win)  # (n_windows, win)
        shape = [1] * 6
        shape[axis], shape[axis + 3] = size // win, win
        axes.append(coord.view(shape[axis], win).reshape(shape))
    target = [p // w for p, w in zip(padded, window, strict=True)] + list(window)
    return tuple(a.expand(target) for a in axes)  # type: ignore[return-value]


def _local_offsets(offsets: OffsetGrid | None, h: torch.Tensor, w: torch.Tensor, window: Size3) -> torch.Tensor:
    """Source-frame offset of rolled positions ``(h, w)`` from their window-local coordinates."""
    if offsets is None:
        return torch.zeros((), dtype=torch.int64)
    table = torch.tensor(offsets, dtype=torch.int64)
    return table[h % window[1], w % window[2]]


def _shift_regions(coord: torch.Tensor, size: int, window: int, shift: int) -> torch.Tensor:
    """Swin's three regions along one rolled axis: interior, the band that wraps, the wrapped tail."""
    if shift == 0:
        return torch.zeros_like(coord)
    return (coord >= size - window).long() + (coord >= size - shift).long()


@functools.lru_cache(maxsize=256)
def _block_layout_cpu(
    grid: Size3, window: Size3, shift: Size3, offsets: OffsetGrid | None, shift_back: bool
) -> BlockLayout:
    with torch.device("cpu"):  # index maths needs real values even under a meta-device context
        padded = padded_grid(grid, window)
        dp, hp, wp = padded
        d, h, w = _slot_coordinates(padded, window)
        o = _local_offsets(offsets, h, w, window)
        source = (((d + o + shift[0]) % dp) * hp + (h + shift[1]) % hp) * wp + (w + shift[2]) % wp
        gather = source.reshape(-1)

        # window slot of every rolled position, then the rolled position of every real one
        slot_of = torch.empty(dp * hp * wp, dtype=torch.int64)
        slot_of[((d * hp + h) * wp + w).reshape(-1)] = torch.arange(dp * hp * wp)
        t_real, h_real, w_real = torch.meshgrid(*(torch.arange(g) for g in grid), indexing="ij")
        h_rolled = (h_real - shift[1]) % hp
        w_rolled = (w_real - shift[2]) % wp
        back = _local_offsets(offsets, h_rolled, w_rolled, window) if shift_back else 0
        d_rolled = (t_real - shift[0] - back) % dp
        scatter = slot_of[((d_rolled * hp + h_rolled) * wp + w_rolled).reshape(-1)]

        mask = None
        if any(s > 0 for s in shift):
            region = (
                _shift_regions(d, dp, window[0], shift[0]) * 9
                + _shift_regions(h, hp, window[1], shift[1]) * 3
                + _shift_regions(w, wp, window[2], shift[2])
            ).reshape(-1, window[0] * window[1] * window[2])  # (nW, N)
            mask = torch.zeros(region.shape[0], region.shape[1], region.shape[1])
            mask.masked_fill_(region[:, :, None] != region[:, None, :], MASK_VALUE)

    identity = torch.arange(gather.numel())
    num_windows = (dp // window[0], (hp // window[1]) * (wp // window[2]))
    return BlockLayout(
        padded=padded,
        window=window,
        num_windows=num_windows,
        gather=None if torch.equal(gather, identity) else gather,
        scatter=None if padded == grid and torch.equal(scatter, identity) else scatter,
        mask=mask,
    )


@functools.lru_cache(maxsize=256)
def block_layout(
    grid: Size3,
    window: Size3,
    shift: Size3,
    offsets: OffsetGrid | None = None,
    shift_back: bool = True,
    device: torch.device | str = "cpu",
) -> BlockLayout:
    """The cached layout of a block on the real token grid ``(T, H, W)``.

    Args:
        grid: real token grid ``(T, H, W)``.
        window: effective window (already clamped with :func:`effective_window`).
        shift: effective cyclic shift (0 on axes that are a single window).
        offsets: window-local source-frame offsets ``o(i, j)`` of the patch shift, or ``None``.
        shift_back: whether ``scatter`` returns patch-shifted tokens to their own frame.
        device: where the index tensors live.
    """
    cpu = _block_layout_cpu(grid, window, shift, offsets, shift_back)
    if torch.device(device).type == "cpu":
        return cpu

    def move(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.to(device)

    return BlockLayout(cpu.padded, cpu.window, cpu.num_windows, move(cpu.gather), move(cpu.scatter), move(cpu.mask))


@functools.lru_cache(maxsize=64)
def window_offsets(pattern: str | OffsetGrid, window: Size3) -> OffsetGrid:
    """Window-local source-frame offsets of a TPS ``pattern`` for an (effective) window, hashable."""
    with torch.device("cpu"):
        grid = source_frame_offsets(pattern, window[1], window[2], window_size=(window[1], window[2]))
    return tuple(tuple(int(v) for v in row) for row in grid.tolist())


def _table_row(dd: torch.Tensor, dh: torch.Tensor, dw: torch.Tensor, extent: Size3) -> torch.Tensor:
    """Row of a ``(2R-1)(2Hw-1)(2Ww-1)`` bias table for relative offsets ``(dd, dh, dw)``."""
    r, hw, ww = extent
    return ((dd + r - 1) * (2 * hw - 1) + dh + hw - 1) * (2 * ww - 1) + dw + ww - 1


def table_rows(extent: Size3) -> int:
    """Rows of a relative-position bias table covering offsets up to ``extent - 1`` on each axis."""
    return (2 * extent[0] - 1) * (2 * extent[1] - 1) * (2 * extent[2] - 1)


@functools.lru_cache(maxsize=256)
def _general_rpe_index_cpu(frames: int, window: Size3, offsets: OffsetGrid | None, extent: Size3) -> torch.Tensor:
    with torch.device("cpu"):
        wd = window[0]
        tau, i, j = (c.reshape(-1) for c in torch.meshgrid(*(torch.arange(n) for n in window), indexing="ij"))
        dh = i[:, None] - i[None, :]
        dw = j[:, None] - j[None, :]
        if offsets is None:  # every temporal window sees the same offsets
            return _table_row(tau[:, None] - tau[None, :], dh, dw, extent).unsqueeze(0)
        o = torch.tensor(offsets, dtype=torch.int64)[i, j]  # (N,)
        first = torch.arange(0, frames, wd)[:, None]  # rolled first frame of each temporal window
        source = (first + tau[None, :] + o[None, :]) % frames  # (nWt, N) frame the slot's token comes from
        dd = (source[:, :, None] - source[:, None, :]).clamp(1 - extent[0], extent[0] - 1)
        return _table_row(dd, dh, dw, extent)


@functools.lru_cache(maxsize=256)
def general_rpe_index(
    frames: int, window: Size3, offsets: OffsetGrid | None, extent: Size3, device: torch.device | str
) -> torch.Tensor:
    """True 3D relative positions of (patch-shifted) window tokens as bias-table rows.

    A slot at rolled frame ``d`` holding a token shifted from ``(d + o) mod frames`` sits at that
    frame: the temporal offset between two slots is the difference of their source frames, clamped to
    the table's extent ``extent[0] - 1``. Without ``offsets`` this is the plain (Video) Swin index.

    Args:
        frames: padded temporal length ``Dp`` (the cyclic period of the patch shift).
        window: effective window ``(wd, wh, ww)``.
        offsets: window-local source-frame offsets, or ``None`` for unshifted positions.
        extent: ``(R, Hw, Ww)``, the offsets the table covers (configured window, not the clamped one).
        device: where the index lives.

    Returns:
        ``(nWt, N, N)`` int64 rows, or ``(1, N, N)`` when all temporal windows share them (cached per
        device; do not modify).
    """
    return _general_rpe_index_cpu(frames, window, offsets, extent).to(device)


def official_rpe_indices(offsets: OffsetGrid) -> tuple[torch.Tensor, torch.Tensor]:
    """The released ``relative_position_index`` and ``relative_position_index_old``, each ``(16, 49, 49)``.

    The release sizes its table for a ``(16, 7, 7)`` window and pairs every query frame ``t`` with
    key frame 0: patch-shift blocks use ``dd = ((t + o(q)) mod 16) - (o(k) mod 16)``, the other blocks
    ``dd = t``. This is not a symmetric relative position, but released weights were trained with it.
    Returns new tensors (they become module buffers).
    """
    index, index_old = _official_rpe_indices(offsets)
    return index.clone(), index_old.clone()


@functools.lru_cache(maxsize=16)
def _official_rpe_indices(offsets: OffsetGrid) -> tuple[torch.Tensor, torch.Tensor]:
    size = OFFICIAL_WINDOW
    extent = (OFFICIAL_FRAMES, size, size)
    with torch.device("cpu"):
        i, j = (c.reshape(-1) for c in torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij"))
        o = torch.tensor(offsets, dtype=torch.int64)[i, j]  # (49,)
        t = torch.arange(OFFICIAL_FRAMES)[:, None, None]
        dh = (i[:, None] - i[None, :]).expand(OFFICIAL_FRAMES, -1, -1)
        dw = (j[:, None] - j[None, :]).expand(OFFICIAL_FRAMES, -1, -1)
        shifted = (t + o[None, :, None]) % OFFICIAL_FRAMES - (o[None, None, :] % OFFICIAL_FRAMES)
        index = _table_row(shifted, dh, dw, extent)
        index_old = _table_row(t.expand_as(dh), dh, dw, extent)
    return index, index_old
