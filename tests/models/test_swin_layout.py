"""The cached gather/scatter layouts and RPE indices against step-by-step references.

The references do what the released TPS code does, one operation at a time on a grid of position
ids: pad → roll → patch-shift (a ``torch.roll`` over time per window-local position class) →
window partition, and the reverse; the relative positions are computed slot by slot in Python.
"""

import itertools

import pytest
import torch

from videoshift.models import swin_layout
from videoshift.models.swin_layout import (
    MASK_VALUE,
    block_layout,
    effective_window,
    general_rpe_index,
    padded_grid,
    table_rows,
)

PATTERN_C = ((4, -1, -2), (1, 0, -3), (2, 3, -4))


@pytest.fixture(autouse=True)
def _fresh_layouts():
    """Every test computes its layouts itself: a layout cached by an earlier test would hide what this one checks
    (and hide from mutation testing which test reads which function)."""
    for cached in (swin_layout._block_layout_cpu, swin_layout._general_rpe_index_cpu):
        cached.cache_clear()


def _offset_map(offsets, hp, wp, window):
    """o(h, w) of every rolled position from its window-local coordinates (tiled pattern)."""
    k_h, k_w = len(offsets), len(offsets[0])
    return [[offsets[(h % window[1]) % k_h][(w % window[2]) % k_w] for w in range(wp)] for h in range(hp)]


def _window_grid(offsets, window):
    """The pattern tiled over one window: what the model passes as window-local offsets."""
    if offsets is None:
        return None
    rows, cols = len(offsets), len(offsets[0])
    return tuple(tuple(offsets[i % rows][j % cols] for j in range(window[2])) for i in range(window[1]))


def _partition(grid, window):
    dp, hp, wp = grid.shape
    wd, wh, ww = window
    grid = grid.view(dp // wd, wd, hp // wh, wh, wp // ww, ww)
    return grid.permute(0, 2, 4, 1, 3, 5).reshape(-1)


def _reverse(slots, padded, window):
    dp, hp, wp = padded
    wd, wh, ww = window
    grid = slots.view(dp // wd, hp // wh, wp // ww, wd, wh, ww)
    return grid.permute(0, 3, 1, 4, 2, 5).reshape(dp, hp, wp)


def _time_shift(grid, omap, sign):
    """out[d, h, w] = grid[(d + sign * o(h, w)) mod D, h, w], position by position."""
    out = grid.clone()
    for h, w in itertools.product(range(grid.shape[1]), range(grid.shape[2])):
        out[:, h, w] = torch.roll(grid[:, h, w], shifts=-sign * omap[h][w], dims=0)
    return out


def reference_gather(grid, window, shift, offsets):
    padded = padded_grid(grid, window)
    ids = torch.arange(padded[0] * padded[1] * padded[2]).view(padded)
    rolled = torch.roll(ids, shifts=tuple(-s for s in shift), dims=(0, 1, 2))
    if offsets is not None:
        rolled = _time_shift(rolled, _offset_map(offsets, padded[1], padded[2], window), +1)
    return _partition(rolled, window)


def reference_scatter(grid, window, shift, offsets, shift_back):
    padded = padded_grid(grid, window)
    slots = _reverse(torch.arange(padded[0] * padded[1] * padded[2]), padded, window)
    if offsets is not None and shift_back:
        slots = _time_shift(slots, _offset_map(offsets, padded[1], padded[2], window), -1)
    slots = torch.roll(slots, shifts=shift, dims=(0, 1, 2))
    return slots[: grid[0], : grid[1], : grid[2]].reshape(-1)


def reference_mask(padded, window, shift):
    labels = torch.zeros(padded, dtype=torch.int64)
    cuts = [
        (slice(0, -w), slice(-w, -s), slice(-s, None)) if s else (slice(None),)
        for w, s in zip(window, shift, strict=True)
    ]
    for count, (sd, sh, sw) in enumerate(itertools.product(*cuts)):
        labels[sd, sh, sw] = count
    windows = _partition(labels, window).view(-1, window[0] * window[1] * window[2])
    return torch.where(windows[:, :, None] == windows[:, None, :], 0.0, MASK_VALUE)


CASES = [  # grid, window, shift, offsets
    ((4, 14, 14), (1, 7, 7), (0, 3, 3), PATTERN_C),  # PST shifted block
    ((4, 14, 14), (1, 7, 7), (0, 0, 0), PATTERN_C),
    ((5, 9, 11), (2, 7, 7), (1, 3, 3), ((0, 1), (-1, 2))),  # padding on every axis, temporal window 2
    ((8, 7, 7), (8, 7, 7), (0, 0, 0), None),  # one window: the identity
    ((6, 10, 8), (4, 5, 4), (2, 2, 2), None),  # Video Swin style 3D shift
    ((3, 6, 10), (1, 3, 5), (0, 1, 2), PATTERN_C),  # a window taller than wide: the pattern tiles each axis alone
]


@pytest.mark.parametrize(("grid", "window", "shift", "offsets"), CASES)
@pytest.mark.parametrize("shift_back", [True, False])
def test_gather_and_scatter_equal_step_by_step_reference(grid, window, shift, offsets, shift_back):
    layout = block_layout(grid, window, shift, _window_grid(offsets, window), shift_back)
    expected_gather = reference_gather(grid, window, shift, offsets)
    gather = layout.gather if layout.gather is not None else torch.arange(expected_gather.numel())
    assert torch.equal(gather, expected_gather)
    expected_scatter = reference_scatter(grid, window, shift, offsets, shift_back)
    scatter = layout.scatter if layout.scatter is not None else torch.arange(expected_scatter.numel())
    assert torch.equal(scatter, expected_scatter)
    if shift_back:  # gather then scatter brings every real token home
        padded = padded_grid(grid, window)
        real = torch.arange(expected_gather.numel()).view(padded)[: grid[0], : grid[1], : grid[2]].reshape(-1)
        assert torch.equal(gather[scatter], real)


@pytest.mark.parametrize(("grid", "window", "shift", "offsets"), [c for c in CASES if any(c[2])])
def test_shifted_window_mask_equals_region_reference(grid, window, shift, offsets):
    layout = block_layout(grid, window, shift, _window_grid(offsets, window))
    assert torch.equal(layout.mask, reference_mask(padded_grid(grid, window), window, shift))


def test_unshifted_layouts_have_no_mask_and_single_window_is_identity():
    layout = block_layout((8, 7, 7), (8, 7, 7), (0, 0, 0))
    assert layout.mask is None and layout.gather is None and layout.scatter is None
    assert layout.num_windows == (1, 1)


def test_effective_window_clamps_and_disables_shift_like_swin():
    assert effective_window((16, 7, 9), (8, 7, 7), (4, 3, 3)) == ((8, 7, 7), (4, 0, 3))
    assert effective_window((4, 2, 2), (8, 7, 7), (4, 3, 3)) == ((4, 2, 2), (0, 0, 0))


def _reference_general_index(frames, window, offsets, extent):
    wd, wh, ww = window
    r, hw, tw = extent
    slots = list(itertools.product(range(wd), range(wh), range(ww)))
    out = torch.empty(frames // wd, len(slots), len(slots), dtype=torch.int64)
    for k in range(frames // wd):
        for a, (ta, ha, wa) in enumerate(slots):
            for b, (tb, hb, wb) in enumerate(slots):
                src_a = (k * wd + ta + offsets[ha % len(offsets)][wa % len(offsets[0])]) % frames
                src_b = (k * wd + tb + offsets[hb % len(offsets)][wb % len(offsets[0])]) % frames
                dd = max(-(r - 1), min(r - 1, src_a - src_b))
                out[k, a, b] = ((dd + r - 1) * (2 * hw - 1) + ha - hb + hw - 1) * (2 * tw - 1) + wa - wb + tw - 1
    return out


@pytest.mark.parametrize(
    ("frames", "window", "extent"),
    [(6, (1, 3, 3), (6, 3, 3)), (6, (2, 3, 3), (6, 7, 7)), (8, (2, 3, 3), (3, 3, 3)), (6, (1, 3, 5), (6, 3, 5))],
)
def test_general_rpe_index_uses_source_frames_of_shifted_tokens(frames, window, extent):
    got = general_rpe_index(frames, window, _window_grid(PATTERN_C, window), extent, "cpu")
    expected = _reference_general_index(frames, window, PATTERN_C, extent)
    assert torch.equal(got, expected)
    assert int(got.max()) < table_rows(extent)


def test_table_rows_span_every_offset_of_the_extent():
    assert table_rows((6, 3, 5)) == 11 * 5 * 9  # (2·6−1) temporal × (2·3−1) vertical × (2·5−1) horizontal offsets
    assert table_rows((16, 7, 7)) == 5239  # the released PST table


def test_general_rpe_index_without_shift_is_video_swin_index():
    got = general_rpe_index(8, (2, 2, 2), None, (2, 2, 2), "cpu")
    assert got.shape == (1, 8, 8)
    assert torch.equal(got[0], _reference_general_index(2, (2, 2, 2), ((0,),), (2, 2, 2))[0])
    assert sorted(got.unique().tolist()) == list(range(27))  # every 3D offset of a 2x2x2 window appears
