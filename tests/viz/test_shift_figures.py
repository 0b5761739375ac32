"""Shift figures: the index runs agree with the operators' definitions, and the commands write the figures."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from videoshift.cli import main
from videoshift.ops import resolve_pattern, source_frame_map
from videoshift.viz.shift_figures import patch_shift_figure, patch_sources, shift_patches, stsm_figure, stsm_sources

VIDEO = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "videos" / "demo.mp4"


@pytest.mark.parametrize("pattern", ["official", "A", "B", "C", "D", "center_one"])
def test_patch_sources_follow_the_pattern_definition(pattern):
    sources = patch_sources(pattern, 9, 8, 8)
    torch.testing.assert_close(sources, source_frame_map(pattern, 9, 8, 8))
    grid = resolve_pattern(pattern)
    k = grid.shape[0]
    for t, h, w in [(0, 0, 0), (3, 1, 2), (8, 7, 5)]:
        assert sources[t, h, w] == (t + grid[h % k, w % k]) % 9  # out[t, h, w] <- x[(t + o) mod T]


def test_shifted_pixels_come_from_the_source_frames_patch():
    frames = torch.randint(0, 255, (5, 12, 12, 3), dtype=torch.uint8)
    shifted = shift_patches(frames, "A", 3)
    sources = patch_sources("A", 5, 3, 3)
    for t in range(5):
        for h in range(3):
            for w in range(3):
                patch = (slice(4 * h, 4 * h + 4), slice(4 * w, 4 * w + 4))
                assert torch.equal(shifted[t][patch], frames[int(sources[t, h, w])][patch])


def test_stsm_sources_are_the_channel_groups():
    moves = stsm_sources(32, 3, 3 / 8, "T+H+W").tolist()
    # 12 of 32 channels move: per axis 4, half reading the next position, half the previous one (T, H, W order)
    expected = [[1, 0, 0]] * 2 + [[-1, 0, 0]] * 2 + [[0, 1, 0]] * 2 + [[0, -1, 0]] * 2
    expected += [[0, 0, 1]] * 2 + [[0, 0, -1]] * 2 + [[0, 0, 0]] * 20
    assert moves == expected
    hw = stsm_sources(16, 3, 1 / 2, "HW").tolist()
    assert hw[:8] == [[0, 1, 1]] * 2 + [[0, 1, -1]] * 2 + [[0, -1, 1]] * 2 + [[0, -1, -1]] * 2


def test_figures_have_a_panel_per_frame():
    assert len(patch_shift_figure("C").axes) == 2 * 9  # C reaches offsets -4..4: 9 frames
    assert len(patch_shift_figure("A", num_frames=4, grid=4).axes) == 8
    assert len(stsm_figure(32, 3, 3 / 8, "T+HW").axes) >= 5


def test_shift_commands_write_pngs(tmp_path, capsys):
    assert main(["viz", "shift", "--pattern", "B", "--out", str(tmp_path)]) == 0
    assert main(["viz", "shift", "--pattern", "official", "--video", str(VIDEO), "--out", str(tmp_path)]) == 0
    assert main(["viz", "shift", "--op", "stsm", "--dims", "T+H+W", "--out", str(tmp_path)]) == 0
    for name in ("shift_B.png", "shift_official_video.png", "shift_stsm_T-H-W.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size[0] > 500
    assert "png:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pattern", "Z"], "unknown pattern 'Z'"),
        (["--op", "stsm", "--dims", "T+Q"], "Q"),
        (["--op", "stsm", "--frames", "2"], "num_frames must be >= 3"),
        (["--video", "missing.mp4"], "video not found: missing.mp4"),
    ],
)
def test_bad_shift_arguments_are_one_line_errors(argv, message, tmp_path, capsys):
    assert main(["viz", "shift", *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
