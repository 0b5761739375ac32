import numpy as np
import pytest

from videoshift.data.samplers import DenseSampler, TSNSampler, UniformSampler, build_sampler

# Golden values: MMAction2 SampleFrames(clip_len=1, frame_interval=1, num_clips=8, test_mode=True)
# (tests/fixtures/media/SOURCES.md).


def test_tsn_test_golden_values():
    sampler = TSNSampler(num_frames=8, test_mode=True)
    assert sampler(280).tolist() == [17, 52, 87, 122, 157, 192, 227, 262]
    assert sampler(32).tolist() == [2, 6, 10, 14, 18, 22, 26, 30]
    assert sampler(10, start_index=1).tolist() == [1, 2, 4, 5, 6, 7, 9, 10]


def test_tsn_twice_sample_golden_values():
    sampler = TSNSampler(num_frames=8, test_mode=True, twice_sample=True)
    assert sampler.num_views == 2
    out = sampler(280).reshape(2, 8)
    assert out[0].tolist() == [17, 52, 87, 122, 157, 192, 227, 262]
    assert out[1].tolist() == [0, 35, 70, 105, 140, 175, 210, 245]


def test_tsn_train_one_random_frame_per_segment():
    # SampleFrames train rule: segment = total // n; frame = k * segment + randint(segment)
    sampler = TSNSampler(num_frames=8)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        out = sampler(283, rng=rng)
        segment = 283 // 8
        assert all(k * segment <= f < (k + 1) * segment for k, f in enumerate(out))
        seen.add(out[0])
    assert seen == set(range(35))  # every position of the first segment occurs


def test_tsn_train_short_video_is_sorted_and_in_range():
    # fewer frames than segments: SampleFrames rounds k * total / n (half to even), deterministic
    out = TSNSampler(num_frames=8)(5, rng=np.random.default_rng(0))
    assert out.tolist() == [0, 1, 1, 2, 2, 3, 4, 4]


def test_tsn_multiple_test_clips_spread_inside_segments():
    out = TSNSampler(num_frames=4, num_clips=2, test_mode=True)(80).reshape(2, 4)
    assert out.tolist() == [[5, 25, 45, 65], [15, 35, 55, 75]]  # segment 20: positions 0.25 and 0.75


def test_dense_test_clips_spread_evenly():
    sampler = DenseSampler(clip_len=4, frame_interval=2, num_clips=3, test_mode=True)
    out = sampler(100).reshape(3, 4)
    # starts: round(k * (100 - 8) / 2) = 0, 46, 92
    assert out.tolist() == [[0, 2, 4, 6], [46, 48, 50, 52], [92, 94, 96, 98]]
    single = DenseSampler(clip_len=4, frame_interval=2, test_mode=True)(100)
    assert single.tolist() == [46, 48, 50, 52]


def test_dense_train_in_range_and_random():
    sampler = DenseSampler(clip_len=32, frame_interval=2)
    rng = np.random.default_rng(1)
    starts = {int(sampler(300, rng=rng)[0]) for _ in range(50)}
    assert len(starts) > 10 and max(starts) <= 300 - 64
    assert np.all(np.diff(sampler(300, rng=rng)) == 2)


def test_short_video_loop_and_repeat_last():
    # part_0.mp4 has 32 frames; a 32x2 clip needs 64
    looped = DenseSampler(clip_len=32, frame_interval=2, test_mode=True)(32)
    assert looped.tolist() == list(range(0, 32, 2)) * 2
    repeated = DenseSampler(clip_len=32, frame_interval=2, test_mode=True, out_of_bound="repeat_last")(32)
    assert repeated.tolist() == list(range(0, 32, 2)) + [30] * 16


def test_uniform_sampler_matches_segment_rule():
    # naive reference: segment (n - 1) / k with rounded bounds; test takes (start + end) // 2
    def reference(n, k):
        seg = (n - 1) / k
        return [(round(seg * i) + round(seg * (i + 1))) // 2 for i in range(k)]

    for n in (7, 32, 100, 280):
        assert UniformSampler(num_frames=8, test_mode=True)(n).tolist() == reference(n, 8)
    rng = np.random.default_rng(0)
    for _ in range(50):
        out = UniformSampler(num_frames=8)(100, rng=rng)
        seg = 99 / 8
        assert all(round(seg * i) <= f <= round(seg * (i + 1)) for i, f in enumerate(out))


def test_build_sampler_and_errors():
    sampler = build_sampler({"type": "tsn", "num_frames": 8, "num_clips": 1}, test_mode=True)
    assert sampler(280).tolist() == [17, 52, 87, 122, 157, 192, 227, 262]
    dense = build_sampler({"type": "dense", "clip_len": 32, "frame_interval": 2, "num_clips": 4}, test_mode=True)
    assert dense.num_views == 4 and dense(300).shape == (128,)
    with pytest.raises(ValueError, match=r"unknown keys"):
        build_sampler({"type": "tsn", "segments": 8}, test_mode=False)
    with pytest.raises(ValueError, match=r"type"):
        build_sampler({"type": "random"}, test_mode=False)
    with pytest.raises(ValueError, match=r"num_frames"):
        TSNSampler(num_frames=0)
    with pytest.raises(ValueError, match=r"total_frames"):
        TSNSampler()(0)


@pytest.mark.parametrize(
    "sampler",
    [
        TSNSampler(num_frames=8, test_mode=True, twice_sample=True),
        TSNSampler(num_frames=4, clip_len=2, frame_interval=3),
        TSNSampler(num_frames=4, num_clips=3, test_mode=True),
        UniformSampler(num_frames=16),
        DenseSampler(clip_len=8, frame_interval=4, num_clips=5, test_mode=True),
    ],
)
@pytest.mark.parametrize("total", [3, 40, 301])
def test_output_layout_and_range(sampler, total):
    out = sampler(total, start_index=1, rng=np.random.default_rng(0))
    assert out.shape == (sampler.num_views * sampler.frames_per_view,) and out.dtype == np.int64
    assert out.min() >= 1 and out.max() <= total


def test_tsn_segment_frames_gives_five_consecutive_frames_around_each_centre():
    # 80 frames, 8 segments of 10: test centres 5, 15, ..., 75 (int((k + 0.5) * 10)), each widened to c-2..c+2
    sampler = TSNSampler(num_frames=8, segment_frames=5, test_mode=True)
    expected = [c + d for c in range(5, 80, 10) for d in (-2, -1, 0, 1, 2)]
    assert sampler(80).tolist() == expected
    assert sampler.frames_per_view == 40
    # clamped at both ends: 10 frames, 4 segments -> centres 1, 3, 6, 8
    short = TSNSampler(num_frames=4, segment_frames=5, test_mode=True)(10, start_index=1).tolist()
    assert short == [1, 1, 2, 3, 4, 2, 3, 4, 5, 6, 5, 6, 7, 8, 9, 7, 8, 9, 10, 10]
    # training: consecutive runs of 5 around one random frame per segment, inside the video
    rng = np.random.default_rng(0)
    train = TSNSampler(num_frames=8, segment_frames=5)(100, rng=rng).reshape(8, 5)
    assert (np.diff(train, axis=1) <= 1).all() and train.min() >= 0 and train.max() <= 99
    built = build_sampler({"type": "tsn", "num_frames": 8, "segment_frames": 5, "num_clips": 2}, test_mode=True)
    assert built(80).shape == (2 * 40,)
    for bad in ({"segment_frames": 4}, {"segment_frames": 5, "clip_len": 2}):
        with pytest.raises(ValueError, match="segment_frames"):
            TSNSampler(**bad)
    for bad in (-1, 3.0, 0):
        with pytest.raises(ValueError, match=rf"^segment_frames must be an odd int >= 1, got {bad!r}$"):
            TSNSampler(segment_frames=bad)


def test_segment_frames_reach_the_model_through_the_video_pipeline(real_data):
    from videoshift.data.datasets import build_dataset

    from .test_datasets import video_cfg

    sampling = {"type": "tsn", "num_frames": 4, "segment_frames": 5}
    cfg = video_cfg(real_data, sampling=sampling, test_sampling={**sampling, "num_clips": 1})
    assert build_dataset(cfg, "train")[0]["clip"].shape == (3, 4 * 5, 32, 32)  # (C, T*5, H, W): TDN's input
    assert build_dataset(cfg, "val")[0]["clip"].shape == (1, 3, 4 * 5, 32, 32)
