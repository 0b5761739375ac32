"""A flipped training clip takes the mirrored label in both directions of every pair, through the datasets.

The existing transform and dataset tests flip one member of a pair (``right`` → ``left``); a label map that maps
only one way (``left`` stays ``left`` when mirrored) passes them. Here every member of every pair is flipped, through
the dataset a config builds: the synthetic data (pairs from the class names) and list datasets with the named
Something-Something pairs, single-label and multi-hot.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videoshift.data import build_dataset
from videoshift.data.synthetic import CLASS_NAMES, object_boxes

# MMAction2's flip_label_map of the Something-Something configs, both ways; the synthetic classes' mirror pairs
MIRROR = {
    "sthv2": {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166},
    "sthv1": {2: 4, 4: 2, 30: 41, 41: 30, 52: 66, 66: 52},
    "synthetic": {0: 1, 1: 0, 4: 5, 5: 4},
}


def test_synthetic_flips_mirror_both_members_of_every_pair():
    cfg = {"dataset": "synthetic", "synthetic": {"num_train": 24, "size": 16, "num_frames": 2}}
    flipping = build_dataset(cfg, "train")
    plain = build_dataset({**cfg, "transform": {"flip": False}}, "train")
    outcomes: dict[int, set[bool]] = {}
    for index in range(len(plain)):
        reference = plain[index]
        label = int(reference["label"])
        for seed in range(6):
            torch.manual_seed(seed)
            item = flipping[index]
            flipped = torch.equal(item["clip"], reference["clip"].flip(-1))
            assert flipped or torch.equal(item["clip"], reference["clip"])
            expected = MIRROR["synthetic"].get(label, label) if flipped else label
            assert int(item["label"]) == expected, (index, label, flipped)
            outcomes.setdefault(label, set()).add(flipped)
    assert all(outcomes[label] == {True, False} for label in MIRROR["synthetic"])  # both ways, each member


def _list_dataset(tmp_path, pairs: str, num_classes: int, multi_label: bool = False, flip: bool = True):
    (tmp_path / "train.txt").write_text("missing.mp4 0\n")  # the transform is tested, no video is read
    transform = {"input_size": 4, "short_side": 4, "train_crop": "center", "flip": flip, "flip_pairs": pairs}
    cfg = {
        "dataset": "video",
        "root": str(tmp_path),
        "train_list": str(tmp_path / "train.txt"),
        "num_classes": num_classes,
        "multi_label": multi_label,
        "transform": transform,
    }
    return build_dataset(cfg, "train")


@pytest.mark.parametrize("pairs", ["sthv2", "sthv1"])
def test_list_dataset_flips_mirror_both_members_of_every_pair(tmp_path, pairs):
    transform = _list_dataset(tmp_path, pairs, 174).transform
    frames = torch.arange(2 * 4 * 4 * 3, dtype=torch.uint8).reshape(2, 4, 4, 3)  # no left-right symmetry
    reference = _list_dataset(tmp_path, pairs, 174, flip=False).transform(frames, torch.tensor(0))[0]
    for label, mirrored in MIRROR[pairs].items():
        outcomes = set()
        for seed in range(12):
            torch.manual_seed(seed)
            clip, out = transform(frames, torch.tensor(label))
            flipped = torch.equal(clip, reference.flip(-1))
            assert flipped or torch.equal(clip, reference)
            assert int(out) == (mirrored if flipped else label), (label, flipped)
            outcomes.add(flipped)
        assert outcomes == {True, False}, label
    for label in (0, 85, 88, 173):  # unpaired classes keep their label
        torch.manual_seed(0)
        assert {int(transform(frames, torch.tensor(label))[1]) for _ in range(6)} == {label}


def test_multi_hot_labels_mirror_both_ways(tmp_path):
    transform = _list_dataset(tmp_path, "sthv2", 174, multi_label=True).transform
    frames = torch.zeros(2, 4, 4, 3, dtype=torch.uint8)
    for label, mirrored in MIRROR["sthv2"].items():
        target = torch.zeros(174)
        target[[label, 10]] = 1.0
        outs = set()
        for seed in range(10):
            torch.manual_seed(seed)
            outs.add(tuple(transform(frames, target.clone())[1].nonzero().flatten().tolist()))
        assert outs == {tuple(sorted((label, 10))), tuple(sorted((mirrored, 10)))}, (label, outs)


def _mirror_boxes(boxes: np.ndarray, size: int) -> np.ndarray:
    """Boxes ``x0, y0, x1, y1`` of a horizontally flipped frame: pixel x goes to size - 1 - x."""
    return np.stack([size - boxes[:, 2], boxes[:, 1], size - boxes[:, 0], boxes[:, 3]], axis=1)


def test_a_mirrored_moving_right_clip_is_the_moving_left_clip():
    right, left = CLASS_NAMES.index("moving right"), CLASS_NAMES.index("moving left")
    down = CLASS_NAMES.index("moving down")
    for seed in range(4):
        mirrored = _mirror_boxes(object_boxes(right, seed, 8, 32), 32)
        assert mirrored[-1, 0] < mirrored[0, 0]  # the flipped object moves left ...
        centres = (mirrored[:, :2] + mirrored[:, 2:]) / 2  # (T, 2) x, y of the flipped object
        boxes = object_boxes(left, seed, 8, 32)
        expected = (boxes[:, :2] + boxes[:, 2:]) / 2
        # ... step by step as "moving left" does (the same scene drawn backwards), to a pixel; positions may differ
        # by a constant, since a mirrored asymmetric shape (an ell, a triangle) sits differently in its box
        np.testing.assert_allclose(np.diff(centres, axis=0), np.diff(expected, axis=0), atol=1.0)
        boxes = _mirror_boxes(object_boxes(down, seed, 8, 32), 32)
        assert boxes[-1, 1] > boxes[0, 1] and boxes[0, 0] == boxes[-1, 0]  # flipped "moving down" still moves down


@pytest.mark.parametrize("pairs", [None, "synthetic"])  # derived from the class names, or the named set
def test_flipped_synthetic_clips_take_the_label_of_their_mirror(pairs):
    # A mirror swaps left/right and the sense of rotation, and changes no vertical motion, size, opacity or
    # brightness: right <-> left, clockwise <-> anticlockwise, every other class its own mirror (by hand).
    mirror = {
        "moving right": "moving left",
        "moving left": "moving right",
        "rotating clockwise": "rotating anticlockwise",
        "rotating anticlockwise": "rotating clockwise",
    }
    cfg = {"dataset": "synthetic", "synthetic": {"num_train": 12, "size": 16, "num_frames": 2}}
    flipping = build_dataset({**cfg, "transform": {"flip_pairs": pairs}}, "train")
    plain = build_dataset({**cfg, "transform": {"flip": False}}, "train")
    for index in range(len(plain)):
        reference = plain[index]
        name = CLASS_NAMES[int(reference["label"])]
        for seed in range(12):
            torch.manual_seed(seed)
            item = flipping[index]
            if torch.equal(item["clip"], reference["clip"].flip(-1)):  # the rendered clip, mirrored
                assert CLASS_NAMES[int(item["label"])] == mirror.get(name, name), name
                break
        else:
            pytest.fail(f"no flip of {name} in 12 draws")
