"""Multi-view evaluation: views → averaged probabilities → metrics, gathered over every rank, saved as data.

Single-label data (integer labels) is scored with softmax probabilities, top-k and class accuracies; multi-label
data (multi-hot ``(K,)`` labels) with per-class sigmoid probabilities and average precision.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from videoshift.data.completeness import describe
from videoshift.engine import distributed
from videoshift.engine.metrics import aggregate_by_key, average_views, classification_metrics, multi_label_metrics


@dataclass
class Predictions:
    """Per-video probabilities ``(N, K)``, labels ``(N,)`` (multi-label: ``(N, K)``), dataset indices ``(N,)`` and,
    for items that carry them, :meth:`~videoshift.data.completeness.Extent.row` s ``(N, 5)``, sorted by index."""

    probs: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    extents: torch.Tensor | None = None


def check_amp(amp: str, device: torch.device) -> None:
    """Raise ``ValueError`` for a mixed precision the device cannot run (fp16 needs CUDA and a GradScaler)."""
    if amp == "fp16" and device.type != "cuda":
        raise ValueError("train.amp='fp16' needs a CUDA device; use 'bf16' on the CPU")


def autocast(device: torch.device, amp: str) -> Any:
    """The autocast context of ``amp`` ("none", "bf16", "fp16") on ``device``."""
    if amp == "none":
        return nullcontext()
    check_amp(amp, device)
    return torch.autocast(device.type, dtype=torch.float16 if amp == "fp16" else torch.bfloat16)


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, device: torch.device, average: str = "prob", amp: str = "none"):
    """Run ``model`` over every view of every item of ``loader`` and gather the results of all ranks.

    Items are ``{"clip": (V, C, T, H, W), "label", "index"}`` (a 4-D training-style clip counts as one view); a
    multi-hot label makes the probabilities per-class sigmoids.

    Returns:
        :class:`Predictions` over the whole dataset.
    """
    was_training = model.training
    model.eval()
    probs, labels, indices, extents = [], [], [], []
    try:
        for batch in loader:
            clips = batch["clip"].to(device, non_blocking=True)
            if clips.ndim == 5:
                clips = clips[:, None]  # (B, C, T, H, W) -> (B, 1, C, T, H, W)
            b, v = clips.shape[:2]
            with autocast(device, amp):
                logits = model(clips.flatten(0, 1))  # (B*V, K)
            probs.append(average_views(logits.reshape(b, v, -1), average, multi_label=batch["label"].ndim == 2))
            labels.append(batch["label"].to(device))
            indices.append(batch["index"].to(device))
            if "extent" in batch:
                extents.append(batch["extent"].to(device))
    finally:
        model.train(was_training)
    if not probs:
        raise ValueError("the evaluation loader is empty")
    gathered = [distributed.all_gather_rows(torch.cat(t)) for t in (probs, labels, indices, extents) if t]
    order = gathered[2].argsort()
    return Predictions(*(t[order].cpu() for t in gathered))


def video_extents(dataset: Any, predictions: Predictions) -> list[dict[str, Any]]:
    """Per list entry, its video and :func:`~videoshift.data.completeness.describe`'s record (whether the file is
    whole, which seconds the views cover); empty for items without extents (synthetic data)."""
    if predictions.extents is None:
        return []
    return [
        {"video": str(dataset.samples[int(i)].path), **describe(row)}
        for i, row in zip(predictions.indices, predictions.extents, strict=True)
    ]


def video_keys(dataset: Any, indices: torch.Tensor) -> Sequence[Hashable] | None:
    """The video of each item when a dataset lists several clips per video (``samples[i].path``), else ``None``."""
    samples = getattr(dataset, "samples", None)
    if samples is None:
        return None
    keys = [getattr(samples[int(i)], "path", None) for i in indices]
    if None in keys or len(set(keys)) == len(keys):
        return None
    return keys


def score(predictions: Predictions, keys: Sequence[Hashable] | None = None) -> dict[str, Any]:
    """Clip-level metrics, plus ``video_*`` metrics when ``keys`` group several clips per video (multi-hot labels:
    :func:`~videoshift.engine.metrics.multi_label_metrics`, else ``classification_metrics``)."""
    multi_label = predictions.labels.ndim == 2
    metrics = multi_label_metrics if multi_label else classification_metrics
    result = metrics(predictions.probs, predictions.labels)
    if keys is not None:
        probs, labels, _ = aggregate_by_key(predictions.probs, predictions.labels, keys)
        video = metrics(probs, labels)
        shown = ("mAP", "top1", "count") if multi_label else ("top1", "top5", "mean_class_acc", "count")
        result.update({f"video_{k}": video[k] for k in shown})
    return result


PER_CLASS = ("confusion", "per_class_acc", "per_class_ap", "positives")  # result entries that are not one number


def save_results(
    result: dict[str, Any],
    out_dir: str | Path,
    class_names: Sequence[str] | None = None,
    about: Mapping[str, Any] | None = None,
    videos: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Write ``results.json`` under ``out_dir``: ``about`` (what was evaluated: model, source, recipe, config), the
    summary metrics and one entry per class, with its accuracy and support (plus ``confusion.npy`` and the matrix)
    for single-label results, its AP and number of positives for multi-label ones, then ``videos`` (one record per
    video, e.g. :func:`video_extents`) where given. Nothing is written when the class names do not fit."""
    summary = {**dict(about or {}), **{k: v for k, v in result.items() if k not in PER_CLASS}}
    if "per_class_ap" in result:
        columns = {"ap": result["per_class_ap"], "positives": result["positives"]}
    else:
        columns = {"accuracy": result["per_class_acc"], "support": result["confusion"].sum(1).tolist()}
        summary["confusion"] = result["confusion"].tolist()
    count = len(next(iter(columns.values())))
    names = list(class_names) if class_names else [str(i) for i in range(count)]
    if len(names) != count:
        raise ValueError(f"got {len(names)} class names for results of {count} classes")
    summary["per_class"] = [
        {"class": i, "name": name, **{key: column[i] for key, column in columns.items()}}
        for i, name in enumerate(names)
    ]
    if videos:
        summary["videos"] = [dict(video) for video in videos]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "confusion" in result:
        np.save(out / "confusion.npy", result["confusion"].numpy())
    path = out / "results.json"
    path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return path
