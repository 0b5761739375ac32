"""PNG of a model benchmark: latency against top-1 (when accuracies are known) and memory per model.

Drawn with matplotlib's Agg canvas directly (no pyplot, no display, no global backend switch).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

MEMORY_SERIES = (("mem_infer_gib", "inference"), ("mem_train_gib", "training step"))


def _latency_panel(axes: Any, rows: Sequence[dict[str, Any]], latency_key: str) -> None:
    """Latency vs top-1 where both are known; latency bars otherwise."""
    known = [row for row in rows if row.get(latency_key) is not None and row.get("top1") is not None]
    if known:
        axes.scatter([row[latency_key] for row in known], [row["top1"] for row in known])
        for row in known:
            axes.annotate(row["model"], (row[latency_key], row["top1"]), textcoords="offset points", xytext=(4, 4))
        axes.margins(x=0.2, y=0.1)  # room for the labels of the outermost points
        axes.set_xlabel(f"latency (ms, {latency_key})")
        axes.set_ylabel("top-1 (%)")
        axes.set_title("latency vs top-1")
    else:
        timed = [row for row in rows if row.get(latency_key) is not None]
        axes.barh([row["model"] for row in timed], [row[latency_key] for row in timed])
        axes.invert_yaxis()
        axes.set_xlabel(f"latency (ms, {latency_key})")
        axes.set_title("latency")
    axes.grid(alpha=0.3)


def _memory_panel(axes: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Grouped bars of the peak memories per model."""
    series = [(key, label) for key, label in MEMORY_SERIES if any(row.get(key) is not None for row in rows)]
    width = 0.8 / len(series)
    for index, (key, label) in enumerate(series):
        positions = [i + (index - (len(series) - 1) / 2) * width for i in range(len(rows))]
        axes.bar(positions, [row.get(key) or 0.0 for row in rows], width, label=label)
    axes.set_xticks(range(len(rows)), [row["model"] for row in rows], rotation=30, ha="right")
    axes.set_ylabel("peak memory (GiB)")
    axes.set_title("memory per model")
    axes.legend()
    axes.grid(alpha=0.3, axis="y")


def plot_models(rows: Sequence[dict[str, Any]], path: Path, *, latency_key: str, title: str = "") -> None:
    """Write the benchmark's figure to ``path`` (PNG).

    Args:
        rows: benchmark rows (``model``, the latency field, optional ``top1`` and ``mem_*_gib``).
        path: output file; parent folders are created.
        latency_key: row field holding the latency in ms (e.g. ``"lat_b1_ms"``).
        title: figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    has_memory = any(row.get(key) is not None for row in rows for key, _ in MEMORY_SERIES)
    figure = Figure(figsize=(12 if has_memory else 6, 5), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(1, 2 if has_memory else 1, squeeze=False)[0]
    _latency_panel(panels[0], rows, latency_key)
    if has_memory:
        _memory_panel(panels[1], rows)
    figure.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=100)
