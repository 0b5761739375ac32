"""Converters from the official annotation files of SSv2, SSv1, Kinetics-400 and Diving-48 to MMAction2 lists.

Each converter writes ``<name>_<split>_list_<videos|rawframes>.txt`` plus ``label_map.txt`` into ``out_dir`` (the
file names MMAction2's tools produce) and returns ``{"label_map": path, "<split>_list": path, ...}``. Malformed
entries raise ``ValueError`` naming the file and the line (CSV) or entry number (JSON, 0-based).

Layouts written:
* SSv2: ``<id>.webm label`` from ``something-something-v2-labels.json`` (name → index) and the train/validation
  JSON lists (``id``, ``template``; the class is the template without brackets).
* SSv1: ``<id> total_frames label`` (frame folders, counted under ``frames_root``) from the ``;``-separated CSVs
  ``something-something-v1-labels.csv`` and ``-train.csv``/``-validation.csv`` (``id;class name``). SSv1 frames
  are named ``00001.jpg``: use ``filename_tmpl: "{:05d}.jpg"`` with these lists.
* Kinetics-400: ``<label_with_underscores>/<youtube_id>_<start:06d>_<end:06d>.mp4 label`` from the CSVs with
  columns ``label, youtube_id, time_start, time_end, split`` (classes sorted by name unless a label map is given).
* Diving-48 V2: ``<vid_name>.mp4 label`` from ``Diving48_V2_{train,test}.json`` (``vid_name``, ``label``) and
  ``Diving48_vocab.json`` (per class: take-off, somersault, twist, flight; joined with ``+``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from videoshift.data.annotations import Sample, write_list
from videoshift.data.label_maps import read_label_map, write_label_map


def _load_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: invalid JSON ({error.msg})") from error


def _field(entry: Any, key: str, path: str | Path, number: int) -> Any:
    if not isinstance(entry, Mapping) or key not in entry:
        raise ValueError(f"{path}: entry {number} has no {key!r} field: {entry!r}")
    return entry[key]


def _write_outputs(
    out_dir: str | Path, prefix: str, names: Sequence[str], lists: Mapping[str, list[Sample]], rawframes: bool = False
) -> dict[str, Path]:
    out = Path(out_dir)
    kind = "rawframes" if rawframes else "videos"
    result = {"label_map": write_label_map(out / "label_map.txt", names)}
    for split, samples in lists.items():
        result[f"{split}_list"] = write_list(out / f"{prefix}_{split}_list_{kind}.txt", samples, rawframes=rawframes)
    return result


def convert_ssv2(labels_json: str | Path, splits: Mapping[str, str | Path], out_dir: str | Path) -> dict[str, Path]:
    """Something-Something V2; ``splits`` maps split names ("train", "val") to the official JSON lists."""
    raw = _load_json(labels_json)
    if not isinstance(raw, Mapping):
        raise ValueError(f"{labels_json}: expected a JSON object of class name -> index")
    try:
        index = {name: int(value) for name, value in raw.items()}
    except (TypeError, ValueError) as error:
        raise ValueError(f"{labels_json}: class indices must be integers ({error})") from error
    names = sorted(index, key=index.__getitem__)
    if sorted(index.values()) != list(range(len(names))):
        raise ValueError(f"{labels_json}: class indices must be 0..{len(names) - 1} without gaps")
    lists = {}
    for split, path in splits.items():
        entries = _load_json(path)
        samples = []
        for number, entry in enumerate(entries):
            template = str(_field(entry, "template", path, number)).replace("[", "").replace("]", "")
            if template not in index:
                raise ValueError(f"{path}: entry {number}: unknown class {template!r}")
            samples.append(Sample(f"{_field(entry, 'id', path, number)}.webm", (index[template],)))
        lists[split] = samples
    return _write_outputs(out_dir, "sthv2", names, lists)


def _csv_rows(path: str | Path, delimiter: str) -> list[tuple[int, list[str]]]:
    with open(path, newline="") as handle:
        return [(n, row) for n, row in enumerate(csv.reader(handle, delimiter=delimiter), start=1) if row]


def convert_ssv1(
    labels_csv: str | Path, splits: Mapping[str, str | Path], frames_root: str | Path, out_dir: str | Path
) -> dict[str, Path]:
    """Something-Something V1 (frame folders ``frames_root/<id>/00001.jpg ...``, counted to get total_frames)."""
    names = [row[0].strip() for _, row in _csv_rows(labels_csv, ";")]
    index = {name: i for i, name in enumerate(names)}
    lists = {}
    for split, path in splits.items():
        samples = []
        for number, row in _csv_rows(path, ";"):
            if len(row) != 2 or row[1].strip() not in index:
                raise ValueError(f"{path}:{number}: expected 'id;class name' with a known class, got {';'.join(row)!r}")
            folder = Path(frames_root) / row[0].strip()
            total = sum(1 for f in folder.glob("*.jpg")) if folder.is_dir() else 0
            if total == 0:
                raise ValueError(f"{path}:{number}: no frames in {folder}")
            samples.append(Sample(row[0].strip(), (index[row[1].strip()],), total_frames=total))
        lists[split] = samples
    return _write_outputs(out_dir, "sthv1", names, lists, rawframes=True)


def convert_kinetics400(
    splits: Mapping[str, str | Path], out_dir: str | Path, label_map: str | Path | None = None
) -> dict[str, Path]:
    """Kinetics-400 CSVs (``label,youtube_id,time_start,time_end,split``); test CSVs without labels are skipped."""
    tables = {}
    for split, path in splits.items():
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"label", "youtube_id", "time_start", "time_end"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}:1: header lacks columns {sorted(missing)}")
            tables[split] = [(n, row) for n, row in enumerate(reader, start=2)]
    names = read_label_map(label_map) if label_map else sorted({r["label"] for t in tables.values() for _, r in t})
    index = {name: i for i, name in enumerate(names)}
    lists = {}
    for split, rows in tables.items():
        samples = []
        for number, row in rows:
            try:
                start, end = int(float(row["time_start"])), int(float(row["time_end"]))
            except (TypeError, ValueError):
                raise ValueError(f"{splits[split]}:{number}: bad time_start/time_end in {row!r}") from None
            if row["label"] not in index:
                raise ValueError(f"{splits[split]}:{number}: unknown label {row['label']!r}")
            relative = f"{row['label'].replace(' ', '_')}/{row['youtube_id']}_{start:06d}_{end:06d}.mp4"
            samples.append(Sample(relative, (index[row["label"]],)))
        lists[split] = samples
    return _write_outputs(out_dir, "kinetics400", names, lists)


def convert_diving48(vocab_json: str | Path, splits: Mapping[str, str | Path], out_dir: str | Path) -> dict[str, Path]:
    """Diving-48 V2 JSON lists and vocabulary."""
    vocab = _load_json(vocab_json)
    if not isinstance(vocab, list) or not all(isinstance(v, list) for v in vocab):
        raise ValueError(f"{vocab_json}: expected a JSON list of [takeoff, somersault, twist, flight] lists")
    names = ["+".join(str(part) for part in parts) for parts in vocab]
    lists = {}
    for split, path in splits.items():
        samples = []
        for number, entry in enumerate(_load_json(path)):
            label = _field(entry, "label", path, number)
            if not isinstance(label, int) or not 0 <= label < len(names):
                raise ValueError(f"{path}: entry {number}: label {label!r} not in [0, {len(names)})")
            samples.append(Sample(f"{_field(entry, 'vid_name', path, number)}.mp4", (label,)))
        lists[split] = samples
    return _write_outputs(out_dir, "diving48", names, lists)


CONVERTERS: dict[str, Callable[..., dict[str, Path]]] = {
    "ssv2": convert_ssv2,
    "ssv1": convert_ssv1,
    "k400": convert_kinetics400,
    "diving48": convert_diving48,
}
