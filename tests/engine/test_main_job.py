"""The built-in jobs (``videoshift train`` with no config, ``tps-ablation``, ``stsm-ablation``) on real models."""

import json
import logging

import pytest
import torch

from videoshift.cli import main
from videoshift.engine.config import experiment_configs, load_config
from videoshift.engine.progress import JobProgress, Progress
from videoshift.engine.runner import best_record, is_2d, measure_latencies, model_family
from videoshift.models import create_model

SHRINK = [
    "train.epochs=1",
    "train.batch_size=4",
    "data.synthetic.num_train=8",
    "data.synthetic.num_val=4",
    "data.synthetic.size=16",
    "data.transform.input_size=16",
    "data.transform.short_side=16",
]


@pytest.mark.slow
def test_default_job_end_to_end_prints_seed_table_and_saves_json_markdown_png(tmp_path, capsys):
    args = ["train", "--work-dir", str(tmp_path)]
    for override in SHRINK:
        args += ["--set", override]
    assert main(args) == 0
    out = capsys.readouterr().out
    cfg = load_config(None, SHRINK)
    names = [e["name"] for e in cfg["experiments"]]
    assert "seed 0" in out.splitlines()[0]
    for name in names:
        assert f"{name}: {tmp_path / name}" in out
        record = json.loads((tmp_path / name / "metrics.jsonl").read_text().splitlines()[-1])
        assert record["epoch"] == 1 and record["count"] == 4
        saved = load_config(tmp_path / name / "config.yaml")
        assert saved["name"] == name and saved["experiments"] is None
    table = json.loads((tmp_path / "synthetic_default.json").read_text())
    assert table["environment"]["seed"] == 0 and "seed 0" in table["title"]
    assert table["environment"]["threads"] == 1  # latencies at the runs' one thread, though they trained elsewhere
    rows = {row["name"]: row for row in table["rows"]}
    assert list(rows) == names
    for row in rows.values():
        assert row["params"] > 0 and row["gmacs"] > 0 and row["latency_ms"] > 0 and row["best_epoch"] == 1
        assert row["paper_top1"] > 0 and row["latency_x"] > 0
    # every family is measured against its 2D model, which has ratio 1; shifts cost no GMACs or parameters
    assert rows["swin2d"]["latency_x"] == 1 and rows["tsn"]["latency_x"] == 1
    assert rows["pst"]["gmacs"] == rows["swin2d"]["gmacs"]
    # PST's only extra parameters: relative-position tables that span the frames a patch shift brings together
    assert 0 < rows["pst"]["params"] - rows["swin2d"]["params"] < 0.02 * rows["swin2d"]["params"]
    assert rows["joint3d"]["gmacs"] > rows["swin2d"]["gmacs"]
    assert rows["stsm"]["gmacs"] == rows["tsm"]["gmacs"] == rows["tsn"]["gmacs"]
    assert rows["stsm"]["params"] == rows["tsm"]["params"] == rows["tsn"]["params"]
    markdown = (tmp_path / "synthetic_default.md").read_text()
    assert all(f"| {name} |" in markdown for name in names) and "latency_x" in markdown
    assert (tmp_path / "synthetic_default.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_builtin_jobs_resolve_with_dashes_and_name_the_papers_rows():
    from videoshift.models.papers import rows

    tps = experiment_configs(load_config("tps-ablation"))
    assert [run["paper"]["row"] for run in tps] == [
        row.key for row in rows("TPS", "2(e)") if row.model is not None
    ]  # every row of Table 2(e) videoshift can build (not "Sparse")
    stsm = experiment_configs(load_config("stsm-ablation"))
    table_rows = {row.key for table in ("2", "3") for row in rows("STSM", table)}
    assert table_rows <= {run["paper"]["row"] for run in stsm}
    default = experiment_configs(load_config(None))
    assert {run["model"]["name"] for run in default} >= {"swin2d_t", "pst_t", "video_swin_t", "tsn_r50", "tsm_r50"}
    for job in (tps, stsm, default):  # one data set per job
        assert len({json.dumps(run["data"], sort_keys=True) for run in job}) == 1


def test_default_job_data_lets_the_patch_shift_reach_distinct_frames():
    from videoshift.ops.patch import NAMED_PATTERNS

    cfg = load_config(None)
    frames = cfg["data"]["synthetic"]["num_frames"]
    offsets = {o for row in NAMED_PATTERNS["official"] for o in row}
    assert len({o % frames for o in offsets}) >= len(offsets) - 1  # only +4 / -4 may meet (8 frames)


def test_families_and_2d_models():
    swin = dict(embed_dim=24, depths=[1, 1], num_heads=[2, 4], window_size=[1, 2, 2], patch_size=[1, 4, 4])
    swin2d = create_model("swin2d_t", num_classes=3, num_frames=4, rpe="general", **swin)
    pst = create_model("pst_t", num_classes=3, num_frames=4, rpe="general", **swin)
    joint = create_model("video_swin_t", num_classes=3, num_frames=4, **{**swin, "window_size": [4, 2, 2]})
    tsn = create_model("tsn_r50", backbone="resnet10t", num_classes=3, num_frames=4)
    stsm = create_model("stsm_r50", backbone="resnet10t", num_classes=3, num_frames=4)
    assert [model_family(m) for m in (swin2d, pst, joint, tsn, stsm)] == ["swin", "swin", "swin", "cnn", "cnn"]
    assert [is_2d(m) for m in (swin2d, pst, joint, tsn, stsm)] == [True, False, False, True, False]
    latencies = measure_latencies([(m, torch.zeros(1, 3, 4, 16, 16)) for m in (swin2d, tsn)], rounds=2, repeats=1)
    assert len(latencies) == 2 and min(latencies) > 0


def test_best_record_is_the_first_best_epoch(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [{"epoch": 1, "top1": 50.0}, {"epoch": 2, "top1": 75.0}, {"epoch": 3, "top1": 75.0}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert best_record(path)["epoch"] == 2
    assert best_record(tmp_path / "missing.jsonl") == {}


def test_job_progress_names_the_run_in_every_line_and_estimates_the_job(caplog):
    caplog.set_level(logging.INFO, logger="videoshift.train")
    job = JobProgress([2, 2])
    for index, name in enumerate(("first", "second")):
        with job.run(index, name, "model"):
            progress = Progress(total_steps=2, log_every=1, interactive=False)
            progress.step(epoch=1, loss=0.5, lr=1e-3, clips=4)
            progress.close()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("run 1/2 first (model, 2 epochs): job time") and "job eta" not in lines[0]
    assert lines[1].startswith("run 1/2 first step 1/2 epoch 1")
    assert lines[2].startswith("run 2/2 second") and "job eta" in lines[2]
    assert lines[3].startswith("run 2/2 second step 1/2")
    assert job.eta(1) is not None and job.eta(1) >= 0


@pytest.mark.slow
def test_runs_trained_side_by_side_in_processes_equal_runs_trained_in_turn(tmp_path):
    from videoshift.engine import checkpointing
    from videoshift.engine.runner import train_runs

    cfg = load_config(None, SHRINK)
    cfg["experiments"] = [e for e in cfg["experiments"] if e["name"] in ("pst", "tsm")]
    weights = {}
    for parallel in (1, 2):
        rows = train_runs({**cfg, "parallel_runs": parallel}, tmp_path / str(parallel), latency=False)
        assert [row["name"] for row in rows] == ["pst", "tsm"]
        for row in rows:
            state = checkpointing.load(tmp_path / str(parallel) / row["name"] / checkpointing.LATEST)["model"]
            weights.setdefault(row["name"], []).append((row["top1"], row["gmacs"], state))
    for name, ((top1, gmacs, state), (top1_p, gmacs_p, state_p)) in weights.items():
        assert (top1, gmacs) == (top1_p, gmacs_p), name
        assert state.keys() == state_p.keys() and all(torch.equal(state[k], state_p[k]) for k in state), name
