"""Shared benchmark machinery: timing repeated calls.

Every ``videoshift bench`` sub-command measures its candidates in one process with :func:`time_in_turns`
(the candidates taking turns), tags the rows with :func:`videoshift.report.environment`, and hands them to
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


def time_in_turns(
    calls: Sequence[Callable[[], Any]],
    *,
    warmup: int = 3,
    repeats: int = 10,
    device: torch.device | str | None = None,
    untimed_before_each: int = 0,
) -> list[Timing]:
    """Timings of ``repeats`` calls of each callable, the callables taking turns call by call.

    First ``warmup`` untimed rounds (each callable called once per round), then ``repeats`` timed rounds in
    which each callable is timed once; CUDA work on ``device`` is synchronised around each timed call.
    Taking turns exposes every candidate to the same machine load, which on a shared CPU drifts by whole
    factors within seconds; timing one candidate after another would turn the drift into false ratios.
    With ``untimed_before_each``, that many untimed calls of the same callable directly precede each timed
    call, so that it finds the allocator as it leaves it itself rather than as the previous candidate did.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        for call in calls:
            call()
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, times in zip(calls, samples, strict=True):
            for _ in range(untimed_before_each):
                call()
            _synchronize(device)
            start = time.perf_counter()
            call()
            _synchronize(device)
            times.append((time.perf_counter() - start) * 1e3)
    return [summarize(times) for times in samples]


def time_callable(
    fn: Callable[[], Any], *, warmup: int = 3, repeats: int = 10, device: torch.device | str | None = None
) -> Timing:
    """Time ``fn()`` after ``warmup`` untimed calls: :func:`time_in_turns` of one callable."""
    return time_in_turns([fn], warmup=warmup, repeats=repeats, device=device)[0]


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
