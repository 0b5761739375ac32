import json

import pytest
import torch
from engine_standins import TinyMotion, crash_at_step, tiny_config, tiny_datasets

from videoshift.engine import checkpointing
from videoshift.engine.train import Trainer, TrainingDiverged


def _trainer(tmp_path, name="run", **sections):
    cfg = tiny_config(**sections)
    return Trainer(cfg, tmp_path / name, datasets=tiny_datasets(cfg["data"]))


def test_run_directory_and_learning(tmp_path, standin_model):
    trainer = _trainer(tmp_path, optim={"lr": 0.02}, train={"epochs": 6})
    summary = trainer.fit()
    run = tmp_path / "run"
    assert {"config.yaml", "latest.pth", "best.pth", "metrics.jsonl", "tb", "eval"} <= {p.name for p in run.iterdir()}
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert {"epoch", "top1", "top5", "mean_class_acc", "loss"} <= set(records[0])
    assert records[-1]["top1"] == 100.0 and summary.best_score == max(r["top1"] for r in records)
    assert records[-1]["loss"] < records[0]["loss"]
    assert any(p.name.startswith("events.out.tfevents") for p in (run / "tb").iterdir())
    latest = checkpointing.load(run / "latest.pth")  # weights_only=True
    assert (latest["epoch"], latest["step_in_epoch"], latest["global_step"]) == (6, 0, 48)
    assert latest["model_args"] == {"name": standin_model, "kwargs": {"num_classes": 4, "num_frames": 4}}
    best = checkpointing.load(run / "best.pth")
    assert best["epoch"] == 1 + [r["top1"] for r in records].index(summary.best_score)


def _final_weights(path):
    return checkpointing.load(path / "latest.pth")["model"]


def test_resume_after_a_crash_matches_an_uninterrupted_run(tmp_path, standin_model, monkeypatch):
    sections = {"train": {"epochs": 3, "checkpoint_every": 3}, "model": {"kwargs": {"dropout": 0.3}}}
    _trainer(tmp_path, "ref", **sections).fit()

    # crash after the checkpoint at step 12 (epoch 2, step 4), before the next one
    state = crash_at_step(_trainer(tmp_path, "crash", **sections), monkeypatch, 13)
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (1, 4, 12)

    _trainer(tmp_path, "crash", **sections).fit(resume=True)
    ref, resumed = _final_weights(tmp_path / "ref"), _final_weights(tmp_path / "crash")
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)
    lines = (tmp_path / "crash" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_gradient_accumulation_equals_the_larger_batch(tmp_path, standin_model):
    big = _trainer(tmp_path, "big", train={"epochs": 1, "batch_size": 4})
    big.fit()
    small = _trainer(tmp_path, "acc", train={"epochs": 1, "batch_size": 2, "accumulate": 2})
    small.fit()
    a, b = big.model.state_dict(), small.model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


class _Poisoned(TinyMotion):
    poison = False

    def __getitem__(self, index):
        item = super().__getitem__(index)
        if self.poison:
            item["clip"] = item["clip"] * float("nan")
        return item


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_checkpoint(tmp_path, standin_model):
    cfg = tiny_config(train={"epochs": 2})
    train_set = _Poisoned(32, "train")
    trainer = Trainer(cfg, tmp_path / "run", datasets=(train_set, TinyMotion(16, "val")))
    original_save = trainer.save

    def save_then_poison(best=False):
        original_save(best)
        train_set.poison = True  # every loss after the first checkpoint is NaN

    trainer.save = save_then_poison
    with pytest.raises(TrainingDiverged, match=r"non-finite loss.*epoch 2, step 1 .*global step 9.*latest\.pth"):
        trainer.fit()
    kept = checkpointing.load(tmp_path / "run" / "latest.pth")
    assert (kept["epoch"], kept["global_step"]) == (1, 8)
    assert all(torch.isfinite(v).all() for v in kept["model"].values())


def test_bf16_autocast_trains_on_cpu(tmp_path, standin_model):
    summary = _trainer(tmp_path, train={"epochs": 1, "amp": "bf16", "grad_checkpointing": True}).fit()
    assert summary.last["count"] == 16
    with pytest.raises(ValueError, match="fp16"):
        _trainer(tmp_path, "fp16", train={"epochs": 1, "amp": "fp16"})
