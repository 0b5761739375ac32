"""The one shift core behind every operator in :mod:`videoshift.ops`.

A zero-parameter shift is a fixed rearrangement of a tensor: cut it into boxes (channel ranges,
strided spatial positions) and move each box by integer offsets along some axes, so that along
an axis with offset ``o`` the output reads ``out[i] ← x[i + o]``. Where ``i + o`` falls outside
the axis, a :class:`ShiftPlan`'s boundary rule decides:

- ``"zeros"``: the output is 0 there (TSM, STSM);
- ``"edge"``: the output keeps the input's own value there (the TCS of the released PST code);
- ``"cyclic"``: the index wraps around, ``x[(i + o) mod n]`` (TPS patch shift).

:func:`apply_shift` compiles a plan once per (plan, shape, strides, dtype, device) into one
:class:`_Program`, kept in a bounded cache, and runs it; a call costs a few tens of microseconds
of Python however many moves the plan has. A program is one of two forms, chosen from the plan
(each choice measured, figures in ``docs/shift-core.md``):

- strided copies into one new tensor, one ``as_strided`` view pair per piece, on a wider element
  view of the channel axis where the plan's cuts allow (4 float32 channels as one complex128:
  copy kernels step one element at a time), after one whole-tensor copy when unmoved channels are
  interleaved with moved ones in every row (TCS), so only the moved parts are written twice;
- one ``index_select`` of whole rows for cyclic plans, which are permutations (TPS), so the
  output is written in order instead of in strides of C.

The gradient is the same core run with the transposed plan (one more pass over the gradient);
it is itself differentiable, so double backward works too. Under ``torch.compile``, ONNX export
or TorchScript tracing the plan is one gather with a constant index (the same integer arithmetic,
run on the host): exporters and compilers translate it exactly and differentiate it natively.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

Boundary = Literal["zeros", "edge", "cyclic"]
BOUNDARIES: tuple[str, ...] = ("zeros", "edge", "cyclic")


@dataclass(frozen=True)
class Move:
    """One box of the tensor and the offsets it moves by.

    Attributes:
        region: one slice per leading dimension (dimensions beyond are taken whole) selecting the box.
        offsets: ``(dim, offset)`` pairs; along ``dim`` the box reads out[i] ← x[i + offset]. A shifted
            dimension must be taken whole by ``region``.
    """

    region: tuple[slice, ...] = ()
    offsets: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ShiftPlan:
    """A shift: moves whose regions partition the tensor, plus the boundary rule.

    Every element must lie in exactly one move's region; the plan builders in this package
    guarantee it and the tests check each against an element-by-element reference.
    """

    moves: tuple[Move, ...]
    boundary: Boundary = "zeros"
    # A hashable description of the plan, for caches (slices are not hashable before Python 3.12).
    key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {self.boundary!r}")
        if self.boundary == "edge" and any(len(move.offsets) > 1 for move in self.moves):
            raise ValueError("boundary='edge' supports one shifted dimension per move")
        moves = tuple((tuple((p.start, p.stop, p.step) for p in m.region), m.offsets) for m in self.moves)
        object.__setattr__(self, "key", (moves, self.boundary))

    def transposed(self) -> ShiftPlan:
        """The adjoint's shift part: every offset negated, "edge" read as "zeros".

        For "zeros" and "cyclic" this is the exact adjoint (for "cyclic" also the inverse). For
        "edge" the positions that kept their own value must add their gradient on top; see
        :func:`_add_kept_edges`.
        """
        boundary: Boundary = "zeros" if self.boundary == "edge" else self.boundary
        moves = tuple(Move(m.region, tuple((dim, -offset) for dim, offset in m.offsets)) for m in self.moves)
        return ShiftPlan(moves, boundary)


class _BoundedCache(OrderedDict):
    """A least-recently-used cache of programs: shapes vary (last batches, test views), memory must not grow."""

    def __init__(self, maxsize: int = 256) -> None:
        super().__init__()
        self.maxsize = maxsize

    def get(self, key: tuple, default: object = None) -> object:
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def __setitem__(self, key: tuple, value: object) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.maxsize:
            self.popitem(last=False)


def _axis_pieces(size: int, offset: int, boundary: str) -> tuple[list[tuple[slice, slice]], slice | None]:
    """Split one axis into (destination, source) slice pairs and the boundary slice to fill."""
    if boundary == "cyclic":
        offset %= size
        if offset == 0:
            return [(slice(None), slice(None))], None
        return [(slice(0, size - offset), slice(offset, size)), (slice(size - offset, size), slice(0, offset))], None
    if abs(offset) >= size:
        return [], slice(None)
    if offset > 0:
        return [(slice(0, size - offset), slice(offset, size))], slice(size - offset, size)
    return [(slice(-offset, size), slice(0, size + offset))], slice(0, -offset)


def _full_region(move: Move, ndim: int) -> list[slice]:
    return list(move.region) + [slice(None)] * (ndim - len(move.region))


# One piece of a rendering: out[destination] = x[source], or 0 where the source is None.
Piece = tuple[tuple[slice, ...], tuple[slice, ...] | None]


def _move_pieces(move: Move, shape: tuple[int, ...], boundary: str, over_copy: bool) -> list[Piece]:
    """The assignments that write one move; with ``over_copy`` the output already holds a copy of ``x``."""
    region = _full_region(move, len(shape))
    if not move.offsets:
        return [] if over_copy else [(tuple(region), tuple(region))]
    axes = [_axis_pieces(shape[dim], offset, boundary) for dim, offset in move.offsets]
    pieces: list[Piece] = []
    for combination in itertools.product(*(copies for copies, _ in axes)):
        dst, src = list(region), list(region)
        for (dim, _), (dst_part, src_part) in zip(move.offsets, combination, strict=True):
            dst[dim], src[dim] = dst_part, src_part
        pieces.append((tuple(dst), tuple(src)))
    for (dim, _), (_, fill) in zip(move.offsets, axes, strict=True):
        if fill is None or (over_copy and boundary == "edge"):
            continue
        index = list(region)
        index[dim] = fill
        pieces.append((tuple(index), None if boundary == "zeros" else tuple(index)))  # "edge": keep own value
    return pieces


def _splits_last_dim(move: Move, ndim: int) -> bool:
    return len(move.region) == ndim and move.region[-1] != slice(None)


def _copy_unit(plan: ShiftPlan, shape: tuple[int, ...]) -> int:
    """The largest number of last-dimension elements that always move together (1: none can be grouped).

    A plan that cuts the channel axis into folds of a few channels (TCS: 4 of every 32) and never
    shifts along it moves whole groups of ``gcd`` of its cuts.
    """
    ndim, cuts = len(shape), {shape[-1]}
    for move in plan.moves:
        if any(dim == ndim - 1 for dim, _ in move.offsets):
            return 1
        if len(move.region) == ndim:
            part = move.region[-1]
            if part.step not in (None, 1) or (part.start or 0) < 0 or (part.stop or 0) < 0:
                return 1
            cuts |= {part.start or 0, shape[-1] if part.stop is None else part.stop}
    return math.gcd(*cuts)


_WIDE_DTYPES = (torch.complex128, torch.float64, torch.float32, torch.int16)


def _wide_view(x: Tensor, unit: int) -> Tensor:
    """``x`` viewed through the widest element type (up to 16 bytes) that whole copy units allow.

    Bits are copied, never computed on, so any type of the right width serves.
    """
    for dtype in _WIDE_DTYPES:
        ratio = dtype.itemsize // x.element_size()
        if dtype.itemsize > x.element_size() and unit % ratio == 0:
            try:
                return x.view(dtype)
            except RuntimeError:  # strides or offset not divisible: try a narrower element
                continue
    return x


def _scaled(piece: tuple[slice, ...], ratio: int) -> tuple[slice, ...]:
    """A piece of the narrow tensor as the same piece of its wide view (the last dimension divided)."""
    last = piece[-1]
    start = None if last.start is None else last.start // ratio
    return (*piece[:-1], slice(start, None if last.stop is None else last.stop // ratio))


def _view_of(index: tuple[slice, ...], shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple:
    """Sizes, strides and offset of ``tensor[index]`` for a tensor of ``shape`` and ``strides``."""
    sizes, steps, offset = [], [], 0
    for part, size, stride in zip(index, shape, strides, strict=True):
        start, stop, step = part.indices(size)
        sizes.append(len(range(start, stop, step)))
        steps.append(stride * step)
        offset += start * stride
    return tuple(sizes), tuple(steps), offset


def _touched_dims(plan: ShiftPlan) -> int:
    """How many leading dimensions the plan's regions or offsets involve; the rest move as whole rows."""
    last = 0
    for move in plan.moves:
        for dim, part in enumerate(move.region):
            if part != slice(None):
                last = max(last, dim)
        for dim, _ in move.offsets:
            last = max(last, dim)
    return last + 1


def source_index(plan: ShiftPlan, shape: tuple[int, ...], xp: Any = torch, **factory: Any) -> Any:
    """For each position of one sample of ``shape`` (the sizes of dimensions 1, 2, …), 1 + the flat
    position it reads, or 0 where it reads a zero: the plan as integer arithmetic on whole arrays.

    ``xp`` is the array library, ``torch`` (``factory``: e.g. ``device=``) or ``numpy``: the same arithmetic gives
    the eager programs their index on the tensors' device, and tracers a constant computed on the host (an index
    computed with torch while tracing would be recorded into the exported graph and recomputed at every run).
    """
    zero = xp.zeros(shape, dtype=xp.int64, **factory)
    coordinates = [
        xp.arange(size, **factory).reshape([-1] + [1] * (len(shape) - axis - 1)) for axis, size in enumerate(shape)
    ]
    strides = [math.prod(shape[axis + 1 :]) for axis in range(len(shape))]
    flat = sum((i * stride for i, stride in zip(coordinates, strides, strict=True)), zero)  # each position's own
    index = zero
    for move in plan.moves:
        # dimensions past ``shape`` are whole in every region (a region may still name them, as slice(None))
        region, offsets = _full_region(move, len(shape) + 1)[1 : len(shape) + 1], dict(move.offsets)
        inside, reads, position = zero == 0, zero == 0, flat
        for axis, (size, part, i) in enumerate(zip(shape, region, coordinates, strict=True)):
            if part != slice(None):
                start, stop, step = part.indices(size)
                inside = inside & (i >= start) & (i < stop) & ((i - start) % step == 0)
            offset = offsets.get(axis + 1, 0)
            if not offset:
                continue
            if plan.boundary == "cyclic":
                j = (i + offset % size) % size
            else:
                j = i + offset
                in_range = (j >= 0) & (j < size)
                if plan.boundary == "edge":
                    j = xp.where(in_range, j, i)
                else:
                    reads = reads & in_range
            position = position + (j - i) * strides[axis]
        index = xp.where(inside, xp.where(reads, position + 1, 0), index)
    return index.reshape(-1)


def _gather(x: Tensor, plan: ShiftPlan) -> Tensor:
    """The plan as one gather over rows: the form tracers, exporters and compilers translate exactly.

    Dimension 0 (the batch) is never moved, so the index covers one sample and the batch size
    stays free; trailing dimensions the plan never touches travel as whole rows.
    """
    touched = _touched_dims(plan)
    index = torch.from_numpy(source_index(plan, tuple(int(n) for n in x.shape[1:touched]), np)).to(x.device)
    rows = x.reshape(-1, index.numel(), math.prod(x.shape[touched:]))  # (batch, rows, row length)
    padded = torch.nn.functional.pad(rows, (0, 0, 1, 0))  # a zero row in front: index 0 reads zeros
    return padded.index_select(1, index).reshape(-1, *x.shape[1:])


# One strided copy: sizes, destination strides and offset, source strides and offset (None: fill
# with zeros). Offsets are in elements from the start of the storage.
StridedCopy = tuple[tuple[int, ...], tuple[int, ...], int, tuple[int, ...] | None, int | None]


@dataclass(frozen=True)
class _Program:
    """A plan compiled for one shape, layout, dtype and device: what :func:`apply_shift` runs.

    Either ``rows``, an index of whole rows for the whole batch (cyclic plans, contiguous input),
    or strided ``copies`` on ``x`` (viewed as the wider element type ``view`` if set), after a
    whole copy of ``x`` if ``over_copy``.
    """

    rows: Tensor | None = None
    view: torch.dtype | None = None
    over_copy: bool = False
    copies: tuple[StridedCopy, ...] = ()

    def run(self, x: Tensor) -> Tensor:
        if self.rows is not None:
            return x.reshape(self.rows.numel(), -1).index_select(0, self.rows).view(x.shape)
        source = x if self.view is None else x.view(self.view)
        out = source.clone() if self.over_copy else torch.empty_like(source)
        for sizes, dst_strides, dst_offset, src_strides, src_offset in self.copies:
            dst = out.as_strided(sizes, dst_strides, dst_offset)
            if src_offset is None:
                dst.zero_()
            else:
                dst.copy_(source.as_strided(sizes, src_strides, source.storage_offset() + src_offset))
        return out.view(x.dtype)


def _compile_copies(plan: ShiftPlan, x: Tensor) -> _Program:
    shape = tuple(x.shape)
    over_copy = any(not m.offsets and _splits_last_dim(m, len(shape)) for m in plan.moves)
    source = _wide_view(x, _copy_unit(plan, shape))
    ratio = source.element_size() // x.element_size()
    wide_shape = tuple(source.shape)
    out_strides = torch.empty_like(source, device="meta").stride()
    copies = []
    for dst, src in (p for m in plan.moves for p in _move_pieces(m, shape, plan.boundary, over_copy)):
        if ratio > 1:
            dst, src = _scaled(dst, ratio), None if src is None else _scaled(src, ratio)
        sizes, dst_strides, dst_offset = _view_of(dst, wide_shape, out_strides)
        if not math.prod(sizes):
            continue
        src_view = (None, None) if src is None else _view_of(src, wide_shape, source.stride())[1:]
        copies.append((sizes, dst_strides, dst_offset, *src_view))
    return _Program(view=None if ratio == 1 else source.dtype, over_copy=over_copy, copies=tuple(copies))


def _compile_rows(plan: ShiftPlan, x: Tensor) -> _Program:
    touched = _touched_dims(plan)
    sample = source_index(plan, tuple(x.shape[1:touched]), torch, device=x.device) - 1
    batch_starts = torch.arange(x.shape[0], device=x.device)[:, None] * sample.numel()
    return _Program(rows=(batch_starts + sample).reshape(-1))


_PROGRAMS: _BoundedCache = _BoundedCache()


def _program(plan: ShiftPlan, x: Tensor) -> _Program:
    """The plan compiled for ``x``'s shape, strides, storage alignment, dtype and device (cached)."""
    key = (plan.key, x.shape, x.stride(), x.storage_offset() % 16, x.dtype, x.device)
    program = _PROGRAMS.get(key)
    if program is None:
        if plan.boundary == "cyclic" and x.is_contiguous():
            program = _compile_rows(plan, x)
        else:
            program = _compile_copies(plan, x)
        _PROGRAMS[key] = program
    return program


def _add_kept_edges(grad_x: Tensor, grad: Tensor, plan: ShiftPlan) -> Tensor:
    """Add the gradient of the positions that an "edge" plan left in place (in place on ``grad_x``)."""
    for move in plan.moves:
        for dim, offset in move.offsets:
            _, fill = _axis_pieces(grad.shape[dim], offset, "edge")
            if fill is not None:
                index = (slice(None),) * dim + (fill,)
                grad_x[move.region][index] += grad[move.region][index]
    return grad_x


class _Shift(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, plan: ShiftPlan) -> Tensor:  # type: ignore[override]
        ctx.plan = plan
        return _program(plan, x).run(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        plan: ShiftPlan = ctx.plan
        grad_x = apply_shift(grad, plan.transposed())
        if plan.boundary == "edge":
            grad_x = _add_kept_edges(grad_x, grad, plan)
        return grad_x, None


def apply_shift(x: Tensor, plan: ShiftPlan) -> Tensor:
    """Render ``plan`` on ``x``: a new tensor of the same shape, dtype, device and memory format.

    Under ``torch.compile``, ONNX export or TorchScript tracing, which mistranslate in-place writes
    into views, the plan is emitted as one gather with an index computed from the plan (exact,
    batch size left free, differentiated natively). Without autograd (inference, or an input that
    needs no gradient) the autograd node is skipped.
    """
    if torch.compiler.is_compiling() or torch.onnx.is_in_onnx_export() or torch.jit.is_tracing():
        return _gather(x, plan)
    if x.requires_grad and torch.is_grad_enabled():
        return _Shift.apply(x, plan)
    return _program(plan, x).run(x)
