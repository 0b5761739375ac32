"""The shift core on its own: random plans of every kind against a naive reading of the plan.

The operator tests check each operator's plans; these check the core for any plan the
:class:`ShiftPlan` contract allows (channel cuts, strided residues, several shifted axes,
unmoved boxes, negative slice bounds, offsets past the axis), in every memory layout and element
type, through each program form, the traced gather and autograd, and pin the program form each
operator gets (the forms give equal outputs, so only this test notices a lost form).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.ops_reference import backward, forward
from videoshift.ops import _core, patch_shift, pst_channel_shift, spatiotemporal_shift, temporal_shift
from videoshift.ops._core import BOUNDARIES, Move, ShiftPlan, apply_shift, source_index


def plan_rule(plan: ShiftPlan, shape: tuple[int, ...]):
    """The plan read naively: the one move whose region holds an index decides where it reads."""

    def source(index):
        for move in plan.moves:
            region = list(move.region) + [slice(None)] * (len(shape) - len(move.region))
            if all(i in range(*part.indices(n)) for i, part, n in zip(index, region, shape, strict=True)):
                src = list(index)
                for dim, offset in move.offsets:
                    j = index[dim] + offset
                    if plan.boundary == "cyclic":
                        j %= shape[dim]
                    elif not 0 <= j < shape[dim]:
                        if plan.boundary == "zeros":
                            return None
                        j = index[dim]  # "edge": the position keeps its own value
                    src[dim] = j
                return tuple(src)
        raise AssertionError(f"{index} lies in no move's region")

    return source


def _cuts(draw, size: int) -> list[slice]:
    """One axis cut into contiguous ranges (bounds written as None or counted from the end at times)."""
    points = sorted(draw(st.sets(st.integers(1, size - 1), max_size=3))) if size > 1 else []
    bounds = [0, *points, size]
    style = draw(st.sampled_from(["plain", "none", "negative"]))
    parts = []
    for start, stop in itertools.pairwise(bounds):
        if style == "none":
            parts.append(slice(None if start == 0 else start, None if stop == size else stop))
        elif style == "negative":
            parts.append(slice(start - size, None if stop == size else stop - size))
        else:
            parts.append(slice(start, stop))
    return parts


@st.composite
def plans(draw) -> tuple[ShiftPlan, tuple[int, ...]]:
    """A shape and a plan whose moves partition it: the product of one or two axes' partitions."""
    ndim = draw(st.integers(2, 5))
    inner = tuple(draw(st.integers(1, 4)) for _ in range(ndim - 2))
    shape = (draw(st.integers(1, 2)), *inner, draw(st.integers(1, 12)))
    boundary = draw(st.sampled_from(BOUNDARIES))
    cut_dims = sorted(draw(st.sets(st.integers(1, ndim - 1), max_size=2)))
    partitions = []
    for dim in cut_dims:
        if draw(st.booleans()):
            partitions.append(_cuts(draw, shape[dim]))
        else:  # strided residues, as patch shift cuts the spatial grid
            step = draw(st.integers(1, 3))
            partitions.append([slice(r, None, step) for r in range(step)])
    free = [dim for dim in range(1, ndim) if dim not in cut_dims]
    moves = []
    for parts in itertools.product(*partitions):
        region = [slice(None)] * (max(cut_dims, default=-1) + 1)
        for dim, part in zip(cut_dims, parts, strict=True):
            region[dim] = part
        dims = sorted(draw(st.sets(st.sampled_from(free), max_size=1 if boundary == "edge" else 2))) if free else []
        offsets = tuple((dim, draw(st.integers(-shape[dim] - 1, shape[dim] + 1))) for dim in dims)
        moves.append(Move(tuple(region), offsets))
    return ShiftPlan(tuple(draw(st.permutations(moves))), boundary), shape  # a partition in any order


def layouts(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The same values in four memories: contiguous, permuted, odd storage offset, not dense."""
    order = list(reversed(range(x.ndim)))
    inverse = [order.index(d) for d in range(x.ndim)]
    storage = torch.zeros(x.numel() + 1, dtype=x.dtype)
    storage[1:] = x.reshape(-1)
    return {
        "contiguous": x,
        "permuted": x.permute(order).contiguous().permute(inverse),
        "offset": storage[1:].view(x.shape),
        "not dense": torch.cat([x, x], -1)[..., : x.shape[-1]],
    }


DTYPES = [torch.float32, torch.float16, torch.float64, torch.int8, torch.int64, torch.bool]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(case=plans(), dtype=st.sampled_from(DTYPES))
def test_any_plan_matches_the_naive_reading(case, dtype):
    plan, shape = case
    rule = plan_rule(plan, shape)
    x = torch.randint(-100, 100, shape).to(dtype)
    expected = forward(x, rule)
    for layout, xl in layouts(x).items():
        out = apply_shift(xl, plan)
        assert out.dtype == dtype and out.shape == x.shape
        assert torch.equal(out, expected), (layout, plan)
        if layout == "permuted":  # a dense input keeps its memory format
            assert out.stride() == xl.stride(), plan
        assert torch.equal(_core._gather(xl, plan), expected), (layout, plan)
    assert torch.equal(x, layouts(x)["contiguous"])  # the input is never written


def _hand_picked_plans():
    """Each boundary with boxes cut along a middle axis (no whole copy first) and along the last axis, moved along
    the other axis, with an unmoved box, listed last-box-first."""
    whole = slice(None)
    for boundary in BOUNDARIES:
        middle = (
            Move((whole, slice(2, 3)), ()),
            Move((whole, slice(1, 2)), ((2, -1),)),
            Move((whole, slice(0, 1)), ((2, 2),)),
        )
        last = (Move((whole, whole, slice(4, 6)), ()), Move((whole, whole, slice(0, 4)), ((1, 1),)))
        yield ShiftPlan(middle, boundary), (2, 3, 5)
        yield ShiftPlan(last, boundary), (2, 3, 6)


@pytest.mark.parametrize("case", list(_hand_picked_plans()), ids=lambda case: f"{case[0].boundary}-{case[1]}")
def test_hand_picked_plans_match_the_naive_reading(case):
    plan, shape = case
    x = torch.randn(shape, dtype=torch.float64)
    for xl in layouts(x).values():
        assert torch.equal(apply_shift(xl, plan), forward(x, plan_rule(plan, shape))), plan


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=plans())
def test_any_plan_differentiates_as_the_naive_reading(case):
    plan, shape = case
    rule = plan_rule(plan, shape)
    x = torch.randn(shape, dtype=torch.float64)
    grad = torch.randn(shape, dtype=torch.float64)
    expected = backward(grad, rule)
    for layout, xl in layouts(x).items():
        for shift in (apply_shift, _core._gather):
            leaf = xl.detach().requires_grad_(True)
            shift(leaf, plan).backward(grad)
            torch.testing.assert_close(leaf.grad, expected, rtol=1e-12, atol=1e-12, msg=f"{layout} {plan}")


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_double_backward(boundary):
    moves = (
        Move((slice(None), slice(None), slice(0, 2)), ((1, 1),)),
        Move((slice(None), slice(None), slice(2, 3)), ((1, -2),)),
        Move((slice(None), slice(None), slice(3, None)), ()),
    )
    plan = ShiftPlan(moves, boundary)
    x = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: apply_shift(t, plan), (x,))
    assert torch.autograd.gradgradcheck(lambda t: apply_shift(t, plan), (x,))


def test_source_index_by_hand():
    # (batch, T=3, C=2): channel 0 reads the next frame, channel 1 the previous; 1 + flat position, 0 = zero.
    moves = (
        Move((slice(None), slice(None), slice(0, 1)), ((1, 1),)),
        Move((slice(None), slice(None), slice(1, 2)), ((1, -1),)),
    )
    expected = {"zeros": [3, 0, 5, 2, 0, 4], "edge": [3, 2, 5, 2, 5, 4], "cyclic": [3, 6, 5, 2, 1, 4]}
    for boundary, index in expected.items():
        assert source_index(ShiftPlan(moves, boundary), (3, 2)).tolist() == index, boundary
        assert source_index(ShiftPlan(moves, boundary), (3, 2), np).tolist() == index, boundary


def test_plan_contract_errors_and_transpose():
    move = Move((slice(None), slice(0, 1)), ((2, 1), (3, -1)))
    with pytest.raises(ValueError, match=r"^boundary must be one of \('zeros', 'edge', 'cyclic'\), got 'wrap'$"):
        ShiftPlan((move,), "wrap")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^boundary='edge' supports one shifted dimension per move$"):
        ShiftPlan((move,), "edge")
    one_axis = Move((slice(None), slice(0, 1)), ((2, 3),))
    assert ShiftPlan((one_axis,), "edge").transposed() == ShiftPlan((Move(one_axis.region, ((2, -3),)),), "zeros")
    assert ShiftPlan((move,), "cyclic").transposed() == ShiftPlan((Move(move.region, ((2, -1), (3, 1))),), "cyclic")
    assert ShiftPlan((move,)).boundary == "zeros"
    # Equal plans share one cache key; a different slice or boundary does not.
    assert ShiftPlan((move,)).key == ShiftPlan((Move((slice(None), slice(0, 1)), ((2, 1), (3, -1))),)).key
    assert ShiftPlan((move,)).key != ShiftPlan((Move((slice(None), slice(0, 2)), move.offsets),)).key
    assert ShiftPlan((move,)).key != ShiftPlan((move,), "cyclic").key


def test_program_cache_is_least_recently_used():
    cache = _core._BoundedCache(maxsize=2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1  # "a" is now the most recent
    cache["c"] = 3
    assert list(cache) == ["a", "c"] and cache.get("b", "missing") == "missing"
    cache["a"] = 4  # overwriting refreshes too
    cache["d"] = 5
    assert list(cache) == ["a", "d"] and cache.get("a") == 4
    assert _core._BoundedCache().maxsize == 256


def test_compiled_plan_caches_stay_bounded():
    _core._PROGRAMS.clear()
    for frames in range(1, 301):  # 300 shapes, more than a cache holds
        temporal_shift(torch.zeros(frames, 8, 1, 1), frames)
    assert len(_core._PROGRAMS) == _core._PROGRAMS.maxsize == 256
    x = torch.randn(2 * 4, 8, 3, 3)
    torch.testing.assert_close(temporal_shift(x, 4), temporal_shift(x.clone(), 4), rtol=0, atol=0)


def _program_of(operator, x: torch.Tensor) -> _core._Program:
    """The program an operator compiles for ``x`` (caught where the core runs it)."""
    programs = []
    original = _core._Program.run

    def run(self, tensor):
        programs.append(self)
        return original(self, tensor)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_core._Program, "run", run)
        operator(x)
    (program,) = programs
    return program


def test_programs_take_the_measured_forms():
    """Each operator's program has the form docs/shift-core.md measured as fastest for it."""
    tokens = torch.randn(1, 4, 7, 7, 96)  # (B, T, H, W, C)
    tcs = _program_of(lambda x: pst_channel_shift(x, 3), tokens)  # 3 heads of 32, folds of 4 channels
    assert tcs.view == torch.complex128 and tcs.over_copy and tcs.rows is None
    # Two copies in complex units of one fold (4 channels), every head at once on the (B, T, H*W, heads, head_dim)
    # view: the first fold reads the previous frame, the second the next; the edge frames keep the whole copy.
    first, second = tcs.copies
    assert first[:3] == ((1, 3, 49, 3, 1), (4704, 1176, 24, 8, 1), 1176) and first[4] == 0
    assert second[:3] == ((1, 3, 49, 3, 1), (4704, 1176, 24, 8, 1), 1) and second[4] == 1176 + 1

    # TSM on (N*T, C, H, W) moves whole channels: rows of W elements, four float32 of them one complex128.
    tsm = _program_of(lambda x: temporal_shift(x, 4), torch.randn(8, 64, 4, 4))
    assert tsm.view == torch.complex128 and not tsm.over_copy and tsm.rows is None
    assert _program_of(lambda x: temporal_shift(x, 4), torch.randn(8, 64, 3, 3)).view is None  # W = 3: no wider unit

    patches = _program_of(lambda x: patch_shift(x, "A"), tokens)
    assert patches.rows is not None and patches.copies == ()
    assert sorted(patches.rows.tolist()) == list(range(4 * 7 * 7))  # a permutation of the rows

    odd = _program_of(lambda x: pst_channel_shift(x, 3), torch.randn(1, 4, 7, 7, 97)[..., 1:])  # unaligned start
    assert odd.view is None and odd.rows is None

    eight = _program_of(lambda x: pst_channel_shift(x, 3), torch.randn(1, 4, 7, 7, 98)[..., 2:])  # 8-byte aligned
    assert eight.view == torch.float64

    stsm = _program_of(lambda x: spatiotemporal_shift(x, 4), torch.randn(8, 16, 3, 3))
    assert stsm.rows is None


def test_whole_copy_first_only_under_unmoved_boxes(monkeypatch):
    """Only unmoved boxes that split the channel axis make the output start as a copy; otherwise it starts empty."""
    whole = (slice(None), slice(None))
    halves = ShiftPlan((Move((*whole, slice(0, 4)), ((1, 1),)), Move((*whole, slice(4, 8)), ((1, -1),))))
    x = torch.randn(2, 3, 8)
    assert not _core._compile_copies(halves, x).over_copy
    clones = []
    clone = torch.Tensor.clone
    monkeypatch.setattr(torch.Tensor, "clone", lambda self, *a, **k: clones.append(1) or clone(self, *a, **k))
    expected = forward(x, plan_rule(halves, tuple(x.shape)))
    assert torch.equal(apply_shift(x, halves), expected) and clones == []
    kept = ShiftPlan((Move((*whole, slice(0, 4)), ((1, 1),)), Move((*whole, slice(4, 8)), ())))
    assert _core._compile_copies(kept, x).over_copy
    assert torch.equal(apply_shift(x, kept), forward(x, plan_rule(kept, tuple(x.shape)))) and clones == [1]


def test_programs_are_compiled_once_per_shape_layout_and_alignment(monkeypatch):
    compiled = []
    compile_copies = _core._compile_copies
    monkeypatch.setattr(
        _core, "_compile_copies", lambda plan, x: compiled.append(x.storage_offset()) or compile_copies(plan, x)
    )
    _core._PROGRAMS.clear()
    storage = torch.randn(64 * 2 + 17)
    for offset in (0, 0, 16, 17, 17, 1):  # offsets 16 floats apart have the same alignment, so the same program
        x = storage[offset : offset + 128].view(1, 2, 4, 16)
        assert torch.equal(pst_channel_shift(x, 1), pst_channel_shift(x.clone(), 1))
    assert compiled == [0, 17]  # the clones lie at offset 0: the first program serves them too


def test_copy_unit_by_hand():
    def plan(*cuts, offsets=((1, 1),)):
        return ShiftPlan(tuple(Move((slice(None),) * 4 + (cut,), offsets) for cut in cuts))

    shape = (1, 4, 2, 2, 24)
    assert _core._copy_unit(plan(slice(0, 8), slice(8, 12), slice(12, None)), shape) == 4
    assert _core._copy_unit(plan(slice(None, 6), slice(6, None)), shape) == 6
    assert _core._copy_unit(plan(slice(0, 24)), shape) == 24
    assert _core._copy_unit(plan(slice(0, 9), slice(9, 24)), shape) == 3
    assert _core._copy_unit(plan(slice(0, 24, 2), slice(1, 24, 2)), shape) == 1  # a strided channel cut
    assert _core._copy_unit(plan(slice(0, 24, 4)), shape) == 1
    assert _core._copy_unit(plan(slice(0, 8, 1), slice(8, 24, 1)), shape) == 8  # step 1 written out
    assert _core._copy_unit(plan(slice(-8, None), slice(0, -8)), shape) == 1  # counted from the end
    assert _core._copy_unit(plan(slice(0, 24), offsets=((4, 1),)), shape) == 1  # a shift along the channels
    whole = ShiftPlan((Move((slice(None), slice(None)), ((1, 1),)),))
    assert _core._copy_unit(whole, shape) == 24  # regions shorter than the shape cut no channels


TRACERS = {"compile": (torch.compiler, "is_compiling"), "onnx": (torch.onnx, "is_in_onnx_export")}
TRACERS["jit"] = (torch.jit, "is_tracing")


@pytest.mark.parametrize("tracer", sorted(TRACERS))
def test_tracers_get_the_gather(tracer, monkeypatch):
    """Under any tracer the plan is emitted as the gather; eagerly, never."""
    calls = []
    monkeypatch.setattr(_core, "_gather", lambda x, plan: calls.append((x, plan)) or x)
    plan = ShiftPlan((Move((), ((1, 1),)),))
    x = torch.randn(1, 3, 2)
    apply_shift(x, plan)
    assert calls == []
    with monkeypatch.context() as patch:
        patch.setattr(*TRACERS[tracer], lambda: True)
        apply_shift(x, plan)
    assert len(calls) == 1 and calls[0][0] is x and calls[0][1] is plan


def test_autograd_node_only_when_a_gradient_flows(monkeypatch):
    calls = []
    original = _core._Shift.apply
    monkeypatch.setattr(_core._Shift, "apply", lambda *args: calls.append(1) or original(*args))
    plan = ShiftPlan((Move((), ((1, 1),)),))
    leaf = torch.randn(1, 3, 2, requires_grad=True)
    apply_shift(leaf.detach(), plan)
    with torch.no_grad():
        apply_shift(leaf, plan)
    assert calls == []
    assert apply_shift(leaf, plan).grad_fn is not None and calls == [1]
