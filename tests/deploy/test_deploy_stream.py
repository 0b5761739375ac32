"""Online inference: the streaming step equals the offline causal model, frame by frame or in chunks."""

from __future__ import annotations

import pytest
import torch
from tiny_models import NUM_CLASSES, TINY, build

from videoshift.deploy import StepNet, Stream, export_module, frame_logits, make_causal, op_types, parity
from videoshift.deploy.cli import stream_names
from videoshift.models import create_model
from videoshift.ops import spatiotemporal_shift, temporal_shift

STREAMABLE = ("tsm_r50", "stsm_r50", "tsm_mbv2", "stsm_mbv2")
FRAMES = 4


def causal_tiny(name: str, frames: int = FRAMES) -> torch.nn.Module:
    """The tiny model of ``name`` with causal shifts, random norm scales (see ``build``), eval mode."""
    overrides, _ = TINY[name]
    torch.manual_seed(0)
    model = create_model(name, causal=True, num_classes=NUM_CLASSES, num_frames=frames, dropout=0.0, **overrides)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
    return model.eval()


def run(stream: Stream, clip: torch.Tensor, chunks: list[int]) -> torch.Tensor:
    state, outputs, start = stream.init_state(clip.shape[0]), [], 0
    for size in chunks:
        frames = clip[:, :, start] if size == 1 else clip[:, :, start : start + size]  # one frame: (N, 3, H, W)
        logits, state = stream.step(frames, state)
        outputs.append(logits)
        start += size
    return torch.cat(outputs, dim=1)


@pytest.mark.parametrize("name", STREAMABLE)
def test_streaming_equals_the_offline_causal_model(name):
    model = causal_tiny(name)
    clip = torch.randn(2, 3, FRAMES, 32, 32, generator=torch.Generator().manual_seed(1))
    offline = frame_logits(model, clip)  # (B, T, classes)
    torch.testing.assert_close(offline.mean(1), model(clip), rtol=0, atol=1e-6)
    stream = Stream(model, 32)
    for chunks in ([1] * FRAMES, [3, 1], [2, 2]):
        torch.testing.assert_close(run(stream, clip, chunks), offline, rtol=0, atol=1e-5, msg=str(chunks))
    # the state matters: restarting from zeros half-way changes the later frames
    restarted = torch.cat([run(stream, clip[:, :, :2], [2]), run(stream, clip[:, :, 2:], [2])], dim=1)
    assert not torch.allclose(restarted[:, 2:], offline[:, 2:], atol=1e-4)
    # one state tensor per shifted layer
    assert len(stream.init_state(2)) == sum(1 for m in model.modules() if type(m).__name__.endswith("Shift"))


def test_state_is_the_cached_fold_of_the_last_frame():
    model = causal_tiny("tsm_r50")
    stream = Stream(model, 32)
    shift = stream.net.layers[0]
    fold = shift.shift.plan(64).moves[0].region[2].stop  # resnet18 layer1: 64 channels, fold 8
    assert stream.state_shapes[0] == (fold, 8, 8)
    x = torch.randn(2 * 3, 64, 8, 8)
    shift.state_in[0] = torch.randn(2, fold, 8, 8)
    out = shift(x)
    frames = x.view(2, 3, 64, 8, 8)
    torch.testing.assert_close(shift.state_out[0], frames[:, -1, :fold], rtol=0, atol=0)
    torch.testing.assert_close(out.view(2, 3, 64, 8, 8)[:, 0, :fold], shift.state_in[0], rtol=0, atol=0)
    shift.state_in[0] = shift.state_out[0] = None


def test_causal_stsm_of_the_t_group_is_causal_tsm():
    x = torch.randn(2 * 4, 96, 3, 3)
    # dims="T" with alpha=1/4: 24 channels in the T group, 12 read the past, the rest stay (TSM fold 12)
    causal_stsm = spatiotemporal_shift(x, 4, 0.25, "T", convention="causal")
    torch.testing.assert_close(causal_stsm, temporal_shift(x, 4, 8, convention="causal"), rtol=0, atol=0)
    # no frame reads a later one: changing the last frame changes only the last frame's output
    later = x.clone().view(2, 4, 96, 3, 3)
    later[:, -1] += 1
    changed = spatiotemporal_shift(later.view_as(x), 4, 3 / 8, "T+H+W+TH+TW+HW", convention="causal")
    before = spatiotemporal_shift(x, 4, 3 / 8, "T+H+W+TH+TW+HW", convention="causal")
    torch.testing.assert_close(changed.view(2, 4, 96, 3, 3)[:, :-1], before.view(2, 4, 96, 3, 3)[:, :-1])
    assert not torch.equal(changed, before)


def test_make_causal_keeps_the_weights_and_then_streams():
    model, _ = build("stsm_mbv2")
    with pytest.raises(ValueError, match="causal=True"):
        Stream(model, 32)
    causal = make_causal(model)
    assert all(getattr(m, "convention", "causal") == "causal" for m in causal.modules() if hasattr(m, "num_frames"))
    torch.testing.assert_close(causal.state_dict(), model.state_dict(), rtol=0, atol=0)
    clip = torch.randn(1, 3, 4, 32, 32)
    torch.testing.assert_close(run(Stream(causal, 32), clip, [1, 3]), frame_logits(causal, clip), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("tsm_r50", {}, "reads the next frame"),
        ("tsm_r50", {"causal": True, "temporal_pool": True}, "temporal pooling"),
        ("tsm_r50_nl", {}, "non-local"),
        ("deit_s_tsm", {}, "cannot stream"),
        ("pst_t", {}, "cannot stream"),
    ],
)
def test_models_that_cannot_stream_are_refused(name, kwargs, message):
    overrides, (frames, _, _) = TINY[name]
    model = create_model(name, num_classes=NUM_CLASSES, num_frames=frames, **overrides, **kwargs)
    with pytest.raises(ValueError, match=message):
        StepNet(model)


def test_tsn_streams_frame_by_frame():
    model, _ = build("tsn_mbv2")
    clip = torch.randn(1, 3, 4, 32, 32)
    stream = Stream(model, 32)
    assert stream.num_layers == 0 and stream.init_state(1) == ()
    torch.testing.assert_close(run(stream, clip, [1, 1, 2]), frame_logits(model, clip), rtol=0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tsm_r50", "stsm_r50"])
def test_streaming_step_exports_with_named_state(name, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model = causal_tiny(name, frames=4)
    stream = Stream(model, 32)
    names = stream_names(stream.num_layers)
    example = (torch.randn(2, 3, 1, 32, 32), *stream.init_state(2))
    result = export_module(stream.net, example, tmp_path / "step.onnx", **names)
    assert result.exporter == "dynamo"
    generator = torch.Generator().manual_seed(3)
    feeds = [
        dict(
            zip(
                names["input_names"],
                (
                    torch.randn(b, 3, 1, 32, 32, generator=generator),
                    *(torch.randn_like(s) for s in stream.init_state(b)),
                ),
                strict=True,
            )
        )
        for b in (1, 3)
    ]
    check = parity(stream.net, result.path, feeds)
    assert check["max_abs_diff"] <= 1e-4 and check["same_topk"], check
    assert not {"Scatter", "ScatterND", "ScatterElements"} & set(op_types(result.path))

    # frame by frame through ONNX Runtime, the state fed back by name: the offline causal model's outputs
    from videoshift.deploy.export import onnx_session

    session = onnx_session(result.path)
    assert [i.name for i in session.get_inputs()] == names["input_names"]
    clip = torch.randn(2, 3, 4, 32, 32, generator=generator)
    state = [s.numpy() for s in stream.init_state(2)]
    outputs = []
    for t in range(4):
        named_state = dict(zip(names["input_names"][1:], state, strict=True))
        logits, *state = session.run(None, {"frames": clip[:, :, t : t + 1].numpy(), **named_state})
        outputs.append(torch.from_numpy(logits))
    torch.testing.assert_close(torch.cat(outputs, 1), frame_logits(model, clip), rtol=0, atol=1e-4)
