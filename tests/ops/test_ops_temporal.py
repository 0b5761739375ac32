"""TSM (offline, causal) and the PST temporal channel shift against element-by-element references."""

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ops_reference import backward, forward, tcs_rule, tsm_rule

from videoshift.ops import PSTChannelShift, TemporalShift, pst_channel_shift, temporal_shift


def _check(op, x, rule):
    x = x.clone().requires_grad_(True)
    out = op(x)
    torch.testing.assert_close(out.detach(), forward(x, rule), rtol=0, atol=0)
    grad = torch.randn_like(out)
    out.backward(grad)
    torch.testing.assert_close(x.grad, backward(grad, rule), rtol=0, atol=0)


@pytest.mark.parametrize("convention", ["tsm", "causal"])
@pytest.mark.parametrize(("num_frames", "channels", "shift_div"), [(4, 16, 8), (3, 12, 4), (1, 8, 8), (5, 10, 3)])
def test_temporal_shift_matches_reference(convention, num_frames, channels, shift_div):
    x = torch.randn(2 * num_frames, channels, 3, 4)  # W=4: copies run on complex128 views
    rule = tsm_rule(num_frames, shift_div, channels, convention)
    _check(lambda t: temporal_shift(t, num_frames, shift_div, convention=convention), x, rule)


def test_temporal_shift_hand_values():
    # One clip of 3 frames, 8 channels, fold 1: channel 0 reads t+1, channel 1 reads t-1.
    x = torch.arange(3 * 8, dtype=torch.float32).reshape(3, 8, 1, 1) + 1
    out = temporal_shift(x, 3)[:, :3, 0, 0]
    expected = torch.tensor([[9.0, 0.0, 3.0], [17.0, 2.0, 11.0], [0.0, 10.0, 19.0]])
    torch.testing.assert_close(out, expected)
    causal = temporal_shift(x, 3, convention="causal")[:, :2, 0, 0]
    torch.testing.assert_close(causal, torch.tensor([[0.0, 2.0], [1.0, 10.0], [9.0, 18.0]]))


@pytest.mark.parametrize(
    ("num_frames", "num_heads", "channels", "shift_div", "spatial"),
    [(4, 2, 32, 8, (2, 3)), (3, 3, 24, 4, (5,)), (1, 1, 8, 8, (2, 2)), (5, 2, 12, 2, ())],
)
def test_pst_channel_shift_matches_reference(num_frames, num_heads, channels, shift_div, spatial):
    x = torch.randn(2, num_frames, *spatial, channels)
    rule = tcs_rule(num_frames, num_heads, shift_div, channels)
    _check(lambda t: pst_channel_shift(t, num_heads, shift_div), x, rule)


def test_pst_channel_shift_keeps_edges():
    # 1 head of 8 channels, fold 1: channel 0 reads t-1 (frame 0 keeps itself), channel 1 reads t+1.
    x = torch.arange(3 * 8, dtype=torch.float32).reshape(1, 3, 8)
    out = pst_channel_shift(x, 1)[0, :, :3]
    torch.testing.assert_close(out, torch.tensor([[0.0, 9.0, 2.0], [0.0, 17.0, 10.0], [8.0, 17.0, 18.0]]))


def test_channels_last_input_and_noncontiguous_input():
    x = torch.randn(8, 16, 3, 3)
    expected = temporal_shift(x, 4)
    torch.testing.assert_close(temporal_shift(x.to(memory_format=torch.channels_last), 4), expected, rtol=0, atol=0)
    tokens = torch.randn(2, 16, 4, 3, 3).permute(0, 2, 3, 4, 1)  # (B, T, H, W, C), not contiguous
    torch.testing.assert_close(pst_channel_shift(tokens, 2), pst_channel_shift(tokens.contiguous(), 2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: temporal_shift(torch.zeros(6, 16, 2, 2), 4), "multiple of num_frames"),
        (lambda: temporal_shift(torch.zeros(8, 4, 2, 2), 4), "fewer than shift_div"),
        (lambda: temporal_shift(torch.zeros(8, 16, 2), 4), r"\(N\*T, C, H, W\)"),
        (lambda: temporal_shift(torch.zeros(8, 16, 2, 2), 4, convention="pst"), "convention"),
        (lambda: pst_channel_shift(torch.zeros(1, 4, 3, 30), 4), "not divisible by num_heads"),
        (lambda: pst_channel_shift(torch.zeros(1, 4, 3, 16), 4), "head_dim=4 is fewer"),
    ],
)
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_modules_hold_settings_only():
    tsm = TemporalShift(4, 8, convention="causal")
    tcs = PSTChannelShift(3, 8)
    for module in (tsm, tcs):
        assert sum(p.numel() for p in module.parameters()) == 0
        assert not list(module.buffers())
    assert "num_frames=4, shift_div=8, convention='causal'" in repr(tsm)
    assert "num_heads=3, shift_div=8" in repr(tcs)
    x = torch.randn(8, 16, 2, 2)
    torch.testing.assert_close(tsm(x), temporal_shift(x, 4, convention="causal"))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_dtypes_match_float32(dtype):
    # Copies may run on wider element views (e.g. 4 float32 as one complex128): exact for every dtype.
    x = torch.randn(2, 4, 3, 3, 32)
    for op in (lambda t: pst_channel_shift(t, 2), lambda t: temporal_shift(t.flatten(0, 1).movedim(-1, 1), 4)):
        torch.testing.assert_close(op(x.to(dtype)), op(x).to(dtype), rtol=0, atol=0)


def test_bits_are_copied_not_computed():
    x = torch.randn(1, 3, 2, 16)
    x[0, 0, 0, 0], x[0, 1, 1, 5], x[0, 2, 0, 1] = float("nan"), float("inf"), -0.0
    rule = tcs_rule(3, 2, 8, 16)
    out = pst_channel_shift(x, 2, 8)
    assert torch.equal(out.view(torch.int32), forward(x, rule).view(torch.int32))


def test_unaligned_storage_offset_falls_back():
    base = torch.randn(1, 3, 2, 2, 33)
    x = base[..., 1:]  # storage offset 1: no wider element view exists
    torch.testing.assert_close(pst_channel_shift(x, 2), pst_channel_shift(x.contiguous(), 2), rtol=0, atol=0)


@settings(max_examples=25, deadline=None)
@given(
    clips=st.integers(1, 2),
    num_frames=st.integers(1, 4),
    channels=st.integers(2, 12),
    shift_div=st.integers(2, 6),
    size=st.tuples(st.integers(1, 3), st.integers(1, 4)),
    convention=st.sampled_from(["tsm", "causal"]),
)
def test_temporal_shift_property(clips, num_frames, channels, shift_div, size, convention):
    assume(channels >= shift_div)
    x = torch.randn(clips * num_frames, channels, *size)
    rule = tsm_rule(num_frames, shift_div, channels, convention)
    out = temporal_shift(x, num_frames, shift_div, convention=convention)
    torch.testing.assert_close(out, forward(x, rule), rtol=0, atol=0)


@settings(max_examples=25, deadline=None)
@given(
    num_frames=st.integers(1, 4),
    num_heads=st.integers(1, 3),
    head_dim=st.integers(2, 10),
    shift_div=st.integers(2, 5),
    spatial=st.lists(st.integers(1, 3), max_size=2),
)
def test_pst_channel_shift_property(num_frames, num_heads, head_dim, shift_div, spatial):
    assume(head_dim >= shift_div)
    channels = num_heads * head_dim
    x = torch.randn(1, num_frames, *spatial, channels)
    rule = tcs_rule(num_frames, num_heads, shift_div, channels)
    torch.testing.assert_close(pst_channel_shift(x, num_heads, shift_div), forward(x, rule), rtol=0, atol=0)
