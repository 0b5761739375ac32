"""Class-folder datasets: ``DATA/<class>/<video>`` (or ``DATA/{train,val,test}/<class>/<video>``) as list entries.

The folder layout most users have: one subfolder per class holding its video files, in any container the readers
decode. Class names are the folder names, sorted; a ``train/`` subfolder marks a tree already split by hand
(``val/`` and ``test/`` optional, their classes a subset of ``train/``'s). Without ``val/``,
:func:`stratified_split` draws one from the training videos, reproducibly from a seed. This module imports no
torch (``predict`` expands folders with :data:`VIDEO_SUFFIXES` while parsing its arguments).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from videoshift.data.annotations import Sample

VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ogv", ".flv", ".wmv")
SPLIT_FOLDERS = ("train", "val", "test")


@dataclass(frozen=True)
class ClassFolders:
    """The videos of a class-folder tree.

    Attributes:
        root: the tree's top folder; every sample's path is relative to it.
        class_names: the class folders' names, sorted (label ``i`` is ``class_names[i]``).
        splits: ``train`` (always), ``val`` and ``test`` (where the tree has them) → their samples.
    """

    root: Path
    class_names: tuple[str, ...]
    splits: dict[str, list[Sample]]


def video_files(folder: Path) -> list[Path]:
    """The video files under ``folder`` (recursively, by suffix, case-insensitive), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def _class_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def scan_class_folders(root: str | Path) -> ClassFolders:
    """Read a class-folder tree (see the module docstring).

    Raises:
        ValueError: ``root`` is no folder, has no class folders, a class folder holds no video, or ``val/`` /
            ``test/`` name a class that ``train/`` lacks.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder (expected one subfolder of videos per class)")
    split_root = (root / "train").is_dir()
    top = root / "train" if split_root else root
    classes = [p.name for p in _class_dirs(top)]
    if not classes:
        raise ValueError(f"{top}: no class folders (expected one subfolder of videos per class)")
    index = {name: i for i, name in enumerate(classes)}
    splits = {}
    for split in SPLIT_FOLDERS if split_root else ("train",):
        folder = root / split if split_root else root
        if not folder.is_dir():
            continue
        samples = []
        for class_dir in _class_dirs(folder):
            if class_dir.name not in index:
                raise ValueError(f"{class_dir}: class {class_dir.name!r} is not among the classes of {top}")
            files = video_files(class_dir)
            if not files and split == "train":
                raise ValueError(f"{class_dir}: no video files ({', '.join(VIDEO_SUFFIXES)})")
            samples += [Sample(f.relative_to(root).as_posix(), (index[class_dir.name],)) for f in files]
        splits[split] = samples
    return ClassFolders(root, tuple(classes), splits)


def stratified_split(samples: Sequence[Sample], fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Split ``samples`` into ``(train, val)`` class by class: each class gives ``round(fraction * n)`` of its ``n``
    samples to val (at least 1 and at most ``n - 1`` when ``n >= 2``; none of a class with one sample), chosen by
    a shuffle seeded from ``(seed, class)``. Both parts keep the input order.

    Raises:
        ValueError: ``fraction`` outside ``(0, 1)``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"--val-fraction must be between 0 and 1, got {fraction}")
    by_class: dict[int, list[int]] = {}
    for position, sample in enumerate(samples):
        by_class.setdefault(sample.labels[0], []).append(position)
    chosen: set[int] = set()
    for label, positions in sorted(by_class.items()):
        count = len(positions)
        size = min(max(round(fraction * count), 1), count - 1)
        chosen.update(random.Random(f"{seed}:{label}").sample(positions, size))
    train = [s for i, s in enumerate(samples) if i not in chosen]
    val = [s for i, s in enumerate(samples) if i in chosen]
    return train, val
