"""Whole jobs: train every run a config describes and compare them; test a checkpoint; predict on videos."""

from __future__ import annotations

import copy
import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from videoshift.data.datasets import eval_sampling
from videoshift.engine import checkpointing, distributed
from videoshift.engine.config import experiment_configs
from videoshift.engine.evaluate import predict, save_results, score, video_keys
from videoshift.engine.loader import eval_loader
from videoshift.engine.train import Trainer, build_model

log = logging.getLogger("videoshift.train")


def train_runs(
    cfg: Mapping[str, Any], work_dir: str | Path, resume: bool = False, datasets=None
) -> list[dict[str, Any]]:
    """Train the config (or each of its ``experiments``) into ``work_dir/<name>``; one summary row per run.

    Rows hold ``name``, ``top1`` (best val top-1), ``top5``, ``mean_class_acc`` (last evaluation), ``params``,
    ``gmacs`` (multiply-adds of one clip, the papers' "FLOPs"), ``minutes`` and ``run_dir``.
    """
    from videoshift.models.complexity import count_macs, count_params

    rows = []
    for run_cfg in experiment_configs(cfg):
        trainer = Trainer(run_cfg, Path(work_dir) / run_cfg["name"], datasets=datasets)
        summary = trainer.fit(resume=resume)
        clip = trainer.train_set[0]["clip"][None].to(trainer.dist.device)  # (1, C, T, H, W)
        rows.append(
            {
                "name": summary.name,
                "model": run_cfg["model"]["name"],
                "top1": summary.best_top1,
                "top5": summary.last.get("top5"),
                "mean_class_acc": summary.last.get("mean_class_acc"),
                "params": count_params(trainer.model),
                "gmacs": count_macs(trainer.model, clip) / 1e9,
                "minutes": summary.seconds / 60.0,
                "run_dir": str(summary.run_dir),
            }
        )
    return rows


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


def predict_videos(
    videos: Sequence[str | Path], checkpoint: str | Path, top_k: int = 5, device: str = "auto"
) -> list[list[tuple[str, float]]]:
    """Top-``k`` (class name, probability) for each video file, with the checkpoint's test-time data settings."""
    from videoshift.data import build_dataset

    target = distributed.resolve_device(device)
    model, ckpt = load_trained(checkpoint, target)
    names = list(ckpt.get("class_names") or [])
    data_cfg = prediction_data_config(ckpt["config"]["data"], int(ckpt["model_args"]["kwargs"]["num_classes"]))
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "videos.txt"
        listing.write_text("".join(f"{Path(v).resolve()} 0\n" for v in videos), encoding="utf-8")
        dataset = build_dataset({**data_cfg, "test_list": str(listing), "root": "/"}, "test")
        loader = eval_loader(dataset, distributed.DistInfo(device=target), 1, 0)
        probs = predict(model, loader, target, ckpt["config"]["eval"]["average"]).probs
    results = []
    for row in probs:
        values, classes = row.topk(min(top_k, row.numel()))
        pairs = zip(values.tolist(), classes.tolist(), strict=True)
        results.append([(names[c] if c < len(names) else str(c), v) for v, c in pairs])
    return results


def prediction_data_config(data_cfg: Mapping[str, Any], num_classes: int) -> dict[str, Any]:
    """A ``dataset: video`` data section with the test-time sampling and transform of a training config."""
    keep = ("sampling", "test_sampling", "transform", "backend")
    out = {k: copy.deepcopy(data_cfg[k]) for k in keep if k in data_cfg}
    return {**out, "dataset": "video", "num_classes": num_classes}
