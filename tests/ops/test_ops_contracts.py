"""Contracts of the operators that the element-by-element comparisons cannot see (found by mutation testing).

* Every plan builder partitions the tensor: each element lies in exactly one move's region (the shift core's
  contract; the core happens to render overlapping or missing identity regions the same way today).
* The modules pass every setting to their function (a module that drops ``shift_div`` or ``dims`` falls back to
  the default, which the default-valued tests cannot tell apart).
* Invalid settings fail with a message naming the setting and the value.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ops_reference import forward, tsm_rule

from videoshift.ops import PSTChannelShift, SpatioTemporalShift, TemporalShift, pst_channel_shift, temporal_shift
from videoshift.ops.spatiotemporal import _stsm_plan, parse_dims, spatiotemporal_shift, stsm_group_sizes
from videoshift.ops.temporal import _tcs_plan, _tsm_plan


def _coverage(plan, shape: tuple[int, ...]) -> np.ndarray:
    count = np.zeros(shape, dtype=np.int64)
    for move in plan.moves:
        count[move.region] += 1
    return count


@pytest.mark.parametrize(
    "spec", ["tsm", "causal", "tcs", "T+H+W", "HW", "T+HW", "TH+TW+HW", "T+H+W+TH+TW+HW", "T+H+W+HW"]
)
def test_every_plan_partitions_the_tensor(spec):
    # plans are built inside the test, so that mutation testing sees which test runs which builder
    if spec in ("tsm", "causal"):
        plan, shape = _tsm_plan(2, spec), (1, 3, 16, 2, 2)
    elif spec == "tcs":
        plan, shape = _tcs_plan(2), (1, 3, 2, 2, 16)
    else:
        groups = parse_dims(spec)
        plan, shape = _stsm_plan(groups, stsm_group_sizes(64, 3 / 8, groups)), (1, 2, 64, 3, 3)
    assert (_coverage(plan, shape) == 1).all()


def test_modules_pass_every_setting_to_their_function():
    torch.manual_seed(0)
    x = torch.randn(2 * 4, 24, 3, 3)
    torch.testing.assert_close(TemporalShift(4, 4)(x), temporal_shift(x, 4, 4), rtol=0, atol=0)
    torch.testing.assert_close(TemporalShift(4, 3)(x), forward(x, tsm_rule(4, 3, 24)), rtol=0, atol=0)
    causal = TemporalShift(4, 4, convention="causal")(x)
    torch.testing.assert_close(causal, temporal_shift(x, 4, 4, convention="causal"), rtol=0, atol=0)
    for alpha, dims in ((3 / 8, "HW"), (1 / 2, "T"), (1 / 4, "T+H+W")):
        expected = spatiotemporal_shift(x, 4, alpha, dims)
        torch.testing.assert_close(SpatioTemporalShift(4, alpha, dims)(x), expected, rtol=0, atol=0)
    assert not torch.equal(spatiotemporal_shift(x, 4, 3 / 8, "HW"), spatiotemporal_shift(x, 4, 3 / 8))
    tokens = torch.randn(1, 3, 2, 16)
    torch.testing.assert_close(PSTChannelShift(2, 4)(tokens), pst_channel_shift(tokens, 2, 4), rtol=0, atol=0)
    assert not torch.equal(pst_channel_shift(tokens, 2, 4), pst_channel_shift(tokens, 2))


def test_shift_div_one_moves_every_channel():
    x = torch.randn(3, 4, 2, 2)
    torch.testing.assert_close(temporal_shift(x, 3, 1), forward(x, tsm_rule(3, 1, 4)), rtol=0, atol=0)


def test_invalid_settings_are_named_with_their_values():
    x = torch.randn(6, 4, 2, 2)
    with pytest.raises(ValueError, match=r"shift_div must be >= 1, got 0"):
        temporal_shift(x, 3, 0)
    with pytest.raises(ValueError, match=r"^channels=4 is fewer than shift_div=8"):
        temporal_shift(x, 3, 8)
    with pytest.raises(ValueError, match=r"x.shape\[0\]=6 \(N\*T\) is not a multiple of num_frames=4"):
        temporal_shift(x, 4)
    with pytest.raises(ValueError, match=r"convention must be one of \('tsm', 'causal'\), got 'online'"):
        TemporalShift(3, convention="online")
    with pytest.raises(ValueError, match=r"x must be \(B, T, \.\.\., C\), got shape \(2, 8\)"):
        pst_channel_shift(torch.randn(2, 8), 2)
    with pytest.raises(ValueError, match=r"head_dim=2 is fewer than shift_div=8"):
        pst_channel_shift(torch.randn(1, 2, 3, 4), 2)
    for alpha in (0, 1.5):
        with pytest.raises(ValueError, match=rf"alpha must be in \(0, 1\], got {alpha}"):
            spatiotemporal_shift(torch.randn(2, 64, 2, 2), 2, alpha)
