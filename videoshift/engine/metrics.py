"""Classification metrics of video recognition: view averaging, top-k, mean class accuracy, confusion matrix, and
for multi-label data average precision per class and its mean (mAP).

Everything works on plain tensors: ``probs`` ``(N, K)`` (one row per video or clip) and integer ``labels``
``(N,)`` or multi-hot ``(N, K)`` targets, so the same code serves one process or the gathered predictions of many.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import torch


def average_views(logits: torch.Tensor, average: str = "prob", multi_label: bool = False) -> torch.Tensor:
    """Class probabilities of each video from the logits of its views.

    Args:
        logits: ``(B, V, K)`` logits of V views (clips × crops) per video.
        average: ``"prob"`` averages the probabilities of every view (MMAction2 ``average_clips='prob'``);
            ``"score"`` averages the logits and then takes the probabilities.
        multi_label: probabilities are the sigmoid of each class (independent labels) instead of the softmax.

    Returns:
        ``(B, K)`` probabilities.
    """
    if logits.ndim != 3:
        raise ValueError(f"logits must be (B, V, K), got shape {tuple(logits.shape)}")
    activation = torch.sigmoid if multi_label else (lambda x: x.softmax(-1))
    if average == "prob":
        return activation(logits.float()).mean(1)
    if average == "score":
        return activation(logits.float().mean(1))
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


def average_precision(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Average precision of each class: the mean, over its positives, of the precision at that positive's score.

    The precision at a score counts every row scored at least as high, so tied scores form one threshold (the
    definition of scikit-learn's ``average_precision_score``, without interpolation).

    Args:
        scores: ``(N, K)`` scores, higher = more likely.
        targets: ``(N, K)`` multi-hot targets (1 = positive).

    Returns:
        ``(K,)`` float64 average precisions, NaN for classes without a positive in ``targets``.
    """
    if scores.ndim != 2 or targets.shape != scores.shape:
        shapes = f"{tuple(scores.shape)} and {tuple(targets.shape)}"
        raise ValueError(f"scores and targets must both be (N, K), got {shapes}")
    out = torch.full((scores.shape[1],), torch.nan, dtype=torch.float64)
    for k in range(scores.shape[1]):
        order = scores[:, k].double().argsort(descending=True)
        ranked, positive = scores[order, k].double(), targets[order, k].double() > 0.5
        if not bool(positive.any()):
            continue
        hits = positive.double().cumsum(0)
        last_tied = torch.searchsorted(-ranked, -ranked, right=True) - 1  # end of each row's group of equal scores
        precision = hits[last_tied] / (last_tied + 1).double()
        out[k] = precision[positive].mean()
    return out


def multi_label_metrics(probs: torch.Tensor, targets: torch.Tensor) -> dict[str, Any]:
    """mAP, per-class AP, top-1 and loss of multi-label predictions.

    Returns a dict with ``mAP`` (percentage, mean AP over the classes that have a positive in ``targets``;
    ``ap_classes`` says how many that is, the others are ``None`` in ``per_class_ap`` and left out of the mean),
    ``per_class_ap`` (percentages), ``positives`` (rows labelled with each class), ``top1`` (percentage of rows
    whose highest-scoring class is one of their labels), ``loss`` (mean binary cross-entropy of the probabilities)
    and ``count``.
    """
    if probs.ndim != 2 or targets.shape != probs.shape:
        shapes = f"{tuple(probs.shape)} and {tuple(targets.shape)}"
        raise ValueError(f"probs and targets must both be (N, K), got {shapes}")
    if probs.shape[0] == 0:
        raise ValueError("no predictions to score")
    ap = average_precision(probs, targets)
    present = ~ap.isnan()
    if not bool(present.any()):
        raise ValueError("no class has a positive label: mean average precision is undefined")
    targets = targets.float()
    top = probs.argmax(1, keepdim=True)
    bce = torch.nn.functional.binary_cross_entropy(probs.float().clamp(1e-7, 1 - 1e-7), targets)
    return {
        "mAP": 100.0 * ap[present].mean().item(),
        "ap_classes": int(present.sum()),
        "per_class_ap": [100.0 * float(a) if p else None for p, a in zip(present.tolist(), ap, strict=True)],
        "positives": (targets > 0.5).sum(0).tolist(),
        "top1": 100.0 * targets.gather(1, top).mean().item(),
        "loss": bce.item(),
        "count": probs.shape[0],
    }


def headline(result: dict[str, Any]) -> str:
    """The summary metrics of an evaluation as one line (mAP first for multi-label results)."""
    names = {"mAP": "mAP", "top1": "top1", "top5": "top5", "mean_class_acc": "mean class"}
    parts = [f"{label} {result[key]:.2f}" for key, label in names.items() if key in result]
    return " ".join([*parts, f"loss {result['loss']:.4f}"])
