"""Whole-model ONNX export: every registered model, ONNX Runtime against PyTorch at two batch sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tiny_models import TINY, build

from videoshift.deploy import export as export_module
from videoshift.deploy import export_model, op_types, parity
from videoshift.models import list_models

pytest.importorskip("onnxruntime")


def feeds(frames: int, height: int, width: int, batches=(1, 3)) -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(2)
    return [{"clip": torch.randn(b, 3, frames, height, width, generator=generator)} for b in batches]


# (architecture print, parameter shapes, clip shape) -> the graph exported for it. Several tiny settings
# are the same network (swin2d_t and swin2d_b differ only in the widths the tiny setting overrides);
# exporting it once is enough: each model is still checked against that graph on its own weights.
_EXPORTED: dict[tuple, dict[int, Path]] = {}


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_exports_with_parity(name, tmp_path_factory):
    pytest.importorskip("onnxscript")
    model, clip = build(name)
    _, (frames, height, width) = TINY[name]
    twin = (repr(model), tuple((k, v.shape) for k, v in model.state_dict().items()), clip.shape)
    graphs = _EXPORTED.get(twin)
    if graphs is None:
        folder = tmp_path_factory.mktemp(name)
        result = export_model(model, folder / "model.onnx", frames=frames, size=(height, width), batch=1)
        assert result.exporter == "dynamo"  # the fallback to TorchScript is needed by no family today
        graphs = _EXPORTED[twin] = {1: result.path, 3: result.path}
        if not result.dynamic_batch:  # the batch is fixed in the graph (TANet): one graph per batch size
            assert "dynamic batch" in result.notes[0]
            graphs[3] = export_model(model, folder / "b3.onnx", frames=frames, size=(height, width), batch=3).path
    for (batch, graph), feed in zip(sorted(graphs.items()), feeds(frames, height, width), strict=True):
        check = parity(model, graph, [feed])
        assert check["max_abs_diff"] <= 1e-4 and check["same_topk"], (batch, check)
    path = graphs[1]
    ops = op_types(path)
    assert not {"Scatter", "ScatterND", "ScatterElements"} & set(ops), ops  # shifts: gathers and slices only
    if any(type(module).__module__.startswith("videoshift.ops") for module in model.modules()):
        assert ops["Gather"] > 0  # the shifts' constant-index gathers


def test_falls_back_to_torchscript_and_says_so(tmp_path, monkeypatch):
    original = export_module._export_once

    def dynamo_fails(module, args, target, exporter, **kwargs):
        if exporter == "dynamo":
            raise RuntimeError("simulated dynamo failure\nsecond line")
        return original(module, args, target, exporter, **kwargs)

    monkeypatch.setattr(export_module, "_export_once", dynamo_fails)
    model, _ = build("tsm_r50")
    result = export_model(model, tmp_path / "m.onnx", frames=4, size=32)
    assert result.exporter == "torchscript" and result.opset == 17
    assert result.notes == [
        "dynamo exporter failed with a dynamic batch (RuntimeError: simulated dynamo failure)",
        "dynamo exporter failed with a batch fixed at 1 (RuntimeError: simulated dynamo failure)",
        "used the TorchScript exporter",
    ]
    check = parity(model, result.path, feeds(4, 32, 32))
    assert check["max_abs_diff"] <= 1e-4 and check["same_topk"]
    assert "ScatterND" not in op_types(result.path)
    with pytest.raises(RuntimeError, match="simulated"):
        export_model(model, tmp_path / "m2.onnx", frames=4, size=32, exporter="dynamo")


class _SessionWrongAtBatchOne:
    """Stands in for ONNX Runtime: the model's own logits, with the classes reversed for batch-1 inputs only."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    def run(self, _names, feed):
        with torch.no_grad():
            logits = self.model(*(torch.from_numpy(v) for v in feed.values()))
        return [(logits.flip(-1) if logits.shape[0] == 1 else logits).numpy()]


def test_parity_keeps_a_mismatch_of_any_input_not_only_the_last(monkeypatch):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 6).eval()
    monkeypatch.setattr(export_module, "onnx_session", lambda _path: _SessionWrongAtBatchOne(model))
    one, two = torch.randn(1, 4), torch.randn(2, 4)
    with torch.no_grad():
        logits = model(one)
    assert logits.argmax() != logits.flip(-1).argmax()  # reversing the classes changes the top-1
    check = parity(model, "unused.onnx", [{"x": one}, {"x": two}])  # the mismatch first, a match last
    assert check["same_topk"] is False
    assert check["max_abs_diff"] == pytest.approx((logits - logits.flip(-1)).abs().max().item())
    assert parity(model, "unused.onnx", [{"x": two}])["same_topk"] is True  # the stand-in matches at batch 2
