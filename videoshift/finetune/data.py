"""The videos of a fine-tuning run: scanned, screened, split, and written into the run folder as list files.

Every video is checked before training (it opens, the frames the recipe reads decode, it has at least as many
frames as one view reads); broken and too-short files are skipped and recorded with the reason. A tree without
``val/`` is split class by class from a seed. The lists, the label map and ``data.json`` (counts, skipped files,
split seed) are written once; a resumed run reads them back, so it trains on exactly the same clips.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from videoshift.data.annotations import Sample, write_list
from videoshift.data.check import check_samples
from videoshift.data.folders import scan_class_folders, stratified_split
from videoshift.data.label_maps import write_label_map
from videoshift.data.readers import get_reader

log = logging.getLogger("videoshift.finetune")
RECORD = "data.json"


@dataclass(frozen=True)
class Skipped:
    """A video left out, and why."""

    split: str
    path: str
    reason: str


@dataclass(frozen=True)
class PreparedData:
    """The run's data: list files in the run folder over videos under ``root``.

    Attributes:
        root: the videos' folder (list paths are relative to it).
        class_names: label ``i`` is ``class_names[i]``.
        counts: clips kept per split (``train``, ``val``, maybe ``test``).
        skipped: the videos left out with their reasons.
        split_seed: the seed of the drawn val split; ``None`` where the tree had ``val/``.
        val_fraction: the share of each class drawn for val (``None`` with ``val/``).
    """

    root: str
    class_names: list[str]
    counts: dict[str, int]
    skipped: list[Skipped]
    split_seed: int | None
    val_fraction: float | None

    def list_path(self, run_dir: Path, split: str) -> Path:
        return run_dir / f"{split}_list.txt"

    def data_section(self, run_dir: Path) -> dict[str, Any]:
        """The ``data`` config keys naming the lists, root and label map (sampling and transform left to the
        caller)."""
        section = {
            "dataset": "video",
            "root": self.root,
            "train_list": str(self.list_path(run_dir, "train")),
            "val_list": str(self.list_path(run_dir, "val")),
            "label_map": str(run_dir / "label_map.txt"),
            "num_classes": len(self.class_names),
        }
        if "test" in self.counts:
            section["test_list"] = str(self.list_path(run_dir, "test"))
        return section


def prepare_data(
    data_dir: str | Path, run_dir: Path, min_frames: int, val_fraction: float, seed: int, backend: str = "pyav"
) -> PreparedData:
    """Screen, split and write the videos of ``data_dir`` into ``run_dir`` (or read back what an earlier start of
    the run wrote there).

    Raises:
        ValueError: the tree is not class folders, or after skipping a class has no training clip or the val
            split is empty.
    """
    record = run_dir / RECORD
    if record.is_file():
        stored = json.loads(record.read_text(encoding="utf-8"))
        stored["skipped"] = [Skipped(**item) for item in stored["skipped"]]
        log.info("data: the lists of %s (written when the run started)", run_dir)
        return PreparedData(**stored)
    folders = scan_class_folders(data_dir)
    reader = get_reader(backend)
    kept: dict[str, list[Sample]] = {}
    skipped = []
    for split, samples in folders.splits.items():
        kept[split] = []
        for sample, problem in check_samples(
            samples, folders.root, reader, num_frames=min_frames, min_frames=min_frames
        ):
            if problem is None:
                kept[split].append(sample)
            else:
                skipped.append(Skipped(split, sample.path, problem.error))
                log.warning("skipping %s: %s", sample.path, problem.error)
    names = list(folders.class_names)
    missing = sorted(set(range(len(names))) - {s.labels[0] for s in kept["train"]})
    if missing:
        raise ValueError(f"{data_dir}: no readable training video of class {', '.join(names[i] for i in missing)}")
    split_seed, fraction = None, None
    if "val" not in kept:
        split_seed, fraction = seed, val_fraction
        kept["train"], kept["val"] = stratified_split(kept["train"], val_fraction, seed)
    if not kept["val"]:
        raise ValueError(f"{data_dir}: no validation clip (a class needs at least 2 readable videos to be split)")
    run_dir.mkdir(parents=True, exist_ok=True)
    for split, samples in kept.items():
        write_list(run_dir / f"{split}_list.txt", samples)
    write_label_map(run_dir / "label_map.txt", names)
    counts = {split: len(samples) for split, samples in kept.items()}
    prepared = PreparedData(str(folders.root.resolve()), names, counts, skipped, split_seed, fraction)
    record.write_text(json.dumps(asdict(prepared), indent=1) + "\n", encoding="utf-8")
    return prepared
