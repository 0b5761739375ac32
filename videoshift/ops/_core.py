"""The one shift core behind every operator in :mod:`videoshift.ops`.

A zero-parameter shift is a fixed rearrangement of a tensor: cut it into boxes (channel ranges,
strided spatial positions) and move each box by integer offsets along some axes, so that along
an axis with offset ``o`` the output reads ``out[i] ← x[i + o]``. Where ``i + o`` falls outside
the axis, a :class:`ShiftPlan`'s boundary rule decides:

- ``"zeros"``: the output is 0 there (TSM, STSM);
- ``"edge"``: the output keeps the input's own value there (the TCS of the released PST code);
- ``"cyclic"``: the index wraps around, ``x[(i + o) mod n]`` (TPS patch shift).

:func:`apply_shift` renders a plan into one new tensor without loops over frames, choosing how
to move the bytes from the plan's shape (measured with ``videoshift bench ops``):

- slice copies into one ``empty_like`` output, one or two per move and axis (TSM, STSM);
- the same after one whole-tensor copy when the unmoved channels are interleaved with moved ones
  in every row (TCS), so only the moved parts are written twice;
- copies on a wider element view of the channel axis where the plan's cuts allow (4 float32
  channels as one complex128), since copy kernels step one element at a time;
- one ``index_select`` of whole rows for cyclic plans, which are permutations (TPS), so the
  output is written in order instead of in strides of C.

A plan is compiled once per shape (and layout) into cached steps, each run as two ``as_strided``
views and one copy, so a call costs a few tens of microseconds of Python however many moves the
plan has; without autograd the ``autograd.Function`` node is skipped.

The gradient is the same core run with the transposed plan (one more pass over the gradient);
it is itself differentiable, so double backward works too. Under ONNX export or TorchScript
tracing the plan is emitted as one gather with a constant index, which exporters translate
exactly; under ``torch.compile`` only plain slice copies are traced.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import Tensor

Boundary = Literal["zeros", "edge", "cyclic"]
BOUNDARIES: tuple[str, ...] = ("zeros", "edge", "cyclic")
Array = Tensor | np.ndarray


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
    """A least-recently-used cache of compiled plans: shapes vary (last batches, test views), memory must not grow."""

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


def _axis_index(dim: int, piece: slice) -> tuple[slice, ...]:
    return (slice(None),) * dim + (piece,)


# One step of a rendering: out[destination] = x[source], or 0 where the source is None.
Step = tuple[tuple[slice, ...], tuple[slice, ...] | None]


@dataclass(frozen=True)
class _Program:
    """A plan compiled for one shape: slice assignments, after a whole copy of ``x`` if ``over_copy``."""

    over_copy: bool
    steps: tuple[Step, ...]


def _move_steps(move: Move, shape: tuple[int, ...], boundary: str, over_copy: bool) -> list[Step]:
    """The assignments that write one move; with ``over_copy`` the output already holds a copy of ``x``."""
    region = list(move.region) + [slice(None)] * (len(shape) - len(move.region))
    if not move.offsets:
        return [] if over_copy else [(tuple(region), tuple(region))]
    pieces = [_axis_pieces(shape[dim], offset, boundary) for dim, offset in move.offsets]
    steps: list[Step] = []
    for combination in itertools.product(*(copies for copies, _ in pieces)):
        dst, src = list(region), list(region)
        for (dim, _), (dst_piece, src_piece) in zip(move.offsets, combination, strict=True):
            dst[dim], src[dim] = dst_piece, src_piece
        steps.append((tuple(dst), tuple(src)))
    for (dim, _), (_, fill) in zip(move.offsets, pieces, strict=True):
        if fill is None or (over_copy and boundary == "edge"):
            continue
        index = list(region)
        index[dim] = fill
        steps.append((tuple(index), None if boundary == "zeros" else tuple(index)))  # "edge": keep own value
    return steps


def _splits_last_dim(move: Move, ndim: int) -> bool:
    return len(move.region) == ndim and move.region[-1] != slice(None)


_PROGRAMS: _BoundedCache = _BoundedCache()


def _program(plan: ShiftPlan, shape: tuple[int, ...]) -> _Program:
    """The plan's assignments for ``shape``, built once and cached.

    When the unmoved part of the plan is interleaved with moved channels in every row (regions
    that split the last dimension), the tensor is first copied whole, which is contiguous and
    fast, and only the moved parts are written over it.
    """
    key = (plan.key, shape)
    program = _PROGRAMS.get(key)
    if program is None:
        over_copy = any(not m.offsets and _splits_last_dim(m, len(shape)) for m in plan.moves)
        steps = [step for m in plan.moves for step in _move_steps(m, shape, plan.boundary, over_copy)]
        program = _Program(over_copy, tuple(steps))
        if not torch.compiler.is_compiling():  # a traced function must not write to module state
            _PROGRAMS[key] = program
    return program


def _wide_dtypes(plan: ShiftPlan, shape: tuple[int, ...], dtype: torch.dtype) -> tuple[torch.dtype, ...]:
    """Up to 16-byte element types that the plan's cuts of the last dimension allow, widest first.

    A plan that cuts the channel axis into folds of a few channels (TCS: 4 of every 32) copies
    16-byte pieces; the copy kernels move one element per step, so viewing 4 float32 as one
    complex128 makes those copies several times cheaper. Bits are copied, never computed on.
    """
    ndim, last = len(shape), shape[-1]
    cuts = {last}
    for move in plan.moves:
        if len(move.region) == ndim:
            part = move.region[-1]
            if part.step not in (None, 1) or (part.start or 0) < 0 or (part.stop or 0) < 0:
                return ()
            cuts |= {part.start or 0, last if part.stop is None else part.stop}
        if any(dim == ndim - 1 for dim, _ in move.offsets):
            return ()
    unit = math.gcd(*cuts)
    wide = (torch.complex128, torch.float64, torch.float32, torch.int16)
    return tuple(d for d in wide if d.itemsize > dtype.itemsize and unit % (d.itemsize // dtype.itemsize) == 0)


def _rescale_last_dim(plan: ShiftPlan, ndim: int, ratio: int) -> ShiftPlan:
    def scale(part: slice) -> slice:
        return slice(
            None if part.start is None else part.start // ratio, None if part.stop is None else part.stop // ratio
        )

    moves = tuple(
        Move((*m.region[:-1], scale(m.region[-1])) if len(m.region) == ndim else m.region, m.offsets)
        for m in plan.moves
    )
    return ShiftPlan(moves, plan.boundary)


_WIDE_PLANS: _BoundedCache = _BoundedCache()


def _wide_plans(plan: ShiftPlan, x: Tensor) -> tuple[tuple[torch.dtype, ShiftPlan], ...]:
    """Per allowed wide element type, the plan rescaled to it (cached per plan and shape)."""
    key = (plan.key, x.shape, x.dtype)
    plans = _WIDE_PLANS.get(key)
    if plans is None:
        dtypes = _wide_dtypes(plan, tuple(x.shape), x.dtype)
        plans = tuple((d, _rescale_last_dim(plan, x.dim(), d.itemsize // x.element_size())) for d in dtypes)
        _WIDE_PLANS[key] = plans
    return plans


# One step as a strided view of a tensor layout: sizes, strides, destination offset, source offset
# (None: fill with zeros). Offsets are in elements from the start of the tensor.
StridedStep = tuple[tuple[int, ...], tuple[int, ...], int, int | None]
_STRIDED_STEPS: _BoundedCache = _BoundedCache()


def _view_of(index: tuple[slice, ...], shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple:
    """Sizes, strides and offset of ``tensor[index]`` for a tensor of ``shape`` and ``strides``."""
    sizes, steps, offset = [], [], 0
    for part, size, stride in zip(index, shape, strides, strict=True):
        start, stop, step = part.indices(size)
        sizes.append(len(range(start, stop, step)))
        steps.append(stride * step)
        offset += start * stride
    return tuple(sizes), tuple(steps), offset


def _strided_steps(plan: ShiftPlan, shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[StridedStep, ...]:
    """The plan's steps as strided views for one layout (cached): one C++ call per view, no Python slicing."""
    key = (plan.key, shape, strides)
    steps = _STRIDED_STEPS.get(key)
    if steps is None:
        steps = []
        for dst, src in _program(plan, shape).steps:
            sizes, step_strides, dst_offset = _view_of(dst, shape, strides)
            src_offset = None if src is None else _view_of(src, shape, strides)[2]
            if math.prod(sizes):
                steps.append((sizes, step_strides, dst_offset, src_offset))
        steps = _STRIDED_STEPS[key] = tuple(steps)
    return steps


def _run(x: Array, plan: ShiftPlan) -> Array:
    shape = tuple(x.shape)
    program = _program(plan, shape)
    if isinstance(x, np.ndarray):
        out = x.copy() if program.over_copy else np.empty_like(x)
    else:
        out = x.clone() if program.over_copy else torch.empty_like(x)
        if not torch.compiler.is_compiling() and out.stride() == x.stride():
            base = x.storage_offset()
            for sizes, strides, dst_offset, src_offset in _strided_steps(plan, shape, x.stride()):
                dst = out.as_strided(sizes, strides, dst_offset)
                if src_offset is None:
                    dst.zero_()
                else:
                    dst.copy_(x.as_strided(sizes, strides, base + src_offset))
            return out
    for dst, src in program.steps:
        out[dst] = 0 if src is None else x[src]
    return out


def _render(x: Array, plan: ShiftPlan) -> Array:
    """Render ``plan`` on a tensor or a NumPy array (the same slicing serves both).

    Tensors are copied through the widest element view the plan and their strides allow.
    """
    if isinstance(x, Tensor) and not torch.compiler.is_compiling():
        for dtype, wide_plan in _wide_plans(plan, x):
            try:
                wide = x.view(dtype)
            except RuntimeError:  # strides or offset not divisible: try a narrower element
                continue
            return _run(wide, wide_plan).view(x.dtype)
    return _run(x, plan)


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


def _source_rows(plan: ShiftPlan, row_shape: tuple[int, ...]) -> np.ndarray:
    """For each output row of one sample, 1 + the input row it reads (0: a zero row), flattened."""
    rows = np.arange(1, math.prod(row_shape) + 1, dtype=np.int64).reshape(1, *row_shape)
    return _render(rows, plan).reshape(-1)


def _gather(x: Tensor, plan: ShiftPlan) -> Tensor:
    """The plan as one gather over rows with a constant index: the form exporters translate exactly.

    Dimension 0 (the batch) is never moved, so the index covers one sample and the batch size
    stays free; trailing dimensions the plan never touches travel as whole rows.
    """
    touched = _touched_dims(plan)
    index = torch.from_numpy(_source_rows(plan, tuple(x.shape[1:touched])))
    rows = x.reshape(-1, index.numel(), math.prod(x.shape[touched:]))  # (batch, rows, row length)
    padded = torch.nn.functional.pad(rows, (0, 0, 1, 0))  # a zero row in front: index 0 reads zeros
    return padded.index_select(1, index).reshape(-1, *x.shape[1:])


_ROW_INDEX_CACHE: _BoundedCache = _BoundedCache()


def _permute_rows(x: Tensor, plan: ShiftPlan) -> Tensor:
    """A cyclic plan (a permutation) as one ``index_select`` of whole rows, output written in order.

    Patch shifts move tokens of C channels between frames; one copy per pattern cell visits memory
    in strides of C, while a row gather writes the output sequentially, about twice as fast on CPU.
    The gather runs on dimension 0 of a ``(rows, row length)`` view, the form PyTorch's CPU kernel
    parallelises over threads. The index, for the whole batch, is built once per plan and shape by
    rendering the plan on row numbers.
    """
    touched = _touched_dims(plan)
    row_shape = tuple(x.shape[1:touched])
    key = (plan.key, x.shape[0], row_shape, x.device)
    index = _ROW_INDEX_CACHE.get(key)
    if index is None:
        sample = torch.from_numpy(_source_rows(plan, row_shape) - 1)
        batch_starts = torch.arange(x.shape[0])[:, None] * sample.numel()
        index = _ROW_INDEX_CACHE[key] = (batch_starts + sample).reshape(-1).to(x.device)
    rows = x.reshape(index.numel(), math.prod(x.shape[touched:]))  # (batch · rows, row length)
    return rows.index_select(0, index).view(x.shape)


def _add_kept_edges(grad_x: Tensor, grad: Tensor, plan: ShiftPlan) -> Tensor:
    """Add the gradient of the positions that an "edge" plan left in place (in place on ``grad_x``)."""
    for move in plan.moves:
        for dim, offset in move.offsets:
            _, fill = _axis_pieces(grad.shape[dim], offset, "edge")
            if fill is not None:
                index = _axis_index(dim, fill)
                grad_x[move.region][index] += grad[move.region][index]
    return grad_x


def _forward(x: Tensor, plan: ShiftPlan) -> Tensor:
    if plan.boundary == "cyclic" and not torch.compiler.is_compiling():
        return _permute_rows(x, plan)
    return _render(x, plan)


class _Shift(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, plan: ShiftPlan) -> Tensor:  # type: ignore[override]
        ctx.plan = plan
        return _forward(x, plan)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        plan: ShiftPlan = ctx.plan
        grad_x = apply_shift(grad, plan.transposed())
        if plan.boundary == "edge":
            grad_x = _add_kept_edges(grad_x, grad, plan)
        return grad_x, None


def apply_shift(x: Tensor, plan: ShiftPlan) -> Tensor:
    """Render ``plan`` on ``x``: a new tensor of the same shape, dtype, device and memory format.

    Under ONNX export or TorchScript tracing, which mistranslate in-place writes into slices, the
    same plan is emitted as one gather with a constant index (exact, batch size left free).
    Without autograd (inference, or an input that needs no gradient) the autograd node is skipped.
    """
    if torch.onnx.is_in_onnx_export() or torch.jit.is_tracing():
        return _gather(x, plan)
    if x.requires_grad and torch.is_grad_enabled():
        return _Shift.apply(x, plan)
    return _forward(x, plan)
