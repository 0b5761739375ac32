"""Spatio-temporal shift (STSM): channel groups shifted by one position along T, H and/or W."""

from __future__ import annotations

import math

from torch import Tensor, nn

from videoshift.ops._core import Move, ShiftPlan, apply_shift
from videoshift.ops.temporal import channel_box, split_frames
from videoshift.paper_defaults import STSM_ALPHA, STSM_DIMS

# Axis letter → dimension of the (N, T, C, H, W) view.
_AXIS_DIMS = {"T": 1, "H": 3, "W": 4}
# The four sign pairs of a two-axis group, in channel order (the paper's four 2×2 one-hot kernels).
_SIGN_PAIRS = ((+1, +1), (+1, -1), (-1, +1), (-1, -1))

STSM_VARIANTS: tuple[str, ...] = (
    "T", "H", "W", "H+W", "HW", "T+H+W", "T+HW", "T+H+W+HW", "TH+TW+HW", "T+H+W+TH+TW+HW",
)  # fmt: skip


def parse_dims(dims: str) -> tuple[str, ...]:
    """Split a ``dims`` string such as ``"T+H+W"`` or ``"TH+TW+HW"`` into its groups, in written order.

    A group names one axis (shifted along it) or two distinct axes (shifted along both at once).
    """
    groups = tuple(group.strip().upper() for group in dims.split("+"))
    seen: set[frozenset[str]] = set()
    for group in groups:
        if not 1 <= len(group) <= 2 or set(group) - set(_AXIS_DIMS) or len(set(group)) != len(group):
            raise ValueError(
                f"dims={dims!r}: group {group!r} must be one or two distinct axes of T, H, W (e.g. 'T+H+W', 'TH+HW')"
            )
        if frozenset(group) in seen:
            raise ValueError(f"dims={dims!r}: group {group!r} appears twice")
        seen.add(frozenset(group))
    return groups


def stsm_group_sizes(channels: int, alpha: float, groups: tuple[str, ...]) -> tuple[int, ...]:
    """Channels per group: ⌊α·C/k⌋ rounded down to a multiple of 2 (one axis) or 4 (two axes)."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    share = math.floor(alpha * channels / len(groups))
    sizes = tuple(share - share % (2 * len(group)) for group in groups)
    if min(sizes) == 0:
        raise ValueError(f"channels={channels} with alpha={alpha} leave group(s) of {groups} without channels")
    return sizes


STSM_CONVENTIONS: tuple[str, ...] = ("stsm", "causal")


def _causal_offsets(offsets: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Offsets of the causal variant: reading the next frame becomes reading the previous one, and
    reading the previous frame becomes staying in place (as online TSM does with its two folds)."""
    time_dim = _AXIS_DIMS["T"]
    causal = {+1: -1, -1: 0}
    mapped = ((dim, causal[offset] if dim == time_dim else offset) for dim, offset in offsets)
    return tuple((dim, offset) for dim, offset in mapped if offset)


def _stsm_plan(groups: tuple[str, ...], sizes: tuple[int, ...], convention: str = "stsm") -> ShiftPlan:
    moves = []
    start = 0
    for group, size in zip(groups, sizes, strict=True):
        axis_dims = [_AXIS_DIMS[axis] for axis in group]
        signs = ((+1,), (-1,)) if len(group) == 1 else _SIGN_PAIRS
        part = size // len(signs)
        for sign in signs:
            offsets = tuple(zip(axis_dims, sign, strict=True))
            if convention == "causal":
                offsets = _causal_offsets(offsets)
            moves.append(Move(channel_box(2, start, start + part), offsets))
            start += part
    moves.append(Move(channel_box(2, start, None)))
    return ShiftPlan(tuple(moves), "zeros")


def _check_convention(convention: str) -> None:
    if convention not in STSM_CONVENTIONS:
        raise ValueError(f"convention must be one of {STSM_CONVENTIONS}, got {convention!r}")


def stsm_plan(channels: int, alpha: float = STSM_ALPHA, dims: str = STSM_DIMS, convention: str = "stsm") -> ShiftPlan:
    """The shift plan of :func:`spatiotemporal_shift` on the ``(N, T, C, H, W)`` view of ``channels`` channels."""
    _check_convention(convention)
    groups = parse_dims(dims)
    return _stsm_plan(groups, stsm_group_sizes(channels, alpha, groups), convention)


def spatiotemporal_shift(
    x: Tensor, num_frames: int, alpha: float = STSM_ALPHA, dims: str = STSM_DIMS, *, convention: str = "stsm"
) -> Tensor:
    """Shift channel groups of CNN features by one position along time and/or space (STSM).

    With ``k`` groups in ``dims``, each gets ⌊α·C/k⌋ channels rounded down to a multiple of 2
    (of 4 for a two-axis group); groups take channels from 0 in the order written, the rest stay.
    A one-axis group: first half out[i] ← x[i+1] along its axis, second half out[i] ← x[i−1]. A
    two-axis group (e.g. ``"HW"``): four equal parts moving by the sign pairs (+1, +1), (+1, −1),
    (−1, +1), (−1, −1) along its two axes in written order, out[i, j] ← x[i+a, j+b]. Positions
    that read outside the tensor are zero. ``dims="T"`` is :func:`temporal_shift` with
    ``2·fold = ⌊α·C⌋`` rounded to even.

    Args:
        x: features ``(N*T, C, H, W)``, the ``T`` frames of each clip consecutive.
        num_frames: ``T``.
        alpha: share of the channels that move, in (0, 1].
        dims: groups joined by ``+``; every variant of the STSM paper's Tables 2–3 is accepted:
            ``T, H, W, H+W, HW, T+H+W, T+HW, T+H+W+HW, TH+TW+HW, T+H+W+TH+TW+HW``.
        convention: ``"stsm"`` (the paper) or ``"causal"``, for online inference (an extension the
            STSM paper does not evaluate): every part that reads frame t+1 reads frame t−1 instead,
            and every part that read frame t−1 stays in its frame (spatial offsets kept), so frame
            t reads nothing from the future. ``dims="T"`` is then causal :func:`temporal_shift`.

    Returns:
        A new tensor of the shape of ``x``.
    """
    frames = split_frames(x, num_frames)
    return apply_shift(frames, stsm_plan(x.shape[1], alpha, dims, convention)).flatten(0, 1)


class SpatioTemporalShift(nn.Module):
    """:func:`spatiotemporal_shift` as a module; holds settings only, no parameters."""

    def __init__(
        self, num_frames: int, alpha: float = STSM_ALPHA, dims: str = STSM_DIMS, *, convention: str = "stsm"
    ) -> None:
        super().__init__()
        parse_dims(dims)
        _check_convention(convention)
        self.num_frames = num_frames
        self.alpha = alpha
        self.dims = dims
        self.convention = convention

    def forward(self, x: Tensor) -> Tensor:
        return spatiotemporal_shift(x, self.num_frames, self.alpha, self.dims, convention=self.convention)

    def plan(self, channels: int) -> ShiftPlan:
        """The plan this module applies to ``channels``-channel features, on the ``(N, T, C, H, W)`` view."""
        return stsm_plan(channels, self.alpha, self.dims, self.convention)

    def extra_repr(self) -> str:
        convention = "" if self.convention == "stsm" else f", convention={self.convention!r}"
        return f"num_frames={self.num_frames}, alpha={self.alpha:g}, dims={self.dims!r}{convention}"
