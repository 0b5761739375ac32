"""The training loop: one run = one config trained into one run directory, resumable from any checkpoint.

A run directory holds ``config.yaml`` (the resolved config), ``latest.pth`` and ``best.pth`` (see
:mod:`videoshift.engine.checkpointing`), ``metrics.jsonl`` (one JSON object per evaluation), ``eval/`` (confusion
matrix and per-class results of the last evaluation) and ``tb/`` (TensorBoard logs).

Resuming continues exactly: the data order and the augmentation of every item depend only on (seed, epoch,
index) (see :mod:`videoshift.engine.loader`), the checkpoint records the position inside the epoch, and every rank
gets back its own RNG states (the model's random draws: dropout, drop path; and the data loader's worker seeds).
A checkpoint written by a different number of processes cannot give each rank its own states: the run then
continues from the weights, optimizer and position with every rank's generators reseeded from (seed, global step,
rank), and says so in a warning; it is not bit-identical to an uninterrupted run (the data shards differ too).
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from videoshift.engine import checkpointing, distributed
from videoshift.engine.config import save_config
from videoshift.engine.evaluate import PER_CLASS, autocast, check_amp, predict, save_results, score, video_keys
from videoshift.engine.loader import (
    ResumableDistributedSampler,
    SeededDataset,
    derive_seed,
    eval_loader,
    train_loader,
)
from videoshift.engine.metrics import headline
from videoshift.engine.optim import build_optimizer, build_scheduler, scaled_lr
from videoshift.engine.progress import Progress
from videoshift.inference.recipe import Recipe

log = logging.getLogger("videoshift.train")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message says where and which checkpoint is the last good one."""


@dataclass
class RunSummary:
    """What a finished run reports."""

    name: str
    run_dir: Path
    metric: str  # what picks the best checkpoint: "top1", or "mAP" for multi-label data
    best_score: float
    last: dict[str, Any]
    seconds: float


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed python, numpy and torch; with ``deterministic`` also ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def build_datasets(data_cfg: Mapping[str, Any]) -> tuple[Any, Any]:
    """The train and val datasets of a config's ``data`` section (through ``videoshift.data.build_dataset``)."""
    from videoshift.data import build_dataset

    return build_dataset(data_cfg, "train"), build_dataset(data_cfg, "val")


def model_arguments(cfg: Mapping[str, Any], num_classes: int, num_frames: int) -> dict[str, Any]:
    """The ``create_model`` call of a config as data (saved in checkpoints so a model can be rebuilt)."""
    model_cfg = cfg["model"]
    kwargs = {"num_classes": num_classes, "num_frames": num_frames, **dict(model_cfg["kwargs"] or {})}
    if model_cfg["pretrained"]:
        kwargs["pretrained"] = True
    return {"name": model_cfg["name"], "kwargs": kwargs}


def loss_function(label: torch.Tensor, label_smoothing: float) -> nn.Module:
    """Cross-entropy for integer labels; binary cross-entropy on the logits of each class for multi-hot ones."""
    if label.ndim == 0:
        return nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    if label_smoothing:
        raise ValueError("train.label_smoothing applies to single-label data; set it to 0 for multi-label data")
    return nn.BCEWithLogitsLoss()


def build_model(arguments: Mapping[str, Any]) -> nn.Module:
    """Build a model from :func:`model_arguments`."""
    from videoshift.models import create_model

    return create_model(arguments["name"], **arguments["kwargs"])


class Trainer:
    """Trains one config into one run directory.

    Args:
        cfg: a resolved config (see :mod:`videoshift.engine.config`).
        run_dir: the run directory (created).
        datasets: ``(train, val)`` datasets; default: built from ``cfg["data"]``.
        dist_info: the process's place in a distributed run; default: :func:`distributed.setup`.
    """

    def __init__(self, cfg: Mapping[str, Any], run_dir: str | Path, datasets=None, dist_info=None) -> None:
        self.cfg, self.run_dir = cfg, Path(run_dir)
        tcfg = cfg["train"]
        self.dist = dist_info or distributed.setup(tcfg["device"])
        if tcfg["threads"]:
            torch.set_num_threads(int(tcfg["threads"]))
        seed_everything(int(tcfg["seed"]), bool(tcfg["deterministic"]))
        self.train_set, self.val_set = datasets if datasets is not None else build_datasets(cfg["data"])
        first = self.train_set[0]
        self.model_args = model_arguments(cfg, int(self.train_set.num_classes), int(first["clip"].shape[1]))  # C,T,H,W
        self.model = build_model(self.model_args)
        names = list(getattr(self.train_set, "class_names", None) or []) or None
        self.recipe = Recipe.from_training(cfg, int(self.train_set.num_classes), names, self.model)
        if cfg["model"]["checkpoint"]:
            from videoshift.models import load_checkpoint

            load_checkpoint(self.model, cfg["model"]["checkpoint"])
        if tcfg["grad_checkpointing"]:
            self.model.set_grad_checkpointing(True)
        self.model.to(self.dist.device)
        self.net: nn.Module = self.model
        if self.dist.enabled:
            if tcfg["sync_bn"]:
                self.net = nn.SyncBatchNorm.convert_sync_batchnorm(self.net)
            ids = [self.dist.device.index] if self.dist.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.net, device_ids=ids)
        torch.manual_seed(int(tcfg["seed"]) + self.dist.rank)  # model random draws differ per rank

        self.seeded_train = SeededDataset(self.train_set, int(tcfg["seed"]))
        self.sampler = ResumableDistributedSampler(self.seeded_train, self.dist, seed=int(tcfg["seed"]))
        self.loader = train_loader(
            self.seeded_train, self.sampler, tcfg["batch_size"], tcfg["num_workers"], int(tcfg["seed"])
        )
        self.accumulate = int(tcfg["accumulate"])
        self.steps_per_epoch = len(self.loader) // self.accumulate
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"an epoch has {len(self.loader)} batches per process, fewer than train.accumulate={self.accumulate}; "
                "lower train.batch_size or train.accumulate"
            )
        self.warn_lr_batch()
        self.optimizer = build_optimizer(self.model, cfg["optim"])
        self.scheduler = build_scheduler(self.optimizer, cfg["schedule"], self.steps_per_epoch, tcfg["epochs"])
        self.amp = tcfg["amp"]
        check_amp(self.amp, self.dist.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == "fp16")
        self.criterion = loss_function(first["label"], float(tcfg["label_smoothing"]))
        self.metric = "mAP" if first["label"].ndim == 1 else "top1"
        self.epoch, self.step_in_epoch, self.global_step, self.best_score = 0, 0, 0, -1.0
        self.epoch_loader_state = self.loader.generator.get_state()  # the loader's generator as the epoch began
        self.writer = None

    @property
    def global_batch(self) -> int:
        """Clips per optimizer step over every process: per-process batch x processes x accumulation."""
        return int(self.cfg["train"]["batch_size"]) * self.dist.world_size * self.accumulate

    def warn_lr_batch(self) -> None:
        """Warn when the config states the global batch its lr was set for (``optim.lr_batch``) and this run's
        global batch differs, naming the linearly scaled lr (the lr is used as given)."""
        optim_cfg = self.cfg["optim"]
        if optim_cfg["lr_batch"] is None or int(optim_cfg["lr_batch"]) == self.global_batch:
            return
        lr, lr_batch, tcfg = float(optim_cfg["lr"]), int(optim_cfg["lr_batch"]), self.cfg["train"]
        suggested = scaled_lr(lr, lr_batch, self.global_batch)
        log.warning(
            "optim.lr %g was set for a global batch of %d, this run's is %d (%d per process x %d processes x %d "
            "accumulated): the linear rule gives %g (--set optim.lr=%g optim.lr_batch=%d)",
            *(lr, lr_batch, self.global_batch, int(tcfg["batch_size"]), self.dist.world_size, self.accumulate),
            *(suggested, suggested, self.global_batch),
        )

    # ----------------------------------------------------------------------------------------------- state
    def rng_state(self) -> dict[str, Any]:
        """This rank's generators at the current position, the data loader's included.

        The loader draws its workers' base seed from its generator when an epoch's iteration starts, so inside an
        epoch the state to keep is the one from before that draw.
        """
        loader = self.epoch_loader_state if self.step_in_epoch else self.loader.generator.get_state()
        return {**checkpointing.rng_state(), "loader": loader}

    def state(self, rng_states: list[dict[str, Any]]) -> dict[str, Any]:
        """The checkpoint of the current position (weights_only-safe plain dict) with every rank's ``rng_states``."""
        return {
            "format": "videoshift-train-v2",
            "model_args": self.model_args,
            "model": self.model.state_dict(),
            "config": dict(self.cfg),
            "class_names": list(getattr(self.train_set, "class_names", None) or []),
            "recipe": self.recipe.to_dict(),  # how the model reads a video: every command that runs it reads this
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step,
            "best_score": self.best_score,
            "world_size": self.dist.world_size,
            "rng": rng_states,
        }

    def restore(self, ckpt: Mapping[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`state`."""
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.scaler.load_state_dict(ckpt["scaler"])
        self.epoch, self.step_in_epoch = int(ckpt["epoch"]), int(ckpt["step_in_epoch"])
        self.global_step = int(ckpt["global_step"])
        self.best_score = float(ckpt["best_score"] if "best_score" in ckpt else ckpt["best_top1"])  # v1: best_top1
        self.restore_rng(ckpt["rng"], int(ckpt.get("world_size", 1)))
        self.forget_later_metrics()

    def restore_rng(self, saved: Any, saved_world_size: int) -> None:
        """Set this rank's generators from a checkpoint's per-rank states, or reseed them when the checkpoint was
        written by a different number of processes (see the module docstring)."""
        own = checkpointing.own_rng_state(saved, self.dist.rank, self.dist.world_size)
        if own is None:
            log.warning(
                "the checkpoint was written by %d processes, this run has %d: reseeding every rank's "
                "generators from (seed, global step, rank); the resumed run is not bit-identical to an "
                "uninterrupted one",
                saved_world_size,
                self.dist.world_size,
            )
            seed = derive_seed(int(self.cfg["train"]["seed"]), self.global_step, self.dist.rank)
            seed_everything(seed)
            self.loader.generator.manual_seed(seed)
            return
        checkpointing.set_rng_state(own)
        if "loader" in own:
            self.loader.generator.set_state(own["loader"])

    def forget_later_metrics(self) -> None:
        """Drop ``metrics.jsonl`` records written after the restored checkpoint (a kill between the two)."""
        path = self.run_dir / "metrics.jsonl"
        if self.dist.is_main and path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= self.global_step]
            path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def save(self, best: bool = False) -> None:
        """Write ``latest.pth`` (and ``best.pth``) from rank 0, with the RNG states of every rank."""
        rng_states = distributed.gather_objects(self.rng_state())
        if self.dist.is_main:
            state = self.state(rng_states)
            checkpointing.atomic_save(state, self.run_dir / checkpointing.LATEST)
            if best:
                checkpointing.atomic_save(state, self.run_dir / checkpointing.BEST)
        distributed.barrier()

    # -------------------------------------------------------------------------------------------- the loop
    def fit(self, resume: bool = False) -> RunSummary:
        """Train for ``train.epochs`` epochs (from the latest checkpoint with ``resume``), evaluating as set."""
        start_time = time.perf_counter()
        latest = self.run_dir / checkpointing.LATEST
        if resume and latest.is_file():
            self.restore(checkpointing.load(latest))
            log.info("resumed %s at epoch %d step %d", latest, self.epoch, self.step_in_epoch)
        if self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_config(self.cfg, self.run_dir / "config.yaml")
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.run_dir / "tb"))
        epochs = int(self.cfg["train"]["epochs"])
        progress = Progress(
            epochs * self.steps_per_epoch, self.global_step, self.dist.is_main, int(self.cfg["train"]["log_every"])
        )
        last: dict[str, Any] = {}
        try:
            while self.epoch < epochs:
                train_loss = self.train_epoch(progress)
                self.epoch, self.step_in_epoch = self.epoch + 1, 0
                is_best = False
                if self.epoch % int(self.cfg["train"]["eval_every"]) == 0 or self.epoch == epochs:
                    last = self.evaluate(train_loss)
                    is_best = last[self.metric] > self.best_score
                    self.best_score = max(self.best_score, last[self.metric])
                    progress.message(f"{self.cfg['name']} epoch {self.epoch}: val {headline(last)}")
                self.save(best=is_best)
        finally:
            progress.close()
            if self.writer is not None:
                self.writer.close()
        seconds = time.perf_counter() - start_time
        return RunSummary(self.cfg["name"], self.run_dir, self.metric, self.best_score, last, seconds)

    def train_epoch(self, progress: Progress) -> float:
        """Train the rest of the current epoch; returns the mean training loss of its steps run here."""
        tcfg = self.cfg["train"]
        batch = int(tcfg["batch_size"])
        self.sampler.set_epoch(self.epoch, start=self.step_in_epoch * self.accumulate * batch)
        self.seeded_train.epoch = self.epoch
        self.epoch_loader_state = self.loader.generator.get_state()
        self.net.train()
        losses = []
        micro = []
        for item in self.loader:
            micro.append(item)
            if len(micro) < self.accumulate:
                continue
            losses.append(self.optimizer_step(micro))
            micro = []
            self.step_in_epoch += 1
            self.global_step += 1
            lr = self.optimizer.param_groups[0]["lr"] / self.optimizer.param_groups[0]["lr_mult"]
            progress.step(self.epoch + 1, losses[-1], lr, self.global_batch)
            if self.writer is not None:
                self.writer.add_scalar("train/loss", losses[-1], self.global_step)
                self.writer.add_scalar("train/lr", lr, self.global_step)
            every = int(tcfg["checkpoint_every"])
            if self.step_in_epoch == self.steps_per_epoch:
                break
            if every and self.global_step % every == 0:
                self.save()
        return float(np.mean(losses)) if losses else math.nan

    def optimizer_step(self, micro_batches: list[Mapping[str, torch.Tensor]]) -> float:
        """Forward/backward over the micro-batches, then one optimizer and scheduler step; returns the loss."""
        device, total = self.dist.device, 0.0
        for i, item in enumerate(micro_batches):
            clips = item["clip"].to(device, non_blocking=True)
            labels = item["label"].to(device, non_blocking=True)
            sync = i == len(micro_batches) - 1 or not isinstance(self.net, DistributedDataParallel)
            with self.net.no_sync() if not sync else nullcontext(), autocast(device, self.amp):
                loss = self.criterion(self.net(clips).float(), labels)
                self.check_finite(loss)
                self.scaler.scale(loss / len(micro_batches)).backward()
            total += loss.item()
        clip = self.cfg["train"]["clip_grad_norm"]
        if clip:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), float(clip))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        return total / len(micro_batches)

    def check_finite(self, loss: torch.Tensor) -> None:
        """Stop the run (every rank) when the loss is NaN or infinite, naming the step and the last checkpoint."""
        bad = torch.tensor([0.0 if bool(torch.isfinite(loss.detach())) else 1.0], device=loss.device)
        if distributed.all_reduce_sum(bad).item() > 0:
            latest = self.run_dir / checkpointing.LATEST
            kept = f"last good checkpoint: {latest}" if latest.is_file() else "no checkpoint was written yet"
            raise TrainingDiverged(
                f"non-finite loss ({loss.item()}) in run {self.cfg['name']!r} at epoch {self.epoch + 1}, step "
                f"{self.step_in_epoch + 1} of the epoch (global step {self.global_step + 1}); stopping; {kept}"
            )

    def evaluate(self, train_loss: float) -> dict[str, Any]:
        """Evaluate on the val split; rank 0 appends to ``metrics.jsonl``, logs to TensorBoard, saves ``eval/``."""
        ecfg, tcfg = self.cfg["eval"], self.cfg["train"]
        loader = eval_loader(self.val_set, self.dist, ecfg["batch_size"] or tcfg["batch_size"], tcfg["num_workers"])
        predictions = predict(self.model, loader, self.dist.device, ecfg["average"], self.amp)
        result = score(predictions, video_keys(self.val_set, predictions.indices))
        if self.dist.is_main:
            record = {"epoch": self.epoch, "step": self.global_step, "train_loss": train_loss}
            record.update({k: v for k, v in result.items() if k not in PER_CLASS})
            with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
            for key in ("mAP", "top1", "top5", "mean_class_acc", "loss"):
                if key in result:
                    self.writer.add_scalar(f"val/{key}", result[key], self.epoch)
            save_results(result, self.run_dir / "eval", getattr(self.val_set, "class_names", None))
        return result
