"""Element-by-element reference shifts for the operator tests.

Each reference is a *source rule*: for one output index it names the input index it reads, or
``None`` for a zero. Forward and backward then run as explicit loops over every element, with
nothing shared with :mod:`videoshift.ops`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch

Index = tuple[int, ...]
SourceRule = Callable[[Index], Index | None]


def forward(x: torch.Tensor, source: SourceRule) -> torch.Tensor:
    """out[i] = x[source(i)] (0 where the rule gives None), one element at a time."""
    xs = x.detach().numpy()
    out = np.zeros_like(xs)
    for index in itertools.product(*map(range, xs.shape)):
        src = source(index)
        if src is not None:
            out[index] = xs[src]
    return torch.from_numpy(out)


def backward(grad: torch.Tensor, source: SourceRule) -> torch.Tensor:
    """The gradient of ``forward`` for an output gradient: gx[source(i)] += grad[i]."""
    gs = grad.detach().numpy()
    grad_x = np.zeros_like(gs)
    for index in itertools.product(*map(range, gs.shape)):
        src = source(index)
        if src is not None:
            grad_x[src] += gs[index]
    return torch.from_numpy(grad_x)


def tsm_rule(num_frames: int, shift_div: int, channels: int, convention: str = "tsm") -> SourceRule:
    """TSM on (N*T, C, H, W)."""
    fold = channels // shift_div

    def source(index: Index) -> Index | None:
        i, c, h, w = index
        n, t = divmod(i, num_frames)
        if c < fold:
            src_t = t + 1 if convention == "tsm" else t - 1
        elif c < 2 * fold and convention == "tsm":
            src_t = t - 1
        else:
            src_t = t
        return (n * num_frames + src_t, c, h, w) if 0 <= src_t < num_frames else None

    return source


def tcs_rule(num_frames: int, num_heads: int, shift_div: int, channels: int) -> SourceRule:
    """The released PST temporal channel shift on (B, T, ..., C): per head, edge frames keep their value."""
    head_dim = channels // num_heads
    fold = head_dim // shift_div

    def source(index: Index) -> Index | None:
        t, c = index[1], index[-1]
        j = c % head_dim
        src_t = t - 1 if j < fold else (t + 1 if j < 2 * fold else t)
        if not 0 <= src_t < num_frames:
            src_t = t
        return (index[0], src_t, *index[2:])

    return source


def stsm_rule(
    num_frames: int, groups: list[tuple[str, int]], height: int, width: int, causal: bool = False
) -> SourceRule:
    """STSM on (N*T, C, H, W) for explicit ``(axes, size)`` groups in channel order; ``causal``: channels that read
    the next frame read the previous one, those that read the previous frame stay (online inference)."""
    channel_moves: list[dict[str, int]] = []
    for axes, size in groups:
        if len(axes) == 1:
            channel_moves += [{axes: +1}] * (size // 2) + [{axes: -1}] * (size // 2)
        else:
            a, b = axes
            for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                channel_moves += [{a: sa, b: sb}] * (size // 4)
    if causal:
        channel_moves = [{**m, "T": {1: -1, -1: 0}[m["T"]]} if "T" in m else m for m in channel_moves]
    limits = {"T": num_frames, "H": height, "W": width}

    def source(index: Index) -> Index | None:
        i, c, h, w = index
        n, t = divmod(i, num_frames)
        move = channel_moves[c] if c < len(channel_moves) else {}
        pos = {"T": t + move.get("T", 0), "H": h + move.get("H", 0), "W": w + move.get("W", 0)}
        if any(not 0 <= pos[axis] < limits[axis] for axis in pos):
            return None
        return (n * num_frames + pos["T"], c, pos["H"], pos["W"])

    return source


def patch_rule(grid: list[list[int]], num_frames: int, window: tuple[int, int]) -> SourceRule:
    """Patch shift on (B, T, H, W, C): out[t, h, w] ← x[(t + grid[(h%wh)%k][(w%ww)%k]) mod T, h, w]."""
    k = len(grid)

    def source(index: Index) -> Index | None:
        b, t, h, w, c = index
        offset = grid[(h % window[0]) % k][(w % window[1]) % k]
        return (b, (t + offset) % num_frames, h, w, c)

    return source
