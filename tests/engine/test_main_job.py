"""The built-in comparison (``videoshift train`` with no config) on real models, shrunk to seconds."""

import json

import pytest

from videoshift.engine.config import load_config
from videoshift.engine.runner import train_runs

SHRINK = [
    "train.epochs=1",
    "train.batch_size=4",
    "data.synthetic.num_train=8",
    "data.synthetic.num_val=4",
    "data.synthetic.size=16",
    "data.transform.input_size=16",
    "data.transform.short_side=16",
    "data.synthetic.num_frames=4",
]


@pytest.mark.slow
def test_default_comparison_trains_every_model_into_its_own_run_dir(tmp_path):
    cfg = load_config(None, SHRINK)
    rows = train_runs(cfg, tmp_path)
    names = [e["name"] for e in cfg["experiments"]]
    assert [row["name"] for row in rows] == names
    for row in rows:
        run = tmp_path / row["name"]
        record = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
        assert record["epoch"] == 1 and record["count"] == 4
        assert row["top1"] == record["top1"]
        assert row["params"] > 0 and row["gmacs"] > 0
        saved = load_config(run / "config.yaml")
        assert saved["name"] == row["name"] and saved["experiments"] is None
