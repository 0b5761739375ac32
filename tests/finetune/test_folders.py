"""Class-folder trees: scanning, the seeded stratified split, and screening broken and too-short videos."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from class_trees import write_tree

from videoshift.data.annotations import Sample
from videoshift.data.folders import scan_class_folders, stratified_split
from videoshift.finetune.data import prepare_data


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_flat_tree_gives_sorted_classes_and_every_video(tmp_path):
    for name in ("b/2.MP4", "b/1.avi", "a/x.mkv", "a/sub/y.webm", "a/notes.txt", "c/z.mov"):
        _touch(tmp_path / name)
    found = scan_class_folders(tmp_path)
    assert found.class_names == ("a", "b", "c")
    assert list(found.splits) == ["train"]
    paths = [(s.path, s.labels[0]) for s in found.splits["train"]]
    assert paths == [("a/sub/y.webm", 0), ("a/x.mkv", 0), ("b/1.avi", 1), ("b/2.MP4", 1), ("c/z.mov", 2)]


def test_split_tree_takes_classes_from_train_and_keeps_val_and_test(tmp_path):
    for name in ("train/run/1.mp4", "train/sit/1.mp4", "val/sit/2.mp4", "test/run/3.mp4", "test/sit/4.mp4"):
        _touch(tmp_path / name)
    found = scan_class_folders(tmp_path)
    assert found.class_names == ("run", "sit")
    assert {k: [(s.path, s.labels[0]) for s in v] for k, v in found.splits.items()} == {
        "train": [("train/run/1.mp4", 0), ("train/sit/1.mp4", 1)],
        "val": [("val/sit/2.mp4", 1)],
        "test": [("test/run/3.mp4", 0), ("test/sit/4.mp4", 1)],
    }
    _touch(tmp_path / "val" / "jump" / "5.mp4")
    with pytest.raises(ValueError, match="'jump' is not among the classes"):
        scan_class_folders(tmp_path)


def test_empty_class_folder_is_named(tmp_path):
    _touch(tmp_path / "a" / "1.mp4")
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match=r"/b: no video files"):
        scan_class_folders(tmp_path)


def test_split_is_stratified_and_reproducible_from_its_seed():
    counts = {0: 5, 1: 10, 2: 3, 3: 1}
    samples = [Sample(f"{c}/{i}.mp4", (c,)) for c, n in counts.items() for i in range(n)]
    train, val = stratified_split(samples, 0.2, seed=7)
    # by hand: round(0.2 * n) per class, at least 1 and at most n - 1: 5 -> 1, 10 -> 2, 3 -> 1 (0.6), 1 -> 0
    assert Counter(s.labels[0] for s in val) == {0: 1, 1: 2, 2: 1}
    assert sorted(train + val, key=samples.index) == samples and not set(train) & set(val)
    assert stratified_split(samples, 0.2, seed=7) == (train, val)
    draws = {tuple(s.path for s in stratified_split(samples, 0.2, seed)[1]) for seed in range(6)}
    assert len(draws) > 1  # the seed decides which videos go to val
    with pytest.raises(ValueError, match="--val-fraction"):
        stratified_split(samples, 1.0, seed=0)


def test_broken_and_short_videos_are_skipped_with_reasons_and_the_split_written(tmp_path):
    data = write_tree(tmp_path / "data", {"left": 3, "right": 3})
    good = (data / "left" / "000.mp4").read_bytes()
    (data / "left" / "garbage.mp4").write_bytes(b"\x00not a video" * 50)
    (data / "right" / "truncated.mp4").write_bytes(good[: len(good) // 3])
    write_tree(tmp_path / "short", {"right": 1}, frames=4)
    (tmp_path / "short" / "right" / "000.mp4").rename(data / "right" / "short.mp4")
    run = tmp_path / "run"
    prepared = prepare_data(data, run, min_frames=8, val_fraction=0.34, seed=3)
    reasons = {item.path: item.reason for item in prepared.skipped}
    assert set(reasons) == {"left/garbage.mp4", "right/truncated.mp4", "right/short.mp4"}
    assert reasons["right/short.mp4"] == "4 frames, fewer than the 8 needed"
    # 3 good videos per class, round(0.34 * 3) = 1 to val each
    assert prepared.counts == {"train": 4, "val": 2} and prepared.split_seed == 3
    lists = {split: (run / f"{split}_list.txt").read_text().split("\n")[:-1] for split in ("train", "val")}
    assert len(lists["train"]) == 4 and sorted(line.split()[1] for line in lists["val"]) == ["0", "1"]
    assert (run / "label_map.txt").read_text() == "left\nright\n"
    again = prepare_data(data, run, min_frames=8, val_fraction=0.5, seed=99)  # a restart reads the run's own split
    assert again == prepared and json.loads((run / "data.json").read_text())["split_seed"] == 3


def test_data_synth_folders_writes_a_split_set_and_an_unseen_look(tmp_path):
    from videoshift.cli import main
    from videoshift.data.synthetic import NUM_CLASSES, class_folder, render_clip

    args = ["data", "synth", "--folders", str(tmp_path), "--num-train", "12", "--num-val", "12", "--size", "16"]
    assert main(args) == 0
    seen, unseen = scan_class_folders(tmp_path / "motion"), scan_class_folders(tmp_path / "motion_unseen")
    assert seen.class_names == unseen.class_names == tuple(sorted(class_folder(k) for k in range(NUM_CLASSES)))
    assert {k: len(v) for k, v in seen.splits.items()} == {"train": 12, "val": 12}
    assert {k: len(v) for k, v in unseen.splits.items()} == {"train": 24}
    # the second look draws other shapes and backgrounds from the same seed: no frame is the same
    assert all((render_clip(k, 5, 4, 32, 1) != render_clip(k, 5, 4, 32, 0)).any(axis=(1, 2, 3)).all() for k in (0, 6))
