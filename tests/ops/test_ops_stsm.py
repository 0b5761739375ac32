"""STSM, every dims variant, against an element-by-element reference with hand-computed group sizes."""

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ops_reference import backward, forward, stsm_rule

from videoshift.ops import STSM_VARIANTS, SpatioTemporalShift, TemporalShift, spatiotemporal_shift, temporal_shift
from videoshift.ops._core import apply_shift
from videoshift.ops.spatiotemporal import stsm_plan

# Channels per group for C=64, alpha=3/8 (24 channels move), by hand: floor(24/k), then down to
# a multiple of 2 (one axis) or 4 (two axes).
GROUPS_C64 = {
    "T": [("T", 24)],
    "H": [("H", 24)],
    "W": [("W", 24)],
    "H+W": [("H", 12), ("W", 12)],
    "HW": [("HW", 24)],
    "T+H+W": [("T", 8), ("H", 8), ("W", 8)],
    "T+HW": [("T", 12), ("HW", 12)],
    "T+H+W+HW": [("T", 6), ("H", 6), ("W", 6), ("HW", 4)],
    "TH+TW+HW": [("TH", 8), ("TW", 8), ("HW", 8)],
    "T+H+W+TH+TW+HW": [("T", 4), ("H", 4), ("W", 4), ("TH", 4), ("TW", 4), ("HW", 4)],
}


def test_every_paper_variant_is_covered():
    assert set(STSM_VARIANTS) == set(GROUPS_C64)


@pytest.mark.parametrize("dims", STSM_VARIANTS)
def test_stsm_matches_reference(dims):
    num_frames, height, width = 3, 3, 4
    x = torch.randn(num_frames, 64, height, width, requires_grad=True)
    rule = stsm_rule(num_frames, GROUPS_C64[dims], height, width)
    out = spatiotemporal_shift(x, num_frames, 3 / 8, dims)
    torch.testing.assert_close(out.detach(), forward(x, rule), rtol=0, atol=0)
    grad = torch.randn_like(out)
    out.backward(grad)
    torch.testing.assert_close(x.grad, backward(grad, rule), rtol=0, atol=0)


def test_two_axis_group_hand_values():
    # dims="HW", alpha=1, C=4: channel 0 reads (h+1, w+1), 1 (h+1, w-1), 2 (h-1, w+1), 3 (h-1, w-1).
    x = torch.arange(9, dtype=torch.float32).reshape(1, 1, 3, 3).repeat(1, 4, 1, 1)
    out = spatiotemporal_shift(x, 1, alpha=1.0, dims="HW")[0]
    torch.testing.assert_close(out[0], torch.tensor([[4.0, 5, 0], [7, 8, 0], [0, 0, 0]]))
    torch.testing.assert_close(out[1], torch.tensor([[0.0, 3, 4], [0, 6, 7], [0, 0, 0]]))
    torch.testing.assert_close(out[2], torch.tensor([[0.0, 0, 0], [1, 2, 0], [4, 5, 0]]))
    torch.testing.assert_close(out[3], torch.tensor([[0.0, 0, 0], [0, 0, 1], [0, 3, 4]]))


def test_dims_t_equals_temporal_shift():
    x = torch.randn(2 * 4, 64, 3, 3)
    # alpha=1/4 of 64 channels = 16 moved = two folds of 64 // 8.
    torch.testing.assert_close(
        spatiotemporal_shift(x, 4, alpha=1 / 4, dims="T"), temporal_shift(x, 4, 8), rtol=0, atol=0
    )


def test_group_order_follows_written_order():
    x = torch.randn(4, 64, 3, 3)
    rule = stsm_rule(4, [("W", 12), ("T", 12)], 3, 3)
    torch.testing.assert_close(spatiotemporal_shift(x, 4, 3 / 8, "W+T"), forward(x, rule), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dims": "T+X"}, "one or two distinct axes"),
        ({"dims": "THW"}, "one or two distinct axes"),
        ({"dims": "T+T"}, "appears twice"),
        ({"dims": "HW+WH"}, "appears twice"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1 / 16, "dims": "T+H+W+TH+TW+HW"}, "without channels"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spatiotemporal_shift(torch.zeros(4, 64, 3, 3), 4, **kwargs)


def test_frames_must_divide_batch():
    with pytest.raises(ValueError, match="multiple of num_frames"):
        spatiotemporal_shift(torch.zeros(6, 64, 3, 3), 4)


def test_module_holds_settings_only():
    module = SpatioTemporalShift(8, 3 / 8, "T+HW")
    assert sum(p.numel() for p in module.parameters()) == 0
    assert "num_frames=8, alpha=0.375, dims='T+HW'" in repr(module)
    with pytest.raises(ValueError, match="dims"):
        SpatioTemporalShift(8, dims="Q")


@settings(max_examples=25, deadline=None)
@given(
    dims=st.sampled_from(STSM_VARIANTS),
    num_frames=st.integers(1, 3),
    channels=st.integers(8, 40),
    alpha=st.sampled_from([1 / 4, 3 / 8, 1 / 2, 1.0]),
    size=st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_stsm_property(dims, num_frames, channels, alpha, size):
    groups = dims.split("+")
    share = int(alpha * channels) // len(groups)  # exact for these alphas and integer channels
    sizes = [share - share % (2 * len(group)) for group in groups]
    assume(min(sizes) > 0)
    x = torch.randn(num_frames, channels, *size)
    rule = stsm_rule(num_frames, list(zip(groups, sizes, strict=True)), *size)
    out = spatiotemporal_shift(x, num_frames, alpha, dims)
    torch.testing.assert_close(out, forward(x, rule), rtol=0, atol=0)


@pytest.mark.parametrize("layout", ["offset", "channels_last", "strided"])
def test_stsm_matches_reference_in_every_layout(layout):
    """The cached strided copies address views with a storage offset, other strides, and the slicing fallback."""
    num_frames, height, width = 3, 3, 4
    base = torch.randn(num_frames + 1, 64, height, width)
    x = {
        "offset": base[1:],  # dense, storage offset 64·3·4
        "channels_last": base[1:].contiguous(memory_format=torch.channels_last),
        "strided": torch.randn(num_frames, 64, height, 2 * width)[..., ::2],  # not dense: empty_like differs
    }[layout]
    rule = stsm_rule(num_frames, GROUPS_C64["T+H+W+HW"], height, width)
    out = spatiotemporal_shift(x, num_frames, 3 / 8, "T+H+W+HW")
    torch.testing.assert_close(out, forward(x.contiguous(), rule), rtol=0, atol=0)


@pytest.mark.parametrize("dims", ["T+H+W", "TH+TW+HW"])
def test_causal_stsm_matches_reference(dims):
    """The online variant never reads a later frame: +1 in time becomes -1, -1 becomes no move."""
    num_frames, height, width = 3, 3, 4
    groups = {"T+H+W": GROUPS_C64["T+H+W"], "TH+TW+HW": [("TH", 8), ("TW", 8), ("HW", 8)]}[dims]
    x = torch.randn(num_frames, 64, height, width)
    rule = stsm_rule(num_frames, groups, height, width, causal=True)
    expected = forward(x, rule)
    assert torch.equal(spatiotemporal_shift(x, num_frames, 3 / 8, dims, convention="causal"), expected)
    module = SpatioTemporalShift(num_frames, 3 / 8, dims, convention="causal")
    assert torch.equal(module(x), expected)
    assert repr(module).endswith(f"(num_frames=3, alpha=0.375, dims={dims!r}, convention='causal')")
    assert repr(SpatioTemporalShift(num_frames)).endswith("(num_frames=3, alpha=0.375, dims='T+H+W')")
    frames = x.unflatten(0, (1, num_frames))
    assert torch.equal(apply_shift(frames, module.plan(64)).flatten(0, 1), expected)  # the plan the module applies
    with pytest.raises(ValueError, match=r"^convention must be one of \('stsm', 'causal'\), got 'online'$"):
        spatiotemporal_shift(x, num_frames, convention="online")


def test_temporal_shift_module_plan_is_the_one_it_applies():
    for convention in ("tsm", "causal"):
        module = TemporalShift(3, 4, convention=convention)
        x = torch.randn(6, 16, 2, 2)
        assert torch.equal(apply_shift(x.unflatten(0, (2, 3)), module.plan(16)).flatten(0, 1), module(x))
    with pytest.raises(ValueError, match=r"^channels=4 is fewer than shift_div=8: no channel would move$"):
        TemporalShift(3, 8).plan(4)


def test_stsm_plan_defaults_are_the_papers():
    assert stsm_plan(64) == stsm_plan(64, 3 / 8, "T+H+W", "stsm")
