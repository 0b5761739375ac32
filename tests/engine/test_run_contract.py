"""What a training run promises beyond its weights, checked on stand-in runs: the checkpoint's contents, which
checkpoint is the best, what resuming restores (older checkpoints too), the run's log, metrics and summary, and the
settings the trainer passes on (determinism, seeds, initial weights, accumulation). The mutation run of the
training loop found each of these unpinned."""

from __future__ import annotations

import json
import logging
import random

import numpy as np
import pytest
import torch
from engine_standins import TinyMotion, TinyRecognizer, crash_at_step, tiny_config, tiny_datasets

from videoshift.engine import checkpointing
from videoshift.engine.distributed import DistInfo
from videoshift.engine.train import Trainer, seed_everything


def _trainer(run_dir, dist_info=None, **sections):
    cfg = tiny_config(**sections)
    return Trainer(cfg, run_dir, datasets=tiny_datasets(cfg["data"]), dist_info=dist_info)


def test_checkpoint_summary_metrics_and_log_of_a_run(tmp_path, standin_model, caplog):
    run_dir = tmp_path / "nested" / "runs" / "tiny"  # parents are created
    trainer = _trainer(run_dir, train={"epochs": 2, "log_every": 4})
    with caplog.at_level(logging.INFO, logger="videoshift.train"):
        summary = trainer.fit()
    state = checkpointing.load(run_dir / "latest.pth")
    assert state["format"] == "videoshift-train-v2" and state["world_size"] == 1
    assert state["config"] == dict(trainer.cfg) and state["class_names"] == list(TinyMotion.class_names)
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (2, 0, 16)
    # at an epoch boundary the loader's generator is saved as it is now (after the epoch's draw)
    assert torch.equal(state["rng"][0]["loader"], trainer.loader.generator.get_state())
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["step"]) for r in records] == [(1, 8), (2, 16)]
    assert all(isinstance(r["train_loss"], float) and r["train_loss"] > 0 for r in records)
    assert state["best_score"] == max(r["top1"] for r in records) == summary.best_score
    assert (summary.name, summary.run_dir, summary.metric, summary.last["top1"]) == (
        "tiny",
        run_dir,
        "top1",
        records[-1]["top1"],
    )
    assert 0 < summary.seconds < 600
    steps = [line for line in caplog.messages if line.startswith("step ")]
    assert [s.split()[1] for s in steps] == ["4/16", "8/16", "12/16", "16/16"]
    assert steps[0].split()[2:4] == ["epoch", "1"] and steps[-1].split()[2:4] == ["epoch", "2"]
    assert any(line.startswith("tiny epoch 2: val ") for line in caplog.messages)
    # TensorBoard got every step's loss (the writer was closed, so everything is on disk)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tb"))
    events.Reload()
    assert [event.step for event in events.Scalars("train/loss")] == list(range(1, 17))
    assert [event.step for event in events.Scalars("train/lr")] == list(range(1, 17))
    assert events.Scalars("train/lr")[0].value == pytest.approx(trainer.scheduler.base_lrs[0] * 0.99, rel=0.05)
    for key in ("top1", "top5", "mean_class_acc", "loss"):
        logged = [(event.step, round(event.value, 4)) for event in events.Scalars(f"val/{key}")]
        assert logged == [(r["epoch"], round(r[key], 4)) for r in records], key
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    assert [c["name"] for c in results["per_class"]] == list(TinyMotion.class_names)


def test_logged_learning_rate_is_the_schedules_base_rate(tmp_path, standin_model, caplog):
    """The backbone's groups run at backbone_lr_mult × lr; the log shows the schedule's lr itself."""
    trainer = _trainer(
        tmp_path / "run",
        train={"epochs": 1, "log_every": 8},
        optim={"backbone_lr_mult": 0.1},
        schedule={"name": "constant"},
    )
    with caplog.at_level(logging.INFO, logger="videoshift.train"):
        trainer.fit()
    (step,) = [line for line in caplog.messages if line.startswith("step 8/8")]
    assert " lr 1.00e-02 " in step
    assert trainer.optimizer.param_groups[0]["lr_mult"] == 0.1


def test_first_evaluation_is_the_best_and_later_ties_are_not(tmp_path, standin_model, monkeypatch):
    evaluated = []

    def zero_accuracy(self, train_loss):
        evaluated.append(self.epoch)
        return {"top1": 0.0, "top5": 0.0, "mean_class_acc": 0.0, "loss": 1.0}

    monkeypatch.setattr(Trainer, "evaluate", zero_accuracy)
    run_dir = tmp_path / "run"
    _trainer(run_dir, train={"epochs": 5, "eval_every": 2}).fit()
    assert evaluated == [2, 4, 5]  # every eval_every epochs, and the last
    assert checkpointing.load(run_dir / "best.pth")["epoch"] == 2  # 0 % beats nothing; an equal score does not win
    assert checkpointing.load(run_dir / "latest.pth")["best_score"] == 0.0


def test_periodic_checkpoints_are_not_best(tmp_path, standin_model, monkeypatch):
    run_dir = tmp_path / "run"
    crash_at_step(_trainer(run_dir, train={"epochs": 2, "checkpoint_every": 3}), monkeypatch, 4)
    assert (run_dir / "latest.pth").is_file() and not (run_dir / "best.pth").exists()


def test_fit_without_resume_starts_over_and_resume_logs_where(tmp_path, standin_model, monkeypatch, caplog):
    run_dir = tmp_path / "run"
    _trainer(run_dir, train={"epochs": 1}).fit()
    steps = []
    original = Trainer.optimizer_step
    monkeypatch.setattr(Trainer, "optimizer_step", lambda self, micro: steps.append(1) or original(self, micro))
    _trainer(run_dir, train={"epochs": 1}).fit()
    assert len(steps) == 8  # a new run over the old one
    with caplog.at_level(logging.INFO, logger="videoshift.train"):
        summary = _trainer(run_dir, train={"epochs": 1}).fit(resume=True)
    assert len(steps) == 8 and summary.last == {}  # a finished run has nothing left to train or evaluate
    assert f"resumed {run_dir / 'latest.pth'} at epoch 1 step 0" in caplog.messages


def test_resume_drops_metrics_written_after_the_checkpoint(tmp_path, standin_model):
    run_dir = tmp_path / "run"
    _trainer(run_dir, train={"epochs": 2}).fit()
    metrics = run_dir / "metrics.jsonl"
    kept = metrics.read_text()
    assert len(kept.splitlines()) == 2
    metrics.write_text(kept + "\n" + json.dumps({"epoch": 3, "step": 17, "top1": 1.0}) + "\n")  # a kill after eval
    _trainer(run_dir, train={"epochs": 2}).fit(resume=True)
    assert metrics.read_text() == kept  # records up to the checkpoint's step 16 stay, blank lines go


def test_checkpoints_before_per_rank_states_resume_exactly(tmp_path, standin_model, monkeypatch, caplog):
    """A first-format checkpoint (best_top1, no world_size, one RNG state) continues bit for bit, silently."""
    sections = {"train": {"epochs": 2, "checkpoint_every": 3}, "model": {"kwargs": {"dropout": 0.3}}}
    reference = _trainer(tmp_path / "ref", **sections)
    reference.fit()
    run_dir = tmp_path / "old"
    state = crash_at_step(_trainer(run_dir, **sections), monkeypatch, 4)
    state["best_top1"] = 12.5
    state["rng"] = state["rng"][0]
    for key in ("best_score", "world_size", "format"):
        del state[key]
    checkpointing.atomic_save(state, run_dir / "latest.pth")
    resumed = _trainer(run_dir, **sections)
    with caplog.at_level(logging.WARNING, logger="videoshift.train"):
        resumed.restore(checkpointing.load(run_dir / "latest.pth"))
    assert resumed.best_score == 12.5 and not caplog.records
    resumed.fit(resume=True)
    end = checkpointing.load(run_dir / "latest.pth")
    for key, value in reference.model.state_dict().items():
        assert torch.equal(value, end["model"][key]), key


def test_reseeding_for_another_world_size_is_logged_in_full(tmp_path, standin_model, caplog):
    run_dir = tmp_path / "run"
    _trainer(run_dir, train={"epochs": 1}).fit()
    state = checkpointing.load(run_dir / "latest.pth")
    trainer = _trainer(run_dir, train={"epochs": 1})
    with caplog.at_level(logging.WARNING, logger="videoshift.train"):
        trainer.restore_rng([state["rng"][0]] * 2, 2)
    assert caplog.messages == [
        "the checkpoint was written by 2 processes, this run has 1: reseeding every rank's generators from (seed, "
        "global step, rank); the resumed run is not bit-identical to an uninterrupted one"
    ]
    reseed = 7896617691693857887  # the first 64 bits of SeedSequence([seed 0, global step 0, rank 0]), halved
    assert torch.initial_seed() == trainer.loader.generator.initial_seed() == reseed
    first = torch.rand(3)
    trainer.restore_rng([state["rng"][0]] * 2, 2)
    assert torch.equal(torch.rand(3), first)  # the same (seed, step, rank) gives the same generators


def test_trainer_settings_reach_torch_and_the_model(tmp_path, standin_model):
    initial = TinyRecognizer()
    torch.nn.init.constant_(initial.conv.weight, 0.25)
    torch.save(initial.state_dict(), tmp_path / "init.pth")
    try:
        trainer = _trainer(
            tmp_path / "run",
            train={"deterministic": True, "grad_checkpointing": True, "accumulate": 3, "seed": 7},
            model={"checkpoint": str(tmp_path / "init.pth")},
        )
        assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
        assert torch.backends.cudnn.benchmark is False
    finally:
        torch.use_deterministic_algorithms(False)
    assert torch.equal(trainer.model.conv.weight, initial.conv.weight) and trainer.model.grad_checkpointing
    assert trainer.steps_per_epoch == 2 and isinstance(trainer.steps_per_epoch, int)  # 8 batches // 3
    assert not trainer.scaler.is_enabled()
    seed_everything(7)
    assert not torch.are_deterministic_algorithms_enabled()  # only when asked
    assert _trainer(tmp_path / "one", train={"accumulate": 8}).steps_per_epoch == 1
    message = (
        "an epoch has 8 batches per process, fewer than train.accumulate=9; lower train.batch_size or train.accumulate"
    )
    with pytest.raises(ValueError, match=f"^{message}$"):
        _trainer(tmp_path / "nine", train={"accumulate": 9})


def test_each_rank_seeds_its_model_draws_apart(tmp_path, standin_model):
    _trainer(tmp_path / "rank1", dist_info=DistInfo(rank=1, world_size=2), train={"seed": 7})
    assert torch.initial_seed() == 7 + 1


def test_seed_everything_seeds_python_numpy_and_torch():
    seed = 2**32 + 5  # numpy takes seeds below 2**32: the seed modulo 2**32
    seed_everything(seed)
    drawn = random.random(), np.random.randint(1 << 30), torch.randint(1 << 30, ()).item()
    random.seed(seed)
    np.random.seed(5)
    torch.manual_seed(seed)
    assert drawn == (random.random(), np.random.randint(1 << 30), torch.randint(1 << 30, ()).item())


def test_optimizer_step_reports_the_mean_loss_of_its_micro_batches(tmp_path, standin_model):
    trainer = _trainer(tmp_path / "run", train={"accumulate": 2})
    micro = [next(iter(trainer.loader)) for _ in range(2)]
    with torch.no_grad():
        expected = [trainer.criterion(trainer.model(m["clip"]), m["label"]).item() for m in micro]
    assert trainer.optimizer_step(micro) == pytest.approx(sum(expected) / 2, rel=1e-6)


def test_gradients_are_clipped_to_the_configured_norm(tmp_path, standin_model):
    optim = {"name": "sgd", "lr": 1.0, "momentum": 0.0, "weight_decay": 0.0}
    trainer = _trainer(tmp_path / "run", optim=optim, schedule={"name": "constant"}, train={"clip_grad_norm": 1e-3})
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.optimizer_step([next(iter(trainer.loader))])
    moved = torch.cat([(p.detach() - b).flatten() for p, b in zip(trainer.model.parameters(), before, strict=True)])
    assert moved.norm().item() == pytest.approx(1e-3, rel=1e-3)  # lr 1 × a gradient clipped to norm 1e-3


def test_progress_counts_the_clips_of_every_step(tmp_path, standin_model, monkeypatch):
    from videoshift.engine.progress import Progress

    calls = []
    monkeypatch.setattr(Progress, "step", lambda self, epoch, loss, lr, clips: calls.append((epoch, clips)))
    _trainer(tmp_path / "run", train={"epochs": 2, "accumulate": 2, "batch_size": 4}).fit()
    assert calls == [(1, 8)] * 4 + [(2, 8)] * 4


def test_a_non_finite_first_loss_says_no_checkpoint_exists(tmp_path, standin_model, monkeypatch):
    from videoshift.engine.train import TrainingDiverged

    trainer = _trainer(tmp_path / "run")
    monkeypatch.setattr(trainer, "criterion", lambda logits, labels: logits.sum() * float("nan"))
    with pytest.raises(TrainingDiverged, match=r"global step 1\); stopping; no checkpoint was written yet$"):
        trainer.fit()


def test_evaluation_during_training_groups_clips_of_one_video(tmp_path, standin_model):
    """A validation set with several clips per video gets video-level metrics, as the test command does."""
    from types import SimpleNamespace

    class TwoClipsPerVideo(TinyMotion):
        samples = tuple(SimpleNamespace(path=f"video{i // 2}") for i in range(16))

        def __getitem__(self, index):
            return {**super().__getitem__(index - index % 2), "index": index}

    cfg = tiny_config(train={"epochs": 1})
    trainer = Trainer(cfg, tmp_path / "run", datasets=(TinyMotion(32, "train"), TwoClipsPerVideo(16, "val")))
    summary = trainer.fit()
    assert summary.last["video_count"] == 8 and summary.last["count"] == 16


def test_datasets_come_from_the_config_data_section():
    from videoshift.engine.train import build_datasets

    cfg = tiny_config(data={"synthetic": {"num_train": 12, "num_val": 6}})
    train, val = build_datasets(cfg["data"])
    assert (len(train), len(val)) == (12, 6)
    assert train[0]["clip"].dim() == 4 and val[0]["clip"].dim() == 5  # a training clip; views of a test clip


def test_model_arguments_carry_the_configs_kwargs_and_pretrained_flag(tmp_path, standin_model):
    from videoshift.engine.train import loss_function, model_arguments

    cfg = tiny_config(model={"kwargs": {"dropout": 0.3}, "pretrained": True})
    expected = {"num_classes": 4, "num_frames": 8, "dropout": 0.3, "pretrained": True}
    assert model_arguments(cfg, 4, 8) == {"name": cfg["model"]["name"], "kwargs": expected}
    assert _trainer(tmp_path / "run", model={"kwargs": {"dropout": 0.3}}).model.drop.p == 0.3
    message = "train.label_smoothing applies to single-label data; set it to 0 for multi-label data"
    with pytest.raises(ValueError, match=f"^{message}$"):
        loss_function(torch.zeros(3), 0.1)


def test_without_datasets_the_trainer_builds_them_from_the_config(tmp_path, standin_model):
    trainer = Trainer(tiny_config(data={"synthetic": {"num_train": 12, "num_val": 6}}), tmp_path / "run")
    assert (len(trainer.train_set), len(trainer.val_set)) == (12, 6)


class _Unnamed(torch.utils.data.Dataset):
    """A dataset without class names (a plain list of samples)."""

    def __init__(self, base):
        self.base, self.num_classes = base, base.num_classes

    def __len__(self):
        return len(self.base)

    def __getitem__(self, index):
        return self.base[index]


def test_datasets_without_class_names(tmp_path, standin_model):
    cfg = tiny_config(train={"epochs": 1})
    train, val = (_Unnamed(d) for d in tiny_datasets(cfg["data"]))
    Trainer(cfg, tmp_path / "run", datasets=(train, val)).fit()
    assert checkpointing.load(tmp_path / "run" / "latest.pth")["class_names"] == []
    results = json.loads((tmp_path / "run" / "eval" / "results.json").read_text())
    assert [c["name"] for c in results["per_class"]] == ["0", "1", "2", "3"]


def test_a_second_rank_trains_its_shard_silently(tmp_path, standin_model, monkeypatch, caplog):
    """Rank 1 of 2 (without a process group: nothing to reduce) writes no files, logs nothing, counts all clips."""
    from videoshift.engine.progress import Progress

    clips = []
    step = Progress.step
    monkeypatch.setattr(Progress, "step", lambda self, *a: clips.append(a[-1]) or step(self, *a))
    run_dir = tmp_path / "run"
    trainer = _trainer(run_dir, dist_info=DistInfo(rank=1, world_size=2), train={"epochs": 1, "log_every": 1})
    with caplog.at_level(logging.INFO, logger="videoshift.train"):
        trainer.fit()
    assert trainer.writer is None and not (run_dir / "latest.pth").exists() and not caplog.messages
    assert clips == [4 * 2] * 4  # 16 items of 32 on this rank, batch 4: 4 steps of 8 clips over both ranks


def test_a_first_format_checkpoint_in_a_two_process_run_names_one_writer(tmp_path, standin_model, caplog):
    run_dir = tmp_path / "run"
    _trainer(run_dir, train={"epochs": 1}).fit()
    state = checkpointing.load(run_dir / "latest.pth")
    del state["world_size"]
    trainer = _trainer(tmp_path / "two", dist_info=DistInfo(rank=0, world_size=2), train={"epochs": 1})
    with caplog.at_level(logging.WARNING, logger="videoshift.train"):
        trainer.restore(state)
    assert caplog.messages[0].startswith("the checkpoint was written by 1 processes, this run has 2")


def test_evaluation_runs_under_the_training_precision(tmp_path, standin_model, monkeypatch):
    from videoshift.engine import train as train_module

    seen = []
    predict = train_module.predict
    monkeypatch.setattr(train_module, "predict", lambda *a: seen.append(a[-1]) or predict(*a))
    _trainer(tmp_path / "run", train={"epochs": 1, "amp": "bf16"}).fit()
    assert seen == ["bf16"]


def test_evaluation_leaves_the_training_rng_alone(tmp_path, standin_model):
    """The evaluation loader draws from its own generator: evaluating does not change later dropout or noise."""
    trainer = _trainer(tmp_path / "run", dist_info=DistInfo(rank=1, world_size=2))  # rank 1: writes no files
    before = torch.get_rng_state()
    assert trainer.evaluate(0.0)["count"] == 8
    assert torch.equal(torch.get_rng_state(), before)
