"""``videoshift bench ops``: each shift operator against a naive version and ``x.clone()``.

A shift reads and writes every element once, so ``x.clone()`` is its memory-traffic floor; the
naive versions (slice and concatenate, or the released code's clone-then-roll for TPS) are what
the operators replace. All three run in the same process on the same tensor, forward and
forward+backward, and the table prints the ratios.

For forward+backward, every candidate runs ``out.backward(grad)`` into a fresh ``x.grad``: for the
clone this is one copy each way, the floor for a shift as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor

from videoshift.bench.choices import OP_SIZES
from videoshift.bench.common import time_in_turns
from videoshift.ops import patch_shift, pst_channel_shift, resolve_pattern, spatiotemporal_shift, temporal_shift
from videoshift.paper_defaults import STSM_ALPHA, TCS_CHANNEL_DIV, TPS_PATTERN, TSM_SHIFT_DIV

Op = Callable[[Tensor], Tensor]


# --- naive references: every part materialised, then concatenated ---------------------------------
def _naive_step(x: Tensor, dim: int, offset: int) -> Tensor:
    """out[i] ← x[i + offset] along ``dim`` with zero fill, by slicing and concatenating."""
    size = x.shape[dim]
    zeros = x.new_zeros(*x.shape[:dim], abs(offset), *x.shape[dim + 1 :])
    if offset > 0:
        return torch.cat([x.narrow(dim, offset, size - offset), zeros], dim)
    return torch.cat([zeros, x.narrow(dim, 0, size + offset)], dim)


def naive_temporal_shift(x: Tensor, num_frames: int, shift_div: int = TSM_SHIFT_DIV) -> Tensor:
    """TSM by slicing and concatenation (the form found in many re-implementations)."""
    frames = x.view(-1, num_frames, *x.shape[1:])
    fold = x.shape[1] // shift_div
    parts = [
        _naive_step(frames[:, :, :fold], 1, 1),
        _naive_step(frames[:, :, fold : 2 * fold], 1, -1),
        frames[:, :, 2 * fold :],
    ]
    return torch.cat(parts, 2).view_as(x)


def naive_spatiotemporal_shift(x: Tensor, num_frames: int, alpha: float = STSM_ALPHA) -> Tensor:
    """STSM T+H+W by slicing and concatenation."""
    frames = x.view(-1, num_frames, *x.shape[1:])  # (N, T, C, H, W)
    group = int(alpha * x.shape[1] / 3) // 2 * 2
    parts = []
    for index, dim in enumerate((1, 3, 4)):
        start = index * group
        parts.append(_naive_step(frames[:, :, start : start + group // 2], dim, 1))
        parts.append(_naive_step(frames[:, :, start + group // 2 : start + group], dim, -1))
    parts.append(frames[:, :, 3 * group :])
    return torch.cat(parts, 2).view_as(x)


def naive_pst_channel_shift(x: Tensor, num_heads: int, shift_div: int = TCS_CHANNEL_DIV) -> Tensor:
    """The released TCS (per head, edges keep their value) by slicing and concatenation."""
    heads = x.view(*x.shape[:-1], num_heads, -1)
    fold = heads.shape[-1] // shift_div
    first, second = heads[..., :fold], heads[..., fold : 2 * fold]
    parts = [
        torch.cat([first[:, :1], first[:, :-1]], 1),
        torch.cat([second[:, 1:], second[:, -1:]], 1),
        heads[..., 2 * fold :],
    ]
    return torch.cat(parts, -1).view_as(x)


def naive_patch_shift(x: Tensor, pattern: str = TPS_PATTERN, window: int = 7) -> Tensor:
    """TPS as released: clone, then roll each strided slice of the windows in time."""
    grid = resolve_pattern(pattern).tolist()
    k = len(grid)
    b, t, h, w, c = x.shape
    windows = x.view(b, t, h // window, window, w // window, window, c)
    out = windows.clone()
    for r, row in enumerate(grid):
        for s, offset in enumerate(row):
            part = windows[:, :, :, r::k, :, s::k]
            out[:, :, :, r::k, :, s::k] = torch.roll(part, shifts=-offset, dims=1)
    return out.view_as(x)


# --- cases -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One operator on one input: the shift, its naive version, the input shape."""

    name: str
    shape: tuple[int, ...]
    shift: Op
    naive: Op


def cases(size: str) -> list[Case]:
    """The benchmarked operators at one of :data:`~videoshift.bench.choices.OP_SIZES`."""
    frames, cnn, tokens = OP_SIZES[size]
    return [
        Case(
            "temporal_shift (TSM)", cnn, lambda x: temporal_shift(x, frames), lambda x: naive_temporal_shift(x, frames)
        ),
        Case(
            "spatiotemporal_shift (T+H+W)",
            cnn,
            lambda x: spatiotemporal_shift(x, frames),
            lambda x: naive_spatiotemporal_shift(x, frames),
        ),
        Case(
            "pst_channel_shift (TCS)",
            tokens,
            lambda x: pst_channel_shift(x, 3),
            lambda x: naive_pst_channel_shift(x, 3),
        ),
        Case(
            "patch_shift (official, 7×7)",
            tokens,
            lambda x: patch_shift(x, "official", window_size=7),
            lambda x: naive_patch_shift(x, "official", 7),
        ),
    ]


def _forward_backward(op: Op, x: Tensor, grad: Tensor) -> Callable[[], None]:
    def run() -> None:
        x.grad = None
        op(x).backward(grad)

    return run


def measure(
    case: Case, *, warmup: int, repeats: int, device: torch.device, dtype: torch.dtype, stat: str = "min"
) -> list[dict]:
    """Time the shift, its naive version and ``x.clone()`` on one input, forward and forward+backward.

    ``stat`` picks the per-candidate statistic over ``repeats`` calls: ``"min"`` (the least
    disturbed call; robust on a shared machine) or ``"median"``.
    """
    x = torch.randn(case.shape, device=device, dtype=dtype)
    if not torch.equal(case.shift(x), case.naive(x)):
        raise RuntimeError(f"{case.name}: the operator and its naive version disagree")
    candidates = {"shift": case.shift, "naive": case.naive, "clone": torch.clone}
    pick = (lambda timing: timing.min_ms) if stat == "min" else (lambda timing: timing.median_ms)
    rows = []
    for mode in ("forward", "forward+backward"):
        with torch.set_grad_enabled(mode != "forward"):
            if mode == "forward":
                fns = {label: partial(op, x) for label, op in candidates.items()}
            else:
                leaf, grad = x.detach().requires_grad_(True), torch.randn_like(x)
                fns = {label: _forward_backward(op, leaf, grad) for label, op in candidates.items()}
            # Each timed call directly follows an untimed call of the same candidate, so it finds the allocator
            # as it leaves it itself (a 25 MB output otherwise comes back page-faulted after a candidate that
            # fragments memory, ~10 ms here, whoever is timed).
            timings = time_in_turns(
                list(fns.values()), warmup=warmup, repeats=repeats, device=device, untimed_before_each=1
            )
        times = {label: pick(timing) for label, timing in zip(fns, timings, strict=True)}
        rows.append(
            {
                "op": case.name,
                "shape": "×".join(map(str, case.shape)),
                "pass": mode,
                "shift_ms": times["shift"],
                "naive_ms": times["naive"],
                "clone_ms": times["clone"],
                "shift/clone": times["shift"] / times["clone"],
                "naive/shift": times["naive"] / times["shift"],
            }
        )
    return rows


COLUMNS = ("op", "shape", "pass", "shift_ms", "naive_ms", "clone_ms", "shift/clone", "naive/shift")


def benchmark(
    size: str, *, warmup: int, repeats: int, device: torch.device, dtype: torch.dtype, stat: str = "min"
) -> list[dict]:
    """The rows of :func:`measure` for every case of :func:`cases` at ``size`` (a key of ``OP_SIZES``)."""
    return [
        row
        for case in cases(size)
        for row in measure(case, warmup=warmup, repeats=repeats, device=device, dtype=dtype, stat=stat)
    ]
