import hashlib
import time

import numpy as np
import pytest
import torch

from videoshift.data.datasets import build_dataset
from videoshift.data.label_maps import flip_pairs_from_names
from videoshift.data.readers import read_frames
from videoshift.data.synthetic import (
    CLASS_NAMES,
    FLIP_PAIRS,
    NUM_CLASSES,
    SyntheticMotionDataset,
    render_clip,
    sample_label,
    sample_seed,
    write_synthetic_dataset,
)


def test_classes_come_in_time_reversed_pairs():
    assert NUM_CLASSES == 12 and len(set(CLASS_NAMES)) == 12
    for seed in (0, 1, 12345):
        for pair in range(NUM_CLASSES // 2):
            forward = render_clip(2 * pair, seed)
            backward = render_clip(2 * pair + 1, seed)
            assert np.array_equal(forward[::-1], backward)


def test_clips_are_the_same_bytes_under_every_supported_numpy():
    # pinned under numpy 1.26 and 2.4 alike: float32 frames times a float64 scalar stay float32 only on numpy < 2
    # (NEP 50), so an uncast np.cos(angle) moved pixels by a grey level on numpy 2 and every model trained on the
    # clips with them
    digest = hashlib.sha256()
    for label in range(NUM_CLASSES):
        digest.update(render_clip(label, 7, num_frames=4, size=48).tobytes())
    assert digest.hexdigest() == "8fe5bb972a7ef718dfd0c71eb65a12591f5f98a32281e1f622386b5a8756fdbc"


def test_order_blind_statistics_cannot_separate_a_pair():
    # the mean frame (any order-blind pooling) of a clip and of its twin is identical, while the frame-to-frame
    # motion is large and clearly visible
    for pair in range(NUM_CLASSES // 2):
        a, b = render_clip(2 * pair, 7).astype(np.float32), render_clip(2 * pair + 1, 7).astype(np.float32)
        assert np.allclose(a.mean(0), b.mean(0))
        change = np.abs(a[-1] - a[0]).mean()
        assert change > 2.0, (CLASS_NAMES[2 * pair], change)


def test_deterministic_and_varied():
    assert np.array_equal(render_clip(3, 5, num_frames=6, size=48), render_clip(3, 5, num_frames=6, size=48))
    assert render_clip(3, 5, num_frames=6, size=48).shape == (6, 48, 48, 3)
    assert not np.array_equal(render_clip(3, 5), render_clip(3, 6))
    ds = SyntheticMotionDataset(24, seed=0)
    assert [sample_label(i) for i in range(24)] == list(range(12)) * 2
    assert sample_seed(0, "train", 3) != sample_seed(0, "val", 3)
    with pytest.raises(ValueError, match=r"label"):
        render_clip(12, 0)
    with pytest.raises(ValueError, match=r"split"):
        sample_seed(0, "dev", 0)
    item = ds[5]
    assert item["clip"].shape == (3, 8, 64, 64) and item["label"].item() == 5 and item["index"] == 5


def test_moving_right_moves_right():
    # the brightest-object centroid of class 0 drifts to larger x; of class 1 to smaller x
    for label, sign in ((0, 1), (1, -1)):
        clip = render_clip(label, 3).astype(np.float32)
        xs = []
        for frame in clip:
            change = np.abs(frame - clip.mean(0)).sum(-1)
            cols = np.arange(frame.shape[1])
            xs.append((change.sum(0) * cols).sum() / change.sum())
        assert sign * (xs[-1] - xs[0]) > 5


def test_generation_is_fast():
    ds = SyntheticMotionDataset(300)
    start = time.perf_counter()
    for i in range(300):
        ds.frames(i)
    assert time.perf_counter() - start < 6.0  # ~2 ms per 8x64x64 clip on one core


def test_written_dataset_round_trip(tmp_path):
    paths = write_synthetic_dataset(tmp_path, num_train=4, num_val=2, num_frames=8, size=32, seed=1, lossless=True)
    lines = (tmp_path / "train_list.txt").read_text().splitlines()
    assert lines == [f"videos/train/{i:06d}.mp4 {i}" for i in range(4)]
    assert (tmp_path / "label_map.txt").read_text().splitlines() == list(CLASS_NAMES)
    memory = SyntheticMotionDataset(2, "val", 8, 32, seed=1)
    for i in range(2):
        decoded = read_frames(tmp_path / f"videos/val/{i:06d}.mp4", np.arange(8)).numpy()
        assert np.array_equal(decoded, memory.frames(i))  # lossless files hold exactly the in-memory clips
    assert paths["num_classes"] == 12 and paths["dataset"] == "video"
    # the returned section is a working data config; the label map's names give the synthetic flip pairs
    dataset = build_dataset({**paths, "transform": {"input_size": 32, "short_side": 32}}, "val")
    assert dataset[1]["clip"].shape == (1, 3, 8, 32, 32) and dataset.class_names == list(CLASS_NAMES)
    assert flip_pairs_from_names(CLASS_NAMES) == FLIP_PAIRS
    lossy = write_synthetic_dataset(tmp_path / "h264", num_train=1, num_val=1, size=32, seed=1)
    decoded = read_frames(tmp_path / "h264/videos/train/000000.mp4", np.arange(8)).float()
    reference = torch.from_numpy(SyntheticMotionDataset(1, "train", 8, 32, seed=1).frames(0)).float()
    psnr = 10 * torch.log10(255**2 / ((decoded - reference) ** 2).mean())
    assert psnr > 25 and lossy["root"] == str(tmp_path / "h264")  # H.264 4:2:0 at crf 18 on a noisy texture
