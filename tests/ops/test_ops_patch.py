"""Temporal patch shift: named grids written out by hand, element-by-element reference, inverse."""

import re

import pytest
import torch
from ops_reference import backward, forward, patch_rule

from videoshift.ops import (
    PATTERN_NAMES,
    PatchShift,
    patch_shift,
    patch_shift_back,
    resolve_pattern,
    source_frame_map,
    source_frame_offsets,
)

# Source-frame offsets o (out[t] ← x[(t + o) mod T]), written out from the released TPS code and the
# paper's Fig. 2 / Fig. 5 (whose numbers name the frame a patch comes from).
EXPECTED_GRIDS = {
    "official": [[4, -1, -2], [1, 0, -3], [2, 3, -4]],
    "A": [[0, 1], [-1, 0]],
    "B": [[0, 1], [-1, 2]],
    "C": [[-4, 1, 2], [-1, 0, 3], [-2, -3, 4]],
    "D": [[0, 1, 2, 3], [-1, -7, 4, 5], [-2, -4, 7, 6], [-3, -5, -6, 8]],
    "center_one": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "even2": [[0, 1], [1, 0]],
    "none": [[0]],
}
UNEVEN_4 = [[1, 1, 0, 0]] * 4


@pytest.mark.parametrize("name", sorted(EXPECTED_GRIDS))
def test_named_grids(name):
    assert resolve_pattern(name).tolist() == EXPECTED_GRIDS[name]
    assert resolve_pattern(name).dtype == torch.int64


def test_uneven_grid_spans_the_window():
    assert resolve_pattern("uneven", width=4).tolist() == UNEVEN_4
    assert resolve_pattern("uneven", width=7).tolist() == [[1, 1, 1, 0, 0, 0, 0]] * 7
    with pytest.raises(ValueError, match="uneven"):
        resolve_pattern("uneven")


def test_official_is_paper_c_mirrored_in_time():
    assert torch.equal(resolve_pattern("official"), -resolve_pattern("C"))


def test_official_offsets_in_swin_windows():
    # Two 7×7 windows side by side: the pattern restarts at column 7 (window-local tiling, as released).
    rows = [
        [4, -1, -2, 4, -1, -2, 4],
        [1, 0, -3, 1, 0, -3, 1],
        [2, 3, -4, 2, 3, -4, 2],
    ]
    expected = torch.tensor([(rows * 3)[h] + (rows * 3)[h] for h in range(7)])
    assert torch.equal(source_frame_offsets("official", 7, 14, window_size=7), expected)
    # Without windows, the tiling runs on from the map's origin instead.
    assert source_frame_offsets("official", 3, 9)[0].tolist() == [4, -1, -2] * 3


def test_source_frame_map():
    frames = source_frame_map("A", 4, 2, 2)
    assert frames.shape == (4, 2, 2)
    assert frames[:, 0, 1].tolist() == [1, 2, 3, 0]  # +1, wrapping
    assert frames[:, 1, 0].tolist() == [3, 0, 1, 2]  # -1, wrapping
    assert frames[:, 0, 0].tolist() == [0, 1, 2, 3]


# (pattern, window_size, token map H×W)
CASES = [(name, None, (5, 7)) for name in sorted(EXPECTED_GRIDS)]
CASES += [("official", 7, (7, 14)), ("D", 6, (6, 12)), ("A", (3, 5), (6, 10))]


@pytest.mark.parametrize(("name", "window", "size"), CASES)
def test_patch_shift_matches_reference(name, window, size):
    num_frames = 5
    height, width = size
    grid = EXPECTED_GRIDS[name]
    win = (height, width) if window is None else (window, window) if isinstance(window, int) else window
    rule = patch_rule(grid, num_frames, win)
    x = torch.randn(2, num_frames, height, width, 3, requires_grad=True)
    out = patch_shift(x, name, window_size=window)
    torch.testing.assert_close(out.detach(), forward(x, rule), rtol=0, atol=0)
    grad = torch.randn_like(out)
    out.backward(grad)
    torch.testing.assert_close(x.grad, backward(grad, rule), rtol=0, atol=0)


@pytest.mark.parametrize("layout", ["channels_first", "offset"])
def test_non_contiguous_tokens_match_reference(layout):
    # Contiguous tokens take the row-gather program, these the strided-copy one: both must equal the reference.
    base = torch.randn(2, 3, 5, 14, 14) if layout == "channels_first" else torch.randn(2 * 5 * 14 * 14 * 3 + 1)
    x = base.permute(0, 2, 3, 4, 1) if layout == "channels_first" else base[1:].view(2, 5, 14, 14, 3)
    rule = patch_rule(EXPECTED_GRIDS["official"], 5, (7, 7))
    torch.testing.assert_close(patch_shift(x, "official", window_size=7), forward(x, rule), rtol=0, atol=0)


def test_uneven_matches_reference():
    x = torch.randn(1, 3, 4, 8, 2)
    rule = patch_rule(UNEVEN_4, 3, (4, 4))
    torch.testing.assert_close(patch_shift(x, "uneven", window_size=4), forward(x, rule), rtol=0, atol=0)


def test_shift_back_inverts_shift():
    x = torch.randn(2, 6, 14, 14, 4)
    for name in PATTERN_NAMES:
        shifted = patch_shift(x, name, window_size=7)
        torch.testing.assert_close(patch_shift_back(shifted, name, window_size=7), x, rtol=0, atol=0)


def test_partitioned_windows_equal_window_size():
    # (B, T, H, W, C) with window_size=7 equals the same tokens partitioned into (B, T, nW, 7, 7, C).
    x = torch.randn(1, 4, 14, 14, 3)

    def partition(t):
        return t.unflatten(2, (2, 7)).unflatten(4, (2, 7)).permute(0, 1, 2, 4, 3, 5, 6).flatten(2, 3)

    expected = partition(patch_shift(x, "official", window_size=7))
    torch.testing.assert_close(patch_shift(partition(x), "official"), expected, rtol=0, atol=0)


def test_user_grid():
    grid = [[0, 2], [-3, 1]]
    x = torch.randn(1, 4, 4, 4, 2)
    torch.testing.assert_close(patch_shift(x, grid), forward(x, patch_rule(grid, 4, (4, 4))), rtol=0, atol=0)
    torch.testing.assert_close(patch_shift(x, torch.tensor(grid)), patch_shift(x, grid), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("E", "unknown pattern 'E'; named patterns: " + ", ".join(PATTERN_NAMES) + "$"),
        ([[0, 1.5], [1, 0]], r"integers, got 1.5 at \(0, 1\)"),
        (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "integers, got a torch.float32 tensor"),
        (torch.tensor([[True]]), "integers, got a torch.bool tensor"),
        (torch.tensor([[1j]]), "integers, got a torch.complex64 tensor"),
        ([[0, 1, 2], [1, 0, 2]], "square"),
        ([], "square"),
        ([[True, False], [False, True]], "integers"),
        (5, "square grid"),
    ],
)
def test_bad_patterns_raise(pattern, message):
    with pytest.raises(ValueError, match=message):
        resolve_pattern(pattern)
    with pytest.raises(ValueError, match=message):
        PatchShift(pattern)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="whole number of 7×7 windows"):
        patch_shift(torch.zeros(1, 2, 8, 7, 3), window_size=7)
    with pytest.raises(ValueError, match=r"\(B, T, \.\.\., H, W, C\)"):
        patch_shift(torch.zeros(2, 7, 7, 3))


def test_windows_by_hand():
    """Offsets tile window-local coordinates: windows of one row, and windows smaller than the grid."""
    assert source_frame_offsets("A", 2, 4, (1, 2)).tolist() == [[0, 1, 0, 1], [0, 1, 0, 1]]
    assert source_frame_offsets("A", 2, 2, (2, 1)).tolist() == [[0, 0], [-1, -1]]  # windows one column wide
    assert source_frame_offsets("official", 2, 4, (2, 2)).tolist() == [[4, -1, 4, -1], [1, 0, 1, 0]]
    frames = source_frame_map("official", 5, 2, 4, (2, 2))
    assert frames[:, 0, 2].tolist() == [4, 0, 1, 2, 3] and torch.equal(frames[:, :, 2:], frames[:, :, :2])
    assert source_frame_offsets("uneven", 4, 8, 4).tolist() == [row * 2 for row in UNEVEN_4]
    for window in [(0, 2), (2, 0), 0]:
        with pytest.raises(ValueError, match=re.escape(f"window_size must be positive, got {window}")):
            source_frame_offsets("A", 4, 4, window)
    with pytest.raises(ValueError, match=r"^pattern 'uneven' spans a window: give window_size \(or the map width\)$"):
        resolve_pattern("uneven")


def test_released_pattern_is_the_default():
    """The released code's pattern (C mirrored in time) is what every entry point uses when none is given."""
    x = torch.randn(1, 4, 3, 6, 2)
    assert torch.equal(patch_shift(x), patch_shift(x, "official"))
    assert torch.equal(patch_shift_back(x), patch_shift_back(x, "official"))
    assert PatchShift().pattern == "official" and not PatchShift().inverse


def test_module_holds_settings_only():
    shift, back = PatchShift("official", 7), PatchShift("official", 7, inverse=True)
    assert sum(p.numel() for p in shift.parameters()) == 0
    assert not list(shift.buffers())
    assert "pattern='official', window_size=7, inverse=False" in repr(shift)
    x = torch.randn(1, 4, 7, 14, 3)  # two windows: the module must pass its window size on
    torch.testing.assert_close(back(shift(x)), x, rtol=0, atol=0)
    torch.testing.assert_close(shift(x), patch_shift(x, "official", window_size=7))
