"""The samplers' random rules pinned exactly: the support of every random draw, not only its range.

A training sampler that never reaches the last frame of a segment, or that draws one offset for all segments, still
passes range checks; so here the values taken over many seeds are compared, position by position, with the support
of MMAction2's ``SampleFrames`` rules written out naively. Found by mutation testing (``scripts/mutation.sh
samplers``).
"""

from __future__ import annotations

import numpy as np
import pytest

from videoshift.data.samplers import DenseSampler, TSNSampler, UniformSampler, _fit, build_sampler

SEEDS = 300


def _draws(sampler, total: int) -> np.ndarray:
    return np.stack([sampler(total, rng=np.random.default_rng(seed)) for seed in range(SEEDS)])  # (seeds, F)


def _tsn_train_support(total: int, n: int, clip_len: int, interval: int) -> list[set[int]]:
    """MMAction2 SampleFrames._get_train_clips, then clip_len frames `interval` apart, looped into the video."""
    span = clip_len * interval
    avg = (total - span + 1) // n
    if avg > 0:
        starts = [set(range(i * avg, i * avg + avg)) for i in range(n)]
    elif total > max(n, span):
        starts = [set(range(total - span + 1))] * n  # sorted random starts; each position may take these values
    elif avg == 0:
        starts = [{int(np.around(i * (total - span + 1.0) / n))} for i in range(n)]
    else:  # shorter than one clip: every segment starts at frame 0
        starts = [{0}] * n
    return [{(s + k * interval) % total for s in segment} for segment in starts for k in range(clip_len)]


@pytest.mark.parametrize(
    ("n", "clip_len", "interval", "total"),
    [
        (8, 1, 1, 80),
        (8, 1, 1, 43),
        (8, 1, 1, 10),
        (4, 2, 2, 40),
        (4, 3, 1, 5),
        (4, 3, 1, 4),
        (8, 1, 1, 6),
        (3, 2, 3, 7),
        (2, 4, 2, 5),
    ],
)
def test_tsn_train_draws_cover_exactly_the_rule(n, clip_len, interval, total):
    draws = _draws(TSNSampler(num_frames=n, clip_len=clip_len, frame_interval=interval), total)
    expected = _tsn_train_support(total, n, clip_len, interval)
    if (total - clip_len * interval + 1) // n <= 0 < total - max(n, clip_len * interval):
        starts = draws[:, ::clip_len]
        assert (np.diff(starts, axis=1) >= 0).all()  # the short-video rule sorts its starts
        assert set(starts.flatten()) == expected[0]
    else:
        assert [set(column) for column in draws.T] == expected
    if (total - clip_len * interval + 1) // n > 1:  # every segment draws its own offset
        offsets = draws[:, ::clip_len] - draws[:, :1]
        assert len({tuple(row) for row in offsets}) > 1


def test_dense_train_starts_cover_zero_to_the_last_full_clip():
    sampler = DenseSampler(clip_len=4, frame_interval=3, num_clips=1)
    draws = _draws(sampler, 20)  # last full clip starts at 20 - 12 = 8
    assert set(draws[:, 0]) == set(range(9))
    assert (draws - draws[:, :1] == np.arange(4) * 3).all()
    assert set(_draws(sampler, 10)[:, 0]) == {0}  # a video shorter than a clip starts at frame 0
    assert _draws(DenseSampler(clip_len=4, frame_interval=3, num_clips=3), 20).shape == (SEEDS, 12)


def test_uniform_train_draws_cover_each_rounded_segment():
    draws = _draws(UniformSampler(num_frames=4), 11)  # bounds round(10 / 4 * [0..4]) = 0, 2, 5, 8, 10
    assert [set(column) for column in draws.T] == [{0, 1, 2}, {2, 3, 4, 5}, {5, 6, 7, 8}, {8, 9, 10}]
    assert UniformSampler(num_frames=4, test_mode=True)(11).tolist() == [1, 3, 6, 9]


@pytest.mark.parametrize(
    "sampler",
    [
        TSNSampler(num_frames=3, clip_len=2, frame_interval=2),
        TSNSampler(num_frames=3, num_clips=2, twice_sample=True, test_mode=True),
        UniformSampler(num_frames=5),
        UniformSampler(num_frames=5, test_mode=True),
        DenseSampler(clip_len=3, frame_interval=2, num_clips=3, test_mode=True),
        DenseSampler(clip_len=3, frame_interval=2, num_clips=1, test_mode=True),
    ],
)
def test_views_are_integer_arrays_of_views_by_frames(sampler):
    for total in (4, 31):
        views = sampler.views(total, np.random.default_rng(0))
        assert views.dtype == np.int64
        assert views.shape == (sampler.num_views, sampler.frames_per_view)


def test_tsn_views_step_by_the_frame_interval():
    views = TSNSampler(num_frames=2, clip_len=3, frame_interval=2, test_mode=True).views(20, None)
    assert views.tolist() == [[5, 7, 9, 15, 17, 19]]  # segment centres 5 and 15, then +2, +4


def test_repeat_last_repeats_each_views_own_last_valid_frame():
    frames = np.array([[0, 2, 4, 6], [1, 3, 5, 7], [6, 7, 8, 9]])
    assert _fit(frames, 5, "repeat_last").tolist() == [[0, 2, 4, 4], [1, 3, 3, 3], [0, 0, 0, 0]]
    assert _fit(frames, 5, "loop").tolist() == [[0, 2, 4, 1], [1, 3, 0, 2], [1, 2, 3, 4]]


def test_seeded_draws_repeat_and_unseeded_draws_work():
    sampler = TSNSampler(num_frames=8)
    first = sampler(100, rng=np.random.default_rng(5))
    assert first.tolist() == sampler(100, rng=np.random.default_rng(5)).tolist()
    assert any(sampler(100, rng=np.random.default_rng(s)).tolist() != first.tolist() for s in range(6, 9))
    assert sampler(100).shape == (8,) and sampler(1).tolist() == [0] * 8  # one frame is a valid video


@pytest.mark.parametrize(
    ("cls", "name"),
    [(TSNSampler, "clip_len"), (TSNSampler, "frame_interval"), (TSNSampler, "num_clips"), (DenseSampler, "clip_len")],
)
def test_every_count_is_validated(cls, name):
    with pytest.raises(ValueError, match=name):
        cls(**{name: 0})
    with pytest.raises(ValueError, match="out_of_bound"):
        cls(out_of_bound="clamp")


def test_build_sampler_defaults_and_aliases():
    assert build_sampler({"num_frames": 4}, test_mode=False) == TSNSampler(num_frames=4)  # type defaults to tsn
    assert build_sampler({"type": "dense", "num_frames": 16}, test_mode=True) == DenseSampler(
        clip_len=16, test_mode=True
    )
    both = build_sampler({"type": "dense", "num_frames": 16, "clip_len": 8}, test_mode=False)
    assert both == DenseSampler(clip_len=8)  # clip_len wins, num_frames is consumed
    assert build_sampler({"type": "uniform", "num_frames": 4}, test_mode=False) == UniformSampler(num_frames=4)
    one_clip = build_sampler({"type": "uniform", "num_frames": 4, "num_clips": 1}, test_mode=True)
    assert one_clip == UniformSampler(num_frames=4, test_mode=True)
    with pytest.raises(ValueError, match="unknown keys"):
        build_sampler({"type": "uniform", "num_frames": 4, "num_clips": 2}, test_mode=True)
