"""Temporal channel shift: TSM (offline and online) on CNN features, TCS on PST attention tokens.

Both move a few channels one frame along time and keep the rest; they differ in which channels
move, which way first, and what fills the ends (as in the released TSM and TPS code).
"""

from __future__ import annotations

from torch import Tensor, nn

from videoshift.ops._core import Move, ShiftPlan, apply_shift
from videoshift.paper_defaults import TCS_CHANNEL_DIV, TSM_SHIFT_DIV

TSM_CONVENTIONS: tuple[str, ...] = ("tsm", "causal")


def channel_box(dim: int, start: int, stop: int | None) -> tuple[slice, ...]:
    """The region that takes channels ``[start, stop)`` of dimension ``dim`` and everything before it."""
    return (slice(None),) * dim + (slice(start, stop),)


def split_frames(x: Tensor, num_frames: int) -> Tensor:
    """View CNN features ``(N*T, C, H, W)`` as ``(N, T, C, H, W)``, checking the layout."""
    if x.dim() != 4:
        raise ValueError(f"x must be (N*T, C, H, W), got shape {tuple(x.shape)}")
    if num_frames < 1 or x.shape[0] % num_frames:
        raise ValueError(f"x.shape[0]={x.shape[0]} (N*T) is not a multiple of num_frames={num_frames}")
    return x.unflatten(0, (-1, num_frames))


def _fold(channels: int, shift_div: int, what: str) -> int:
    if shift_div < 1:
        raise ValueError(f"shift_div must be >= 1, got {shift_div}")
    fold = channels // shift_div
    if fold < 1:
        raise ValueError(f"{what}={channels} is fewer than shift_div={shift_div}: no channel would move")
    return fold


def _tsm_plan(fold: int, convention: str) -> ShiftPlan:
    # Moves on the (N, T, C, H, W) view: channel dim 2, time dim 1.
    if convention == "tsm":
        moves = (
            Move(channel_box(2, 0, fold), ((1, +1),)),
            Move(channel_box(2, fold, 2 * fold), ((1, -1),)),
            Move(channel_box(2, 2 * fold, None)),
        )
    else:  # causal
        moves = (Move(channel_box(2, 0, fold), ((1, -1),)), Move(channel_box(2, fold, None)))
    return ShiftPlan(moves, "zeros")


def temporal_shift(x: Tensor, num_frames: int, shift_div: int = TSM_SHIFT_DIV, *, convention: str = "tsm") -> Tensor:
    """Shift a fraction of the channels of CNN features one frame along time (TSM).

    Args:
        x: features ``(N*T, C, H, W)``, the ``T`` frames of each clip consecutive.
        num_frames: ``T``.
        shift_div: ``fold = C // shift_div`` channels move in each direction.
        convention: ``"tsm"`` (official TSM / MMAction2): channels ``[0, fold)`` out[t] ← x[t+1],
            ``[fold, 2·fold)`` out[t] ← x[t−1]. ``"causal"`` (online TSM): only ``[0, fold)`` moves,
            out[t] ← x[t−1], so frame t reads nothing from the future. The rest is unchanged;
            positions reading outside the clip are zero.

    Returns:
        A new tensor of the shape of ``x``.
    """
    if convention not in TSM_CONVENTIONS:
        raise ValueError(f"convention must be one of {TSM_CONVENTIONS}, got {convention!r}")
    frames = split_frames(x, num_frames)
    plan = _tsm_plan(_fold(x.shape[1], shift_div, "channels"), convention)
    return apply_shift(frames, plan).flatten(0, 1)


def _tcs_plan(fold: int) -> ShiftPlan:
    # Moves on the (B, T, S, heads, head_dim) view: channel dim 4, time dim 1.
    moves = (
        Move(channel_box(4, 0, fold), ((1, -1),)),
        Move(channel_box(4, fold, 2 * fold), ((1, +1),)),
        Move(channel_box(4, 2 * fold, None)),
    )
    return ShiftPlan(moves, "edge")


def pst_channel_shift(x: Tensor, num_heads: int, shift_div: int = TCS_CHANNEL_DIV) -> Tensor:
    """The temporal channel shift (TCS) of the released PST code, per attention head.

    In every head, with ``fold = head_dim // shift_div``: channels ``[0, fold)`` out[t] ← x[t−1],
    ``[fold, 2·fold)`` out[t] ← x[t+1], the rest unchanged. Where the source frame is outside
    the clip the output keeps its own value (frame 0 of the first fold, frame T−1 of the
    second): no zeros, no wrap.

    Args:
        x: channels-last tokens ``(B, T, ..., C)`` with time on axis 1 and any number of spatial
            (or window) axes in between; ``C = num_heads · head_dim``, heads contiguous.
        num_heads: number of attention heads.
        shift_div: the fold divisor within a head.

    Returns:
        A new tensor of the shape of ``x``.
    """
    if x.dim() < 3:
        raise ValueError(f"x must be (B, T, ..., C), got shape {tuple(x.shape)}")
    channels = x.shape[-1]
    if num_heads < 1 or channels % num_heads:
        raise ValueError(f"channels={channels} are not divisible by num_heads={num_heads}")
    head_dim = channels // num_heads
    plan = _tcs_plan(_fold(head_dim, shift_div, "head_dim"))
    tokens = x.reshape(x.shape[0], x.shape[1], -1, num_heads, head_dim)  # (B, T, S, heads, head_dim)
    return apply_shift(tokens, plan).reshape(x.shape)


class TemporalShift(nn.Module):
    """:func:`temporal_shift` as a module; holds settings only, no parameters."""

    def __init__(self, num_frames: int, shift_div: int = TSM_SHIFT_DIV, *, convention: str = "tsm") -> None:
        super().__init__()
        if convention not in TSM_CONVENTIONS:
            raise ValueError(f"convention must be one of {TSM_CONVENTIONS}, got {convention!r}")
        self.num_frames = num_frames
        self.shift_div = shift_div
        self.convention = convention

    def forward(self, x: Tensor) -> Tensor:
        return temporal_shift(x, self.num_frames, self.shift_div, convention=self.convention)

    def plan(self, channels: int) -> ShiftPlan:
        """The plan this module applies to ``channels``-channel features, on the ``(N, T, C, H, W)`` view."""
        return _tsm_plan(_fold(channels, self.shift_div, "channels"), self.convention)

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}, shift_div={self.shift_div}, convention={self.convention!r}"


class PSTChannelShift(nn.Module):
    """:func:`pst_channel_shift` as a module; holds settings only, no parameters."""

    def __init__(self, num_heads: int, shift_div: int = TCS_CHANNEL_DIV) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.shift_div = shift_div

    def forward(self, x: Tensor) -> Tensor:
        return pst_channel_shift(x, self.num_heads, self.shift_div)

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}, shift_div={self.shift_div}"
