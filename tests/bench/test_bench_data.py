"""``videoshift bench data``: the exactness check, the reader rows in turns, the loader and the training verdict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from media import decode_all

from videoshift.bench import data
from videoshift.cli import main
from videoshift.data.readers import PyAVReader

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
VIDEO = MEDIA / "videos" / "part_0.mp4"  # 32 frames, 340x256


class ShiftedReader(PyAVReader):
    """Returns the frame after the one asked for: the wrong frames."""

    def read(self, path, indices):
        return super().read(path, np.minimum(np.asarray(indices) + 1, 31))


class BrighterReader(PyAVReader):
    """Returns the right frames, one grey level brighter: another RGB conversion."""

    def read(self, path, indices):
        return super().read(path, indices).clamp(max=254) + 1


class CountingReader(PyAVReader):
    """Counts the clips it reads (in this process)."""

    def __init__(self) -> None:
        super().__init__()
        self.clips = 0

    def read(self, path, indices):
        self.clips += 1
        return super().read(path, indices)


def test_check_frames_tells_exact_from_converted_from_wrong_frames():
    reference = dict(enumerate(decode_all(VIDEO)))
    clips = [np.array([0, 5, 9, 20]), np.array([30, 2, 2])]
    exact = data.check_frames(PyAVReader().read, VIDEO, clips, reference)
    assert exact == {"exact": "yes", "same_frames": "yes", "max_diff": 0}
    brighter = data.check_frames(BrighterReader().read, VIDEO, clips, reference)
    assert brighter == {"exact": "no", "same_frames": "yes", "max_diff": 1}
    shifted = data.check_frames(ShiftedReader().read, VIDEO, clips, reference)
    assert shifted["exact"] == "no" and shifted["same_frames"] == "no" and shifted["max_diff"] > 1


def test_read_rows_check_then_time_every_reader_on_the_same_clips():
    readers = {"pyav": PyAVReader(), "shifted": ShiftedReader(), "gone": "not installed"}
    rows = data.read_rows(VIDEO, "tsn8", readers, repeats=2)
    by_reader = {row["reader"]: row for row in rows}
    assert [row["reader"] for row in rows] == ["pyav", "shifted", "gone"]
    assert by_reader["pyav"]["exact"] == "yes" and by_reader["pyav"]["x_first"] == 1
    assert by_reader["shifted"]["same_frames"] == "no" and by_reader["shifted"]["clips_per_s"] > 0
    ratio = by_reader["pyav"]["median_ms"] / by_reader["shifted"]["median_ms"]
    assert by_reader["shifted"]["x_first"] == pytest.approx(ratio)
    assert by_reader["gone"]["note"] == "skipped: not installed" and "clips_per_s" not in by_reader["gone"]


def test_make_reader_names_what_cannot_run(monkeypatch):
    with pytest.raises(ValueError, match="reader must be one of"):
        data.make_reader("opencv")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA device"):
        data.make_reader("torchcodec-cuda")
    assert data.make_reader("pyav-sequential").seek is False


def test_loader_reads_the_untimed_and_timed_batches_through_the_dataset():
    reader = CountingReader()
    settings = data.LoaderSettings(batch=2, workers=0, batches=3, size=32, short_side=40)
    assert data.loader_clips_per_s([VIDEO], reader, "tsn8", settings) > 0
    assert reader.clips == 2 * (1 + 3)


def test_loaders_take_turns_and_report_their_median(monkeypatch):
    readers = {"a": PyAVReader(), "gone": "not installed", "b": PyAVReader()}
    names = {id(reader): name for name, reader in readers.items()}
    speeds = {"a": iter([5.0, 1.0, 3.0]), "b": iter([2.0, 8.0, 6.0])}
    log = []

    def measured(videos, reader, sampling, settings):
        log.append(names[id(reader)])
        return next(speeds[names[id(reader)]])

    monkeypatch.setattr(data, "loader_clips_per_s", measured)
    rows = data.loader_rows_in_turns([VIDEO], "tsn8", readers, data.LoaderSettings(batch=2, workers=1, rounds=3))
    assert log == ["a", "b"] * 3
    assert [row["clips_per_s"] for row in rows if "clips_per_s" in row] == [3.0, 6.0]
    assert rows[2]["x_first"] == 2.0 and rows[2]["median_ms"] == pytest.approx(2e3 / 6)
    assert rows[1]["note"] == "skipped: not installed" and rows[1]["reader"] == "gone, 1 workers"


def test_train_row_names_the_bound_and_the_verdict_explains_it(monkeypatch):
    monkeypatch.setattr(data, "loader_clips_per_s", lambda videos, reader, sampling, settings: 10.0)
    monkeypatch.setattr(data, "train_clips_per_s", lambda model, frames, settings, **kw: 40.0 if frames == 8 else 5.0)
    loader = data.LoaderSettings(batch=2, workers=1)
    rows = data.benchmark([VIDEO], readers=("pyav",), repeats=1, loader=loader, model="tsm_r50")
    train = {row["case"]: row for row in rows if row["kind"] == "train"}
    assert [row["bound"] for row in train.values()] == ["data loading", "model"]
    assert [row["reader"] for row in train.values()] == ["tsm_r50 8x224² on cpu", "tsm_r50 32x224² on cpu"]
    lines = data.verdicts(rows)
    assert lines[0].startswith("1 videos tsn8, batch 2: data loading bounds training") and "= 0.25)" in lines[0]
    assert "model bounds training" in lines[1] and "= 2.00)" in lines[1]


def test_training_step_speed_of_a_real_model():
    settings = data.LoaderSettings(batch=1, size=32)
    assert data.train_clips_per_s("tsn_mbv2", 4, settings, device="cpu", repeats=1) > 0


@pytest.mark.slow
def test_bench_data_command(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["bench", "data", "--videos", str(VIDEO), "--repeats", "1", "--workers", "0", "--batches", "1"]
    args += ["--batch", "1", "--size", "32", "--model", "tsn_mbv2", "--backend", "pyav,full,torchcodec-cuda"]
    assert main([*args, "--device", "cpu", "--sampling", "tsn8", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(row["kind"], row["reader"]) for row in rows][:2] == [("read", "pyav"), ("read", "full")]
    assert all(row["exact"] == "yes" for row in rows[:2])
    assert [row["kind"] for row in rows[3:]] == ["loader", "train"] and rows[4]["bound"] in ("model", "data loading")
    assert "bounds training" in capsys.readouterr().out
    assert main(["bench", "data", "--videos", str(VIDEO), "--backend", "pyav,opencv"]) == 2
