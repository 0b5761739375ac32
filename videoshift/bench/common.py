"""Shared benchmark machinery: timing, environment tags, and table/JSON/Markdown output.

Every ``videoshift bench`` sub-command measures its candidates in one process with
:func:`time_callable`, tags the rows with :func:`environment`, and hands them to
:func:`report`, so that all benchmarks print ratios the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch


@dataclass(frozen=True)
class Timing:
    """Wall times of repeated calls, in milliseconds."""

    median_ms: float
    min_ms: float
    max_ms: float
    iqr_ms: float
    repeats: int


def _synchronize(device: torch.device | str | None) -> None:
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_callable(
    fn: Callable[[], Any], *, warmup: int = 3, repeats: int = 10, device: torch.device | str | None = None
) -> Timing:
    """Time ``fn()`` after ``warmup`` untimed calls; CUDA work is synchronised around each call."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    _synchronize(device)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _synchronize(device)
        samples.append((time.perf_counter() - start) * 1e3)
    return summarize(samples)


def summarize(samples_ms: Sequence[float]) -> Timing:
    """Median, extremes and interquartile range of wall times in milliseconds."""
    if not samples_ms:
        raise ValueError("summarize needs at least one sample")
    quartiles = statistics.quantiles(samples_ms, n=4) if len(samples_ms) > 1 else [samples_ms[0]] * 3
    return Timing(
        median_ms=statistics.median(samples_ms),
        min_ms=min(samples_ms),
        max_ms=max(samples_ms),
        iqr_ms=quartiles[2] - quartiles[0],
        repeats=len(samples_ms),
    )


def environment(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """What the numbers were measured on: versions, device name, threads, dtype."""
    device = torch.device(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device.type,
        "device_name": name,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "dtype": str(dtype).removeprefix("torch."),
    }


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The output options every bench sub-command shares."""
    parser.add_argument("--json", type=Path, default=None, help="write rows and environment as JSON")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table as Markdown")


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Render ``rows`` as a Markdown table with the given column order."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_format(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def report(
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    env: dict[str, Any],
    args: argparse.Namespace,
    *,
    width: int | None = None,
) -> None:
    """Print the table to the terminal and write the optional JSON / Markdown outputs.

    ``width`` sets the terminal table's width in characters (default: the terminal's), so that
    wide tables are not folded when the output is piped.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column in ("name", "model", "op", "case") else "right")
    for row in rows:
        table.add_row(*(_format(row.get(c)) for c in columns))
    console = Console(width=width)
    console.print(table)
    console.print(", ".join(f"{k}={v}" for k, v in env.items()), style="dim")
    if getattr(args, "json", None):
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"title": title, "environment": env, "rows": list(rows)}, indent=2) + "\n")
    if getattr(args, "markdown", None):
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        env_line = ", ".join(f"{k}={v}" for k, v in env.items())
        args.markdown.write_text(f"## {title}\n\n{markdown_table(rows, columns)}\n\n{env_line}\n")
