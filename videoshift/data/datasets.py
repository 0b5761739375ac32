"""Datasets over MMAction2 lists (videos or raw-frame folders) and ``build_dataset``, the one entry point.

An item is ``{"clip": Tensor, "label": Tensor, "index": int}``: training clips are ``(C, T, H, W)`` float32,
val/test clips ``(V, C, T, H, W)`` with ``V = clips × crops``; labels are int64 scalars, or float multi-hot
``(num_classes,)`` vectors for multi-label data. Val/test items of lists also hold ``"extent"``, the
:meth:`~videoshift.data.completeness.Extent.row` of the video and its sampled frames (is the file whole, which
seconds the views cover).

Unreadable files raise :class:`~videoshift.data.readers.VideoReadError` (``on_error: raise``), or are skipped
(``on_error: skip``): a warning names the file, a random replacement sample is returned instead, and
:attr:`ListDataset.skipped` counts the skips across DataLoader worker processes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from videoshift.data.annotations import Sample, read_list
from videoshift.data.completeness import Extent
from videoshift.data.label_maps import (
    SSV1_FLIP_PAIRS,
    SSV2_FLIP_PAIRS,
    flip_label_map,
    flip_pairs_from_names,
    read_label_map,
)
from videoshift.data.readers import RawFrameReader, VideoReader, VideoReadError, get_reader
from videoshift.data.samplers import FrameSampler, build_sampler
from videoshift.data.settings import DATA_DEFAULTS, DATASETS, ON_ERROR, SYNTHETIC_DEFAULTS, TransformConfig
from videoshift.data.synthetic import CLASS_NAMES, SyntheticMotionDataset
from videoshift.data.synthetic import FLIP_PAIRS as SYNTHETIC_FLIP_PAIRS
from videoshift.data.transforms import ClipTransform

SPLITS = ("train", "val", "test")
MAX_CONSECUTIVE_SKIPS = 50
MAX_WORKER_SLOTS = 256
NAMED_FLIP_PAIRS = {"sthv1": SSV1_FLIP_PAIRS, "sthv2": SSV2_FLIP_PAIRS, "synthetic": SYNTHETIC_FLIP_PAIRS}


class ListDataset(Dataset):
    """Clips of the samples of an annotation list.

    Args:
        samples: parsed list entries.
        root: folder the entries' paths are relative to.
        reader: decoding backend (a video reader, or a :class:`RawFrameReader` for frame folders).
        sampler: which frames; its ``test_mode`` decides training (one view) or test layout.
        transform: frames + label → clip + label.
        num_classes: number of classes (labels are checked against it).
        multi_label: return multi-hot float labels.
        class_names: names of the classes, if known.
        on_error: "raise" or "skip".
        start_index: added to sampled indices (1 for frame folders named from 1).
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        root: str | Path,
        reader: VideoReader,
        sampler: FrameSampler,
        transform: ClipTransform,
        *,
        num_classes: int,
        multi_label: bool = False,
        class_names: list[str] | None = None,
        on_error: str = "raise",
        start_index: int = 0,
    ) -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        if not samples:
            raise ValueError("the annotation list has no samples")
        if not sampler.test_mode and sampler.num_views != 1:
            raise ValueError(f"training sampling must give one view, got {sampler.num_views}")
        for sample in samples:
            if max(sample.labels) >= num_classes:
                raise ValueError(f"line {sample.line} ({sample.path}): label {max(sample.labels)} >= {num_classes}")
            if len(sample.labels) > 1 and not multi_label:
                raise ValueError(f"line {sample.line} ({sample.path}): several labels but multi_label is false")
        self.samples, self.root, self.reader, self.sampler = list(samples), Path(root), reader, sampler
        self.transform, self.num_classes, self.multi_label = transform, num_classes, multi_label
        self.class_names, self.on_error, self.start_index = class_names, on_error, start_index
        # one counter slot per process (main + DataLoader workers) in shared memory: no locks, any start method
        self._skips = torch.zeros(1 + MAX_WORKER_SLOTS, dtype=torch.int64).share_memory_()

    @property
    def skipped(self) -> int:
        """Samples skipped so far because their file could not be read (all worker processes together)."""
        return int(self._skips.sum())

    def reset_skipped(self) -> None:
        """Start counting skips afresh (e.g. at the start of an epoch)."""
        self._skips.zero_()

    def _count_skip(self) -> None:
        worker = get_worker_info()
        self._skips[0 if worker is None else 1 + worker.id % MAX_WORKER_SLOTS] += 1

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        current = index
        for _ in range(MAX_CONSECUTIVE_SKIPS):
            try:
                indices = self.frames(current)
                clip, label = self.load(current, indices)
                item = {"clip": clip, "label": label, "index": current}
                if self.sampler.test_mode:  # which part of the video the views cover, and whether it is whole
                    item["extent"] = self.extent(current).row(indices)
                return item
            except VideoReadError as error:
                if self.on_error == "raise":
                    raise
                self._count_skip()
                warnings.warn(f"skipping unreadable sample {current}: {error}", RuntimeWarning, stacklevel=2)
                current = int(torch.randint(len(self.samples), ()))
        raise VideoReadError(f"{MAX_CONSECUTIVE_SKIPS} unreadable samples in a row, last at index {current}")

    def label(self, sample: Sample) -> torch.Tensor:
        """The label tensor of ``sample``."""
        if not self.multi_label:
            return torch.tensor(sample.labels[0], dtype=torch.int64)
        target = torch.zeros(self.num_classes, dtype=torch.float32)
        target[list(sample.labels)] = 1.0
        return target

    def frames(self, index: int) -> np.ndarray:
        """The frame numbers the views of sample ``index`` read, ``(V * F,)`` (test sampling is fixed, training
        sampling random)."""
        sample = self.samples[index]
        path = self.root / sample.path
        total = sample.total_frames if sample.total_frames is not None else self.reader.count_frames(path)
        if total < 1:
            raise VideoReadError(f"{path}: no frames (list line {sample.line})")
        rng = np.random.default_rng(int(torch.randint(2**62, ())))  # torch's RNG is seeded per DataLoader worker
        return self.sampler(total, start_index=self.start_index, rng=rng) + sample.offset

    def extent(self, index: int) -> Extent:
        """How much of sample ``index`` can be read: its list's frame count when it states one (frame folders have
        no header), else the reader's :meth:`~videoshift.data.readers.VideoReader.extent`."""
        sample = self.samples[index]
        return (
            Extent(None, sample.total_frames)
            if sample.total_frames is not None
            else self.reader.extent(self.root / sample.path)
        )

    def load(self, index: int, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Read frames ``indices`` of sample ``index`` (from :meth:`frames`) and transform them; no error policy."""
        sample = self.samples[index]
        frames = self.reader.read(self.root / sample.path, indices)  # (V * F, H, W, 3)
        label = self.label(sample)
        if not self.sampler.test_mode:
            return self.transform(frames, label)
        views = frames.reshape(self.sampler.num_views, -1, *frames.shape[1:])
        return torch.cat([self.transform(view, label)[0] for view in views]), label


def _flip_map(transform: TransformConfig, class_names: list[str] | None) -> dict[int, int]:
    pairs = transform.flip_pairs
    if isinstance(pairs, str):
        if pairs not in NAMED_FLIP_PAIRS:
            raise ValueError(f"transform.flip_pairs must be pairs or one of {sorted(NAMED_FLIP_PAIRS)}, got {pairs!r}")
        pairs = NAMED_FLIP_PAIRS[pairs]
    elif pairs is None and class_names:
        pairs = flip_pairs_from_names(class_names)
    return flip_label_map(pairs)


def _classes(cfg: Mapping[str, Any]) -> tuple[int, list[str] | None]:
    """``num_classes`` and class names from ``num_classes`` and/or ``label_map`` (which must agree)."""
    class_names = read_label_map(cfg["label_map"]) if cfg.get("label_map") else None
    num_classes = cfg.get("num_classes")
    if num_classes is None and class_names is None:
        raise ValueError("data.num_classes is required when no label_map is given")
    num_classes = len(class_names) if num_classes is None else int(num_classes)
    if num_classes < 1:
        raise ValueError(f"data.num_classes must be >= 1, got {num_classes}")
    if class_names is not None and len(class_names) != num_classes:
        raise ValueError(f"data.num_classes={num_classes} but {cfg['label_map']} has {len(class_names)} classes")
    return num_classes, class_names


def eval_sampling(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    """The sampling of test views: ``test_sampling``, else ``sampling``, else TSN with 8 segments."""
    return cfg.get("test_sampling") or cfg.get("sampling") or {"type": "tsn", "num_frames": 8}


def build_dataset(cfg: Mapping[str, Any], split: str, samples: Sequence[Sample] | None = None) -> Dataset:
    """The dataset of ``split`` ("train", "val" or "test") described by a config's ``data`` section.

    ``samples`` replaces the split's list file (e.g. the videos a user asks ``predict`` about).

    Every key, its default and its meaning are listed in ``docs/config.md`` (made from
    :mod:`videoshift.engine.schema`); keys left out take the defaults of :mod:`videoshift.data.settings`. Paths in
    a list are relative to ``root`` (default: the list's folder). Flip label pairs default to those found in the
    label map's names (see :func:`~videoshift.data.label_maps.flip_pairs_from_names`); ``flip_pairs`` may also
    name a set: "sthv1", "sthv2", "synthetic".
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    cfg = {**DATA_DEFAULTS, **cfg}
    kind = cfg["dataset"]
    train = split == "train"
    if kind == "synthetic":
        return _build_synthetic(cfg, split)
    if kind not in DATASETS:
        raise ValueError(f"data.dataset must be one of {DATASETS}, got {kind!r}")
    list_key = {"train": "train_list", "val": "val_list", "test": "test_list"}[split]
    list_path = cfg.get(list_key) or (cfg.get("val_list") if split == "test" else None)
    if not list_path and samples is None:
        raise ValueError(f"data.{list_key} is required for split {split!r}")
    num_classes, class_names = _classes(cfg)
    rawframes = kind == "rawframes"
    with_offset = bool(cfg["with_offset"])
    if samples is None:
        samples = read_list(list_path, rawframes=rawframes, with_offset=with_offset, num_classes=num_classes)
    if rawframes:
        start_index = int(cfg["start_index"])
        reader: VideoReader = RawFrameReader(cfg["filename_tmpl"], start_index)
    else:
        start_index = 0
        reader = get_reader(cfg["backend"])
    sampler = build_sampler(cfg.get("sampling", {"type": "tsn"}) if train else eval_sampling(cfg), test_mode=not train)
    transform_cfg = TransformConfig.from_mapping(cfg.get("transform"))
    transform = ClipTransform(transform_cfg, train=train, flip_map=_flip_map(transform_cfg, class_names))
    return ListDataset(
        samples,
        cfg.get("root") or (Path(list_path).parent if list_path else Path()),
        reader,
        sampler,
        transform,
        num_classes=num_classes,
        multi_label=bool(cfg["multi_label"]),
        class_names=class_names,
        on_error=cfg["on_error"],
        start_index=start_index,
    )


def _build_synthetic(cfg: Mapping[str, Any], split: str) -> SyntheticMotionDataset:
    """In-memory synthetic motion data; the transform defaults to the clip size with a centre crop, and flips swap
    the mirrored classes (right/left, clockwise/anticlockwise) unless ``flip_pairs`` says otherwise."""
    synthetic = {**SYNTHETIC_DEFAULTS, **(cfg.get("synthetic") or {})}
    size = int(synthetic["size"])
    defaults = {"input_size": size, "short_side": size, "train_crop": "center"}
    transform_cfg = TransformConfig.from_mapping(cfg.get("transform"), **defaults)
    train = split == "train"
    transform = ClipTransform(transform_cfg, train=train, flip_map=_flip_map(transform_cfg, list(CLASS_NAMES)))
    count = int(synthetic["num_train"] if train else synthetic["num_val"])
    return SyntheticMotionDataset(
        count, split, int(synthetic["num_frames"]), size, int(synthetic["seed"]), transform=transform
    )
