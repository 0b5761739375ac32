"""Classification metrics of video recognition: view averaging, top-k, mean class accuracy, confusion matrix.

Everything works on plain tensors: ``probs`` ``(N, K)`` (one row per video or clip) and integer ``labels``
``(N,)``, so the same code serves one process or the gathered predictions of many.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import torch


def average_views(logits: torch.Tensor, average: str = "prob") -> torch.Tensor:
    """Class probabilities of each video from the logits of its views.

    Args:
        logits: ``(B, V, K)`` logits of V views (clips × crops) per video.
        average: ``"prob"`` averages the softmax of every view (MMAction2 ``average_clips='prob'``);
            ``"score"`` averages the logits and then takes the softmax.

    Returns:
        ``(B, K)`` probabilities.
    """
    if logits.ndim != 3:
        raise ValueError(f"logits must be (B, V, K), got shape {tuple(logits.shape)}")
    if average == "prob":
        return logits.float().softmax(-1).mean(1)
    if average == "score":
        return logits.float().mean(1).softmax(-1)
    raise ValueError(f"average must be 'prob' or 'score', got {average!r}")


def aggregate_by_key(
    probs: torch.Tensor, labels: torch.Tensor, keys: Sequence[Hashable]
) -> tuple[torch.Tensor, torch.Tensor, list[Hashable]]:
    """Video-level results when several rows (clips) come from one video: mean probability per key.

    Returns ``(probs, labels, keys)`` with one row per distinct key, in order of first appearance; raises
    ``ValueError`` if the rows of one key disagree on the label.
    """
    if len(keys) != probs.shape[0]:
        raise ValueError(f"got {len(keys)} keys for {probs.shape[0]} rows")
    order: dict[Hashable, list[int]] = {}
    for row, key in enumerate(keys):
        order.setdefault(key, []).append(row)
    out_probs, out_labels = [], []
    for key, rows in order.items():
        row_labels = labels[rows]
        if not bool((row_labels == row_labels[0]).all()):
            raise ValueError(f"clips of video {key!r} have different labels: {row_labels.tolist()}")
        out_probs.append(probs[rows].mean(0))
        out_labels.append(row_labels[0])
    return torch.stack(out_probs), torch.stack(out_labels), list(order)


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``(K, K)`` int64 counts, rows = true class, columns = predicted class."""
    flat = labels.long() * num_classes + predictions.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def classification_metrics(probs: torch.Tensor, labels: torch.Tensor, topk: int = 5) -> dict[str, Any]:
    """Top-1, top-k, mean class accuracy (over classes present in ``labels``), per-class accuracy, loss.

    Returns a dict with ``top1``, ``top5`` (or ``top{k}``), ``mean_class_acc`` (percentages), ``loss`` (mean
    negative log-likelihood of the true class), ``per_class_acc`` (list, ``None`` for absent classes),
    ``confusion`` (``(K, K)`` tensor) and ``count``.
    """
    if probs.ndim != 2 or labels.shape != probs.shape[:1]:
        raise ValueError(f"probs must be (N, K) and labels (N,), got {tuple(probs.shape)} and {tuple(labels.shape)}")
    num, num_classes = probs.shape
    if num == 0:
        raise ValueError("no predictions to score")
    labels = labels.long()
    k = min(topk, num_classes)
    top = probs.topk(k, dim=1).indices
    hit = top == labels[:, None]
    confusion = confusion_matrix(top[:, 0], labels, num_classes)
    support = confusion.sum(1)
    present = support > 0
    per_class = torch.where(present, confusion.diagonal() / support.clamp(min=1), torch.nan)
    nll = -probs.gather(1, labels[:, None]).clamp(min=1e-12).log()
    return {
        "top1": 100.0 * hit[:, 0].float().mean().item(),
        f"top{topk}": 100.0 * hit.any(1).float().mean().item(),
        "mean_class_acc": 100.0 * per_class[present].mean().item(),
        "loss": nll.mean().item(),
        "per_class_acc": [
            None if not p else 100.0 * float(a) for p, a in zip(present.tolist(), per_class, strict=True)
        ],
        "confusion": confusion,
        "count": num,
    }
