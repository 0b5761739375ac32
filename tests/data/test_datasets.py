import warnings

import numpy as np
import pytest
import torch
from media import moving_frames, write_video
from torch.utils.data import DataLoader

from videoshift.data.datasets import build_dataset
from videoshift.data.readers import VideoReadError

SMALL = {"input_size": 32, "short_side": 36}


def video_cfg(real_data, **extra):
    cfg = {
        "dataset": "video",
        "root": str(real_data / "videos"),
        "train_list": str(real_data / "annotations/video_test_list.txt"),
        "val_list": str(real_data / "annotations/video_test_list.txt"),
        "num_classes": 5,
        "sampling": {"type": "tsn", "num_frames": 8},
        "test_sampling": {"type": "tsn", "num_frames": 8, "num_clips": 1},
        "transform": dict(SMALL),
    }
    cfg.update(extra)
    return cfg


def test_synthetic_dataset_contract():
    cfg = {"dataset": "synthetic", "synthetic": {"num_train": 24, "num_val": 12, "num_frames": 8, "size": 32}}
    train, val = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    assert len(train) == 24 and len(val) == 12 and train.num_classes == 12 and train.skipped == 0
    assert train.class_names[0] == "moving right"
    item = train[0]
    assert item["clip"].shape == (3, 8, 32, 32) and item["clip"].dtype == torch.float32
    assert item["label"].dtype == torch.int64 and item["label"].ndim == 0
    assert val[0]["clip"].shape == (1, 3, 8, 32, 32)
    batch = next(iter(DataLoader(train, batch_size=4)))
    assert batch["clip"].shape == (4, 3, 8, 32, 32) and batch["label"].shape == (4,)


@pytest.mark.parametrize("flip_pairs", [{}, {"flip_pairs": None}, {"flip_pairs": "synthetic"}])
def test_synthetic_flip_swaps_left_right_labels(flip_pairs):
    cfg = {"dataset": "synthetic", "synthetic": {"num_train": 12, "size": 32}, "transform": flip_pairs}
    train = build_dataset(cfg, "train")
    labels = set()
    for seed in range(12):
        torch.manual_seed(seed)
        labels.add(int(train[0]["label"]))  # class 0, "moving right"
    assert labels == {0, 1}
    torch.manual_seed(0)
    assert {int(train[2]["label"]) for _ in range(8)} == {2}  # moving down is unchanged by a mirror


def test_video_dataset_train_and_test_views(real_data):
    train = build_dataset(video_cfg(real_data), "train")
    assert len(train) == 2 and train.class_names is None
    assert train[0]["clip"].shape == (3, 8, 32, 32)
    cfg = video_cfg(real_data, transform={**SMALL, "test_crops": 3})
    cfg["test_sampling"] = {"type": "tsn", "num_frames": 8, "twice_sample": True}
    test = build_dataset(cfg, "test")  # test_list defaults to val_list
    item = test[1]
    assert item["clip"].shape == (2 * 3, 3, 8, 32, 32) and item["label"].item() == 0 and item["index"] == 1


def test_dense_test_views(real_data):
    cfg = video_cfg(real_data, test_sampling={"type": "dense", "clip_len": 4, "frame_interval": 2, "num_clips": 2})
    assert build_dataset(cfg, "val")[0]["clip"].shape == (2, 3, 4, 32, 32)


def test_multi_label(real_data):
    cfg = video_cfg(
        real_data, multi_label=True, train_list=str(real_data / "annotations/video_test_list_multi_label.txt")
    )
    train = build_dataset(cfg, "train")
    assert train[0]["label"].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert train[1]["label"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match=r"several labels"):
        build_dataset({**cfg, "multi_label": False}, "train")


def test_rawframes_with_offset_reads_the_right_files(real_data):
    # list line "imgs 2 5 127": frames 2 + (1..5), i.e. files img_00003 .. img_00007 for 5 segments of 5 frames
    cfg = {
        "dataset": "rawframes",
        "root": str(real_data / "rawframes"),
        "train_list": str(real_data / "annotations/rawframe_test_list_with_offset.txt"),
        "val_list": str(real_data / "annotations/rawframe_test_list_with_offset.txt"),
        "with_offset": True,
        "num_classes": 200,
        "test_sampling": {"type": "tsn", "num_frames": 5},
        "transform": {"input_size": 240, "short_side": 240, "mean": [0, 0, 0], "std": [1, 1, 1]},
    }
    dataset = build_dataset(cfg, "val")
    clip = dataset[0]["clip"][0]  # (C, T, H, W) in [0, 1]
    from PIL import Image

    folder = real_data / "rawframes/imgs"
    for t, number in enumerate(range(3, 8)):
        image = np.asarray(Image.open(folder / f"img_{number:05d}.jpg").convert("RGB"), dtype=np.float32) / 255
        centre = image[:, 40:280]  # 320x240 centre-cropped to 240
        assert np.allclose(clip[:, t].permute(1, 2, 0).numpy(), centre, atol=1e-6)
    assert dataset[0]["label"].item() == 127


def test_flip_pairs_follow_the_label_map(real_data, tmp_path):
    names = (real_data / "label_maps/sthv2_label_map.txt").read_text().splitlines()
    path = tmp_path / "clip.mp4"
    write_video(path, moving_frames(10))
    (tmp_path / "list.txt").write_text("clip.mp4 86\n")
    cfg = {
        "dataset": "video",
        "train_list": str(tmp_path / "list.txt"),
        "val_list": str(tmp_path / "list.txt"),
        "label_map": str(real_data / "label_maps/sthv2_label_map.txt"),
        "transform": dict(SMALL),
    }
    dataset = build_dataset(cfg, "train")
    assert dataset.num_classes == 174 and dataset.class_names == names
    labels = set()
    for seed in range(10):
        torch.manual_seed(seed)
        labels.add(int(dataset[0]["label"]))
    assert labels == {86, 87}
    with pytest.raises(ValueError, match=r"num_classes=10"):
        build_dataset({**cfg, "num_classes": 10}, "train")


def broken_list(real_data, tmp_path):
    lines = ["demo.mp4 0", "missing.mp4 1", "demo_truncated40.mp4 2"]
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    for name, folder in (("demo.mp4", "videos"), ("demo_truncated40.mp4", "videos_derived")):
        (tmp_path / name).symlink_to(real_data / folder / name)
    return tmp_path / "list.txt"


def test_on_error_raise_and_skip(real_data, tmp_path):
    listing = broken_list(real_data, tmp_path)
    cfg = video_cfg(real_data, root=str(tmp_path), train_list=str(listing), val_list=str(listing))
    with pytest.raises(VideoReadError, match=r"missing.mp4"):
        build_dataset(cfg, "val")[1]
    dataset = build_dataset({**cfg, "on_error": "skip"}, "val")
    torch.manual_seed(0)
    with pytest.warns(RuntimeWarning, match=r"skipping unreadable sample"):
        item = dataset[2]
    assert item["index"] == 0 and item["label"].item() == 0  # the only readable entry replaced it
    assert dataset.skipped >= 1
    dataset.reset_skipped()
    assert dataset.skipped == 0


@pytest.mark.parametrize("start", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
def test_skips_are_counted_across_workers(real_data, tmp_path, start):
    listing = broken_list(real_data, tmp_path)
    cfg = video_cfg(real_data, root=str(tmp_path), val_list=str(listing), on_error="skip")
    cfg["test_sampling"] = {"type": "tsn", "num_frames": 2}
    dataset = build_dataset(cfg, "val")
    subset = torch.utils.data.Subset(dataset, [1, 2])
    loader = DataLoader(subset, batch_size=1, num_workers=2, multiprocessing_context=start)
    with warnings.catch_warnings():  # raised inside the worker processes, not here
        warnings.simplefilter("ignore", RuntimeWarning)
        batches = list(loader)
    assert all(int(b["index"]) == 0 for b in batches)
    assert dataset.skipped >= 2


def test_config_errors(real_data):
    with pytest.raises(ValueError, match=r"split"):
        build_dataset(video_cfg(real_data), "dev")
    with pytest.raises(ValueError, match=r"data.dataset"):
        build_dataset({**video_cfg(real_data), "dataset": "lmdb"}, "train")
    with pytest.raises(ValueError, match=r"on_error"):
        build_dataset({**video_cfg(real_data), "on_error": "ignore"}, "train")
    with pytest.raises(ValueError, match=r"num_classes"):
        build_dataset({k: v for k, v in video_cfg(real_data).items() if k != "num_classes"}, "train")
    multi = str(real_data / "annotations/video_test_list_multi_label.txt")
    with pytest.raises(ValueError, match=r"video_test_list_multi_label.txt:1: label 3 out of range"):
        build_dataset({**video_cfg(real_data), "num_classes": 3, "multi_label": True, "train_list": multi}, "train")
    with pytest.raises(ValueError, match=r"one view"):
        build_dataset({**video_cfg(real_data), "sampling": {"type": "dense", "num_clips": 2}}, "train")
