"""Whole jobs: train every run a config describes and compare them; evaluate a loaded model on a test split."""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from videoshift.engine import checkpointing, distributed
from videoshift.engine.config import experiment_configs
from videoshift.engine.evaluate import predict, save_results, score, video_extents, video_keys
from videoshift.engine.loader import eval_loader
from videoshift.engine.train import RunSummary, Trainer
from videoshift.inference import LoadedModel, load_model

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
    model = load_model(checkpoint=summary.run_dir / checkpointing.LATEST).model
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


def predict_split(
    loaded: LoadedModel,
    data_cfg: Mapping[str, Any],
    split: str,
    dist_info: distributed.DistInfo,
    views: str | None = None,
    batch_size: int = 8,
    num_workers: int = 2,
) -> tuple[Any, Any]:
    """The dataset of ``split`` of ``data_cfg`` (its lists, root and labels) read with the model's recipe (``views``
    overrides its clips x crops), and the model's predictions over it (every rank's, gathered); synthetic data is
    rendered in memory at the model's own frames and size, so its recipe does not apply."""
    from videoshift.data import build_dataset

    recipe = loaded.recipe.with_views(views)
    data_classes = data_cfg.get("num_classes")
    if data_classes is not None and int(data_classes) != loaded.num_classes:
        raise ValueError(f"the data has {data_classes} classes, the model {loaded.num_classes} ({loaded.source})")
    loaded.model.to(dist_info.device)
    synthetic = data_cfg.get("dataset") == "synthetic"
    dataset = build_dataset(data_cfg if synthetic else recipe.data_config(data_cfg), split)
    loader = eval_loader(dataset, dist_info, batch_size, num_workers)
    return dataset, predict(loaded.model, loader, dist_info.device, recipe.average)


def evaluate_model(
    loaded: LoadedModel,
    data_cfg: Mapping[str, Any],
    out_dir: str | Path | None = None,
    views: str | None = None,
    batch_size: int = 8,
    num_workers: int = 2,
    device: str = "auto",
    about: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate a loaded model on the ``test`` split of ``data_cfg`` (see :func:`predict_split`); returns the
    metrics.

    With ``out_dir``, the main rank saves ``results.json`` (and ``confusion.npy``) there once everything has
    succeeded, recording the model, its source, the recipe and ``about`` (e.g. the config) beside the metrics, and
    per video whether its file is whole and which seconds the views cover. ``incomplete`` in the metrics counts
    the videos whose file holds fewer frames than its header promises (:mod:`videoshift.data.completeness`).
    """
    dist_info = distributed.setup(device)
    dataset, predictions = predict_split(loaded, data_cfg, "test", dist_info, views, batch_size, num_workers)
    result = score(predictions, video_keys(dataset, predictions.indices))
    videos = video_extents(dataset, predictions)
    result["incomplete"] = sum(not video["complete"] for video in videos)
    if out_dir is not None and dist_info.is_main:
        recipe = loaded.recipe.with_views(views)
        record = {"model": loaded.name, "source": loaded.source, "recipe": recipe.to_dict(), **dict(about or {})}
        names = getattr(dataset, "class_names", None) or loaded.class_names
        save_results(result, out_dir, names, record, videos)
    return result


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
