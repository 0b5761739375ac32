"""Every operator under gradcheck, hypothesis (shift back ∘ shift), ONNX Runtime, TorchScript and torch.compile."""

import io

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from videoshift.ops import (
    PATTERN_NAMES,
    patch_shift,
    patch_shift_back,
    pst_channel_shift,
    spatiotemporal_shift,
    temporal_shift,
)

# name → (operator, input shape); small enough for gradcheck's finite differences.
OPERATORS = {
    "tsm": (lambda x: temporal_shift(x, 3, 4), (6, 8, 2, 2)),
    "tsm_causal": (lambda x: temporal_shift(x, 3, 4, convention="causal"), (6, 8, 2, 2)),
    "stsm": (lambda x: spatiotemporal_shift(x, 2, 1.0, "T+H+W+HW"), (2, 16, 2, 3)),
    "stsm_2d": (lambda x: spatiotemporal_shift(x, 2, 1.0, "TH+TW+HW"), (2, 12, 2, 3)),
    "tcs": (lambda x: pst_channel_shift(x, 2, 4), (1, 3, 2, 2, 16)),
    "patch": (lambda x: patch_shift(x, "official", window_size=3), (1, 5, 3, 6, 2)),
    "patch_back": (lambda x: patch_shift_back(x, "D", window_size=4), (1, 4, 4, 4, 2)),
}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_gradcheck_float64(name):
    op, shape = OPERATORS[name]
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(op, (x,))
    assert torch.autograd.gradgradcheck(op, (x,))


@settings(max_examples=40, deadline=None)
@given(
    pattern=st.one_of(
        st.sampled_from(PATTERN_NAMES),
        st.integers(1, 4).flatmap(
            lambda k: st.lists(st.lists(st.integers(-9, 9), min_size=k, max_size=k), min_size=k, max_size=k)
        ),
    ),
    batch=st.integers(1, 2),
    frames=st.integers(1, 6),
    windows=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    window=st.integers(1, 5),
    channels=st.integers(1, 3),
    windowed=st.booleans(),
)
def test_shift_back_inverts_shift(pattern, batch, frames, windows, window, channels, windowed):
    x = torch.randn(batch, frames, windows[0] * window, windows[1] * window, channels)
    window_size = window if windowed else None
    shifted = patch_shift(x, pattern, window_size=window_size)
    torch.testing.assert_close(patch_shift_back(shifted, pattern, window_size=window_size), x, rtol=0, atol=0)
    # A shift only moves tokens in time: each (h, w) column holds the same tokens, permuted.
    torch.testing.assert_close(shifted.sum(1), x.sum(1))


class _Wrap(torch.nn.Module):
    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, x):
        return self.op(x)


# Shape checks read sizes as Python values while tracing (expected: non-batch sizes are fixed); the
# legacy exporter (the one that works without onnxscript) also warns that it is legacy.
@pytest.mark.filterwarnings(
    "ignore::torch.jit.TracerWarning", "ignore::FutureWarning", "ignore::DeprecationWarning", "ignore::UserWarning"
)
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_onnx_export_matches_exactly(name):
    ort = pytest.importorskip("onnxruntime")
    op, shape = OPERATORS[name]
    x = torch.randn(shape)
    buffer = io.BytesIO()
    torch.onnx.export(
        _Wrap(op), (x,), buffer, dynamo=False, opset_version=17, input_names=["x"], dynamic_axes={"x": {0: "batch"}}
    )
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    # A batch twice as large as at export time: the batch size must stay free.
    for sample in (x, torch.randn(shape[0] * 2, *shape[1:])):
        (result,) = session.run(None, {"x": sample.numpy()})
        assert torch.equal(torch.from_numpy(result), op(sample)), name


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore::FutureWarning")
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_torchscript_trace_matches(name):
    op, shape = OPERATORS[name]
    x = torch.randn(shape)
    traced = torch.jit.trace(_Wrap(op), (x,))
    assert torch.equal(traced(x), op(x))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tsm", "tcs", "patch"])
def test_torch_compile_forward_backward(name):
    op, shape = OPERATORS[name]
    compiled = torch.compile(op, fullgraph=True)
    x = torch.randn(shape, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, ref = compiled(x), op(x_ref)
    assert torch.equal(out, ref)
    grad = torch.randn_like(out)
    out.backward(grad)
    ref.backward(grad)
    assert torch.equal(x.grad, x_ref.grad)
