"""The model card of a fine-tuned package: its classes, data, recipe and results, and a confusion-matrix picture."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from videoshift.finetune.data import PreparedData

CONFUSION_PNG = "confusion.png"


def plot_confusion(confusion: np.ndarray, class_names: Sequence[str], path: Path, title: str) -> None:
    """PNG of a ``(K, K)`` confusion matrix (rows: true class, columns: predicted), each row as shares of its
    videos, with the counts written in the cells."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = len(class_names)
    side = max(4.0, 0.45 * count + 2.5)
    figure = Figure(figsize=(side + 1.0, side), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    shares = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    if count <= 30:  # beyond that the numbers no longer fit their cells
        for (row, column), value in np.ndenumerate(confusion):
            if value:
                colour = "white" if shares[row, column] > 0.5 else "black"
                axes.text(column, row, str(int(value)), ha="center", va="center", fontsize=7, color=colour)
    axes.set_xticks(range(count), class_names, rotation=90, fontsize=7)
    axes.set_yticks(range(count), class_names, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, label="share of the class's videos")
    figure.savefig(path, format="png", dpi=100)


def model_card(data: PreparedData, settings: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """The card's body (Markdown): classes and clip counts, the split, skipped files, the recipe, the val
    results with per-class accuracy, and the confusion picture."""
    names = data.class_names
    counts = ", ".join(f"{split} {count}" for split, count in data.counts.items())
    if data.split_seed is None:
        split = "as the folders give it (`train/`, `val/`)"
    else:
        split = f"val drawn from the training videos: {data.val_fraction:g} of each class, seed {data.split_seed}"
    lines = [
        "## Fine-tuned",
        "",
        f"- from: {settings['start']}",
        f"- data: `{data.root}`, {len(names)} classes; clips {counts}",
        f"- split: {split}",
        f"- recipe: {settings['reads']}; {settings['training']}",
        f"- defaults from: {settings['defaults_source']}",
        "",
        "## Results on val",
        "",
        f"top-1 {result['top1']:.2f} %, top-5 {result['top5']:.2f} %, mean class accuracy "
        f"{result['mean_class_acc']:.2f} % over {result['count']} videos.",
        "",
        "| class | val videos | accuracy (%) |",
        "|---|---:|---:|",
    ]
    support = np.asarray(result["confusion"]).sum(1)
    for name, videos, accuracy in zip(names, support, result["per_class_acc"], strict=True):
        lines.append(f"| {name} | {int(videos)} | {'-' if accuracy is None else f'{accuracy:.1f}'} |")
    lines += ["", f"![confusion matrix]({CONFUSION_PNG})", "", "## Skipped videos", ""]
    if data.skipped:
        lines += [f"- `{item.path}` ({item.split}): {item.reason}" for item in data.skipped]
    else:
        lines.append("None: every video opened, decoded and was long enough.")
    return "\n".join(lines) + "\n"
