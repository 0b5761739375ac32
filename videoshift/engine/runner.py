"""Whole jobs: train every run a config describes and compare them; test a checkpoint; predict on videos."""

from __future__ import annotations

import copy
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from videoshift.data.annotations import Sample
from videoshift.data.datasets import eval_sampling
from videoshift.engine import checkpointing, distributed
from videoshift.engine.config import experiment_configs
from videoshift.engine.evaluate import predict, save_results, score, video_keys
from videoshift.engine.loader import eval_loader
from videoshift.engine.metrics import average_views
from videoshift.engine.train import RunSummary, Trainer, build_model

log = logging.getLogger("videoshift.train")


def train_runs(
    cfg: Mapping[str, Any], work_dir: str | Path, resume: bool = False, datasets=None, latency: bool = True
) -> list[dict[str, Any]]:
    """Train the config (or each of its ``experiments``) into ``work_dir/<name>``; one summary row per run.

    Rows hold ``name``, ``model``, ``family`` (``swin`` or ``cnn``), ``top1`` (best val top-1), ``best_epoch``,
    ``top5`` (at the best epoch), ``mean_class_acc`` (last evaluation), ``params``, ``gmacs`` (multiply-adds of
    one clip, the papers' "FLOPs"), ``minutes``, ``run_dir``, the paper's numbers when the run names a
    ``paper.row`` (``paper_top1``, ``paper_gmacs``), and with ``latency`` the measured inference latency
    (``latency_ms``) and its ratio to the 2D model of the run's family (``latency_x``, see :func:`add_latencies`).

    With ``parallel_runs`` > 1 (and no ``datasets`` given, not under torchrun) that many runs train at once,
    each in its own process; every run is seeded alone, so its numbers are those of a run trained by itself.
    """
    runs = experiment_configs(cfg)
    parallel = min(int(cfg.get("parallel_runs") or 1), len(runs))
    if parallel > 1 and datasets is None and int(os.environ.get("WORLD_SIZE", "1")) == 1:
        summaries = _fit_in_processes(runs, Path(work_dir), resume, parallel)
        if runs[0]["train"]["threads"]:  # latencies at the runs' thread count, as after training in this process
            torch.set_num_threads(int(runs[0]["train"]["threads"]))
        trained = [_reload(summary, run_cfg) for summary, run_cfg in zip(summaries, runs, strict=True)]
    else:
        trained = _fit_in_turn(runs, Path(work_dir), resume, datasets)
    rows, models = [], []
    for run_cfg, (summary, model, clip) in zip(runs, trained, strict=True):
        rows.append(summary_row(run_cfg, summary, model, clip))
        models.append((model, clip))
    if latency:
        add_latencies(rows, models)
    return rows


Trained = tuple[RunSummary, torch.nn.Module, torch.Tensor]  # a run's summary, final model (eval mode), one clip


def _fit_in_turn(runs: Sequence[Mapping[str, Any]], work_dir: Path, resume: bool, datasets) -> list[Trained]:
    from videoshift.engine.progress import JobProgress

    job, trained = JobProgress([int(run_cfg["train"]["epochs"]) for run_cfg in runs]), []
    for index, run_cfg in enumerate(runs):
        with job.run(index, run_cfg["name"], run_cfg["model"]["name"]):
            trainer = Trainer(run_cfg, work_dir / run_cfg["name"], datasets=datasets)
            summary = trainer.fit(resume=resume)
        clip = trainer.train_set[0]["clip"][None].to(trainer.dist.device)  # (1, C, T, H, W)
        trained.append((summary, trainer.model.eval(), clip))
    return trained


def _fit_one(run_cfg: Mapping[str, Any], run_dir: Path, resume: bool, label: str) -> RunSummary:
    """Train one run in a worker process of a parallel job (log lines: bars of several processes would mix)."""
    from videoshift.engine.progress import labelled

    log.info("%s (%s, %d epochs): started", label, run_cfg["model"]["name"], run_cfg["train"]["epochs"])
    with labelled(label, plain=True):
        return Trainer(run_cfg, run_dir).fit(resume=resume)


def _fit_in_processes(
    runs: Sequence[Mapping[str, Any]], work_dir: Path, resume: bool, parallel: int
) -> list[RunSummary]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from videoshift.engine.progress import run_label, setup_logging

    log.info("%d runs, %d at a time, each in its own process", len(runs), parallel)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch thread pools
    with ProcessPoolExecutor(parallel, mp_context=context, initializer=setup_logging) as pool:
        futures = [
            pool.submit(_fit_one, run_cfg, work_dir / run_cfg["name"], resume, run_label(i, len(runs), run_cfg["name"]))
            for i, run_cfg in enumerate(runs)
        ]
        return [future.result() for future in futures]


def _reload(summary: RunSummary, run_cfg: Mapping[str, Any]) -> Trained:
    """The final model of a run trained in another process, and one clip of its training data."""
    model, _ = load_trained(summary.run_dir / checkpointing.LATEST)
    from videoshift.data import build_dataset

    train_set = build_dataset(run_cfg["data"], "train")  # one clip is all it needs: no validation set
    return summary, model, train_set[0]["clip"][None]


def summary_row(run_cfg: Mapping[str, Any], summary: RunSummary, model: torch.nn.Module, clip: torch.Tensor) -> dict:
    """One run's row of the job table (see :func:`train_runs`)."""
    from videoshift.models.complexity import count_macs, count_params

    best = best_record(summary.run_dir / "metrics.jsonl", summary.metric)
    return {
        "name": summary.name,
        "model": run_cfg["model"]["name"],
        "family": model_family(model),
        "top1": best.get("top1"),
        "best_epoch": best.get("epoch"),
        "top5": best.get("top5", summary.last.get("top5")),
        "mean_class_acc": summary.last.get("mean_class_acc"),
        "params": count_params(model),
        "gmacs": count_macs(model, clip) / 1e9,
        "minutes": summary.seconds / 60.0,
        "run_dir": str(summary.run_dir),
        **({"mAP": summary.best_score} if summary.metric == "mAP" else {}),
        **paper_numbers(run_cfg),
    }


def best_record(metrics_path: Path, metric: str = "top1") -> dict[str, Any]:
    """The evaluation record (a ``metrics.jsonl`` line) with the highest ``metric``, the earliest among equals."""
    if not metrics_path.is_file():
        return {}
    records = [json.loads(line) for line in metrics_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return max(records, key=lambda r: r[metric], default={})  # max keeps the first of equal maxima


def paper_numbers(run_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """``paper_top1`` and ``paper_gmacs`` of the run's ``paper.row`` (empty when it names none)."""
    from videoshift.engine.config import paper_top1
    from videoshift.models.papers import paper_row

    if run_cfg["paper"]["row"] is None:
        return {}
    row = paper_row(run_cfg["paper"]["row"])
    return {"paper_row": row.key, "paper_top1": paper_top1(run_cfg), "paper_gmacs": row.gmacs}


def model_family(model: torch.nn.Module) -> str:
    """The recognizer's family (``"cnn"``, ``"swin"``, ``"vit"``; :data:`~videoshift.models.contract.FAMILIES`),
    ``"other"`` for a model outside the contract."""
    return str(getattr(model, "family", "other"))


def is_2d(model: torch.nn.Module) -> bool:
    """Whether a recognizer never mixes frames before its temporal average (its contract's ``mixes_frames``)."""
    return hasattr(model, "mixes_frames") and not model.mixes_frames


def measure_latencies(
    models: Sequence[tuple[torch.nn.Module, torch.Tensor]], rounds: int = 7, repeats: int = 5
) -> list[float]:
    """Inference latency in ms of each ``(model, clip)`` on its clip (batch 1, no grad, the current threads).

    Models take turns (``rounds`` rounds of ``repeats`` forward passes each, after two warm-up passes), and each
    gets the fastest round's mean: a neighbour's load slows rounds, never speeds them. With one torch thread the
    clock is the CPU time of this thread (the forward pass runs on it), which a busy shared machine does not
    inflate by descheduling; with more threads it is the wall clock.
    """
    import time

    clock = time.thread_time if torch.get_num_threads() == 1 else time.perf_counter
    best = [math.inf] * len(models)
    with torch.inference_mode():
        for model, clip in models:
            model.eval()
            for _ in range(2):
                model(clip)
        for _ in range(rounds):
            for index, (model, clip) in enumerate(models):
                start = clock()
                for _ in range(repeats):
                    model(clip)
                best[index] = min(best[index], (clock() - start) / repeats * 1e3)
    return best


def add_latencies(rows: list[dict[str, Any]], models: Sequence[tuple[torch.nn.Module, torch.Tensor]]) -> None:
    """Set ``latency_ms`` of every row and ``latency_x``: its ratio to the first 2D model of its family (the
    TPS paper's Table 6 compares PST with 2D Swin, the STSM paper compares with TSN)."""
    for row, latency in zip(rows, measure_latencies(models), strict=True):
        row["latency_ms"] = latency
    baselines: dict[str, float] = {}
    for row, (model, _) in zip(rows, models, strict=True):
        if is_2d(model):
            baselines.setdefault(row["family"], row["latency_ms"])
    for row in rows:
        base = baselines.get(row["family"])
        row["latency_x"] = row["latency_ms"] / base if base else None


def load_trained(checkpoint: str | Path, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the model of a training checkpoint and load its weights; returns ``(model, checkpoint)``."""
    ckpt = checkpointing.load(checkpoint)
    if "model_args" not in ckpt:
        raise ValueError(f"{checkpoint} is not a videoshift training checkpoint (no 'model_args')")
    model = build_model(ckpt["model_args"])
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), ckpt


def with_views(data_cfg: Mapping[str, Any], views: str | None) -> dict[str, Any]:
    """The data section with ``test_sampling.num_clips`` and ``transform.test_crops`` set from ``"CLIPSxCROPS"``."""
    out = copy.deepcopy(dict(data_cfg))
    if not views:
        return out
    clips, sep, crops = views.lower().partition("x")
    if not (sep and clips.isdigit() and crops.isdigit() and int(clips) > 0 and int(crops) > 0):
        raise ValueError(f"views must look like CLIPSxCROPS (e.g. 4x3), got {views!r}")
    sampling = eval_sampling(out)
    out["test_sampling"] = {**sampling, "num_clips": int(clips)}
    out["transform"] = {**(out.get("transform") or {}), "test_crops": int(crops)}
    return out


def evaluate_checkpoint(
    checkpoint: str | Path,
    data_cfg: Mapping[str, Any],
    out_dir: str | Path,
    views: str | None = None,
    average: str = "prob",
    batch_size: int = 8,
    num_workers: int = 2,
    device: str = "auto",
) -> dict[str, Any]:
    """Evaluate a training checkpoint on the ``test`` split of ``data_cfg``; saves ``results.json`` and
    ``confusion.npy`` under ``out_dir`` and returns the metrics."""
    from videoshift.data import build_dataset

    dist_info = distributed.setup(device)
    model, _ = load_trained(checkpoint, dist_info.device)
    dataset = build_dataset(with_views(data_cfg, views), "test")
    predictions = predict(model, eval_loader(dataset, dist_info, batch_size, num_workers), dist_info.device, average)
    result = score(predictions, video_keys(dataset, predictions.indices))
    if dist_info.is_main:
        save_results(result, out_dir, getattr(dataset, "class_names", None))
    return result


@dataclass
class VideoPrediction:
    """The top-k ``(class name, probability)`` of one video, or the one-line reason it could not be read."""

    video: str
    top: list[tuple[str, float]] | None
    error: str | None = None


class _Tolerant(Dataset):
    """Items of a dataset, with an unreadable file's error in place of its item."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        try:
            return self.dataset[index]
        except (OSError, ValueError, RuntimeError) as error:  # decoding failures of one file
            return {"error": f"{type(error).__name__}: {error}".splitlines()[0], "index": index}


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    good = [item for item in items if "error" not in item]
    batch = default_collate(good) if good else {}
    batch["errors"] = [(item["index"], item["error"]) for item in items if "error" in item]
    return batch


def load_for_prediction(
    checkpoint: str | Path | None, weights: str | None, device: torch.device
) -> tuple[torch.nn.Module, dict[str, Any], list[str], str]:
    """Model, data settings, class names and view averaging of a training checkpoint or named weights."""
    if (checkpoint is None) == (weights is None):
        raise ValueError("give exactly one of a checkpoint and a weights tag")
    if checkpoint is not None:
        model, ckpt = load_trained(checkpoint, device)
        num_classes = int(ckpt["model_args"]["kwargs"]["num_classes"])
        data_cfg = prediction_data_config(ckpt["config"]["data"], num_classes)
        return model, data_cfg, list(ckpt.get("class_names") or []), ckpt["config"]["eval"]["average"]
    from videoshift.models import create_model
    from videoshift.models.weights import get_weights

    spec = get_weights(weights)
    model = create_model(spec.model, pretrained=spec.tag).to(device).eval()
    data_cfg = {**spec.protocol.data_config(), "dataset": "video", "num_classes": spec.num_classes}
    return model, data_cfg, spec.class_names(), "prob"


def predict_files(
    videos: Sequence[str | Path],
    checkpoint: str | Path | None = None,
    top_k: int = 5,
    device: str = "auto",
    *,
    weights: str | None = None,
    batch_size: int = 4,
    num_workers: int = 0,
    progress: Any = None,
) -> list[VideoPrediction]:
    """Top-``k`` classes of each video with the test protocol of the checkpoint or of the named ``weights``.

    Videos are read and batched; a file that cannot be read gets its one-line error instead of a result and the
    others carry on. A multi-label checkpoint gives each class its own sigmoid probability. ``progress(done,
    total)`` is called after each batch.
    """
    from videoshift.data import build_dataset

    target = distributed.resolve_device(device)
    model, data_cfg, names, average = load_for_prediction(checkpoint, weights, target)
    results: list[VideoPrediction] = [VideoPrediction(str(v), None, "not run") for v in videos]
    samples = [Sample(str(Path(v).resolve()), (0,)) for v in videos]
    dataset = build_dataset(data_cfg, "test", samples=samples)
    loader = DataLoader(_Tolerant(dataset), batch_size=batch_size, num_workers=num_workers, collate_fn=_collate)
    done = 0
    with torch.no_grad():
        for batch in loader:
            for index, error in batch["errors"]:
                results[index] = VideoPrediction(str(videos[index]), None, error)
            if "clip" in batch:
                clips = batch["clip"].to(target)
                clips = clips[:, None] if clips.ndim == 5 else clips
                b, v = clips.shape[:2]
                logits = model(clips.flatten(0, 1)).reshape(b, v, -1)
                probs = average_views(logits, average, multi_label=bool(data_cfg.get("multi_label")))
                for index, row in zip(batch["index"].tolist(), probs.cpu(), strict=True):
                    values, classes = row.topk(min(top_k, row.numel()))
                    top = [
                        (names[c] if c < len(names) else str(c), p)
                        for p, c in zip(values.tolist(), classes.tolist(), strict=True)
                    ]
                    results[index] = VideoPrediction(str(videos[index]), top)
            done += len(batch["errors"]) + (b if "clip" in batch else 0)
            if progress is not None:
                progress(done, len(videos))
    return results


def prediction_data_config(data_cfg: Mapping[str, Any], num_classes: int) -> dict[str, Any]:
    """A ``dataset: video`` data section with the test-time sampling and transform of a training config."""
    keep = ("sampling", "test_sampling", "transform", "backend", "multi_label")
    out = {k: copy.deepcopy(data_cfg[k]) for k in keep if k in data_cfg}
    return {**out, "dataset": "video", "num_classes": num_classes}


def plot_comparison(rows: Sequence[Mapping[str, Any]], path: str | Path, title: str = "") -> None:
    """PNG of top-1 against GMACs per clip, the papers' accuracy-vs-cost style: one marker per run, one colour
    and marker shape per family, each point labelled with its run name."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    markers = {"swin": "o", "cnn": "s"}
    for family in dict.fromkeys(row.get("family", "other") for row in rows):
        own = [row for row in rows if row.get("family", "other") == family and row.get("top1") is not None]
        axes.scatter(
            [r["gmacs"] for r in own], [r["top1"] for r in own], marker=markers.get(family, "^"), s=60, label=family
        )
        for row in own:
            axes.annotate(
                row["name"], (row["gmacs"], row["top1"]), textcoords="offset points", xytext=(5, 4), fontsize=8
            )
    axes.margins(x=0.25, y=0.1)
    axes.set_xlabel("GMACs per clip")
    axes.set_ylabel("top-1 (%)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=100)
