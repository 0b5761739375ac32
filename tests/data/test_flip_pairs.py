"""A flipped training clip takes the mirrored label in both directions of every pair, through the datasets.

The existing transform and dataset tests flip one member of a pair (``right`` → ``left``); a label map that maps
only one way (``left`` stays ``left`` when mirrored) passes them. Here every member of every pair is flipped, through
the dataset a config builds: the synthetic data (pairs from the class names) and list datasets with the named
Something-Something pairs, single-label and multi-hot.
"""

from __future__ import annotations

import pytest
import torch

from videoshift.data import build_dataset

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
