"""Shared benchmark machinery: timing repeated calls.

Every ``videoshift bench`` sub-command measures its candidates in one process with
:func:`time_callable`, tags the rows with :func:`videoshift.report.environment`, and hands them to
:func:`videoshift.report.report`, so that all benchmarks print ratios the same way.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (``None``: leave torch's choice); restored afterwards."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
