"""``videoshift bench onnx`` and ``videoshift bench stream``: deployment figures side by side in one run.

- ``bench onnx``: each model exported to ONNX (:mod:`videoshift.deploy.export`) and run by ONNX
  Runtime on the CPU, its latency beside PyTorch's on the same clip, both timed in turns.
- ``bench stream``: per-frame latency and peak memory of the streaming step of a causal model
  (:mod:`videoshift.deploy.stream`, one frame per step, state carried) beside the offline model on a
  T-frame clip (clip latency / T). Bidirectional TSM/STSM models are made causal first (same cost).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from videoshift.bench.common import time_in_turns
from videoshift.bench.memory import STREAM, peak_memory
from videoshift.bench.specs import ModelSpec, RunSettings, build_model, make_clip

MIB = 2**20
ONNX_COLUMNS = ("model", "exporter", "torch_ms", "ort_ms", "ort_x", "max_abs_diff")
STREAM_COLUMNS = (
    *("model", "offline_clip_ms", "offline_frame_ms", "stream_frame_ms", "stream_x", "state_kib"),
    *("offline_mib", "stream_mib"),
)


def model_specs(
    models: Sequence[str], *, frames: int, size: int, model_kwargs: Mapping[str, Mapping[str, Any]] | None = None
) -> list[ModelSpec]:
    """One spec per model name, each with its ``model_kwargs`` entry and a ``frames`` x ``size``² clip."""
    if not models:
        raise ValueError("give --models NAME[,NAME...]")
    overrides = model_kwargs or {}
    return [ModelSpec(name, name, overrides.get(name, {}), frames, size) for name in models]


def _torch_call(model: torch.nn.Module, *inputs: torch.Tensor) -> Callable[[], object]:
    def call() -> object:
        with torch.inference_mode():
            return model(*inputs)

    return call


def measure_onnx(
    specs: Sequence[ModelSpec], settings: RunSettings, *, batch: int = 1, warmup: int = 2, repeats: int = 10
) -> list[dict[str, Any]]:
    """Per model: exporter, PyTorch and ONNX Runtime latency at ``batch``, their ratio, the max difference."""
    from videoshift.deploy.export import export_model, onnx_session

    rows, calls = [], []
    with tempfile.TemporaryDirectory() as folder:
        for spec in specs:
            model = build_model(spec, settings)
            clip = make_clip(spec, settings, batch)
            result = export_model(model, Path(folder) / f"{spec.name}.onnx", frames=spec.frames, size=spec.size)
            session = onnx_session(result.path)
            feed = {"clip": clip.numpy()}
            with torch.inference_mode():
                difference = (torch.from_numpy(session.run(None, feed)[0]) - model(clip)).abs().max().item()
            rows.append({"model": spec.label, "exporter": result.exporter, "max_abs_diff": difference})
            calls += [_torch_call(model, clip), lambda session=session, feed=feed: session.run(None, feed)]
        timings = time_in_turns(calls, warmup=warmup, repeats=repeats, device="cpu")
    for row, torch_time, ort_time in zip(rows, timings[::2], timings[1::2], strict=True):
        row.update(torch_ms=torch_time.median_ms, ort_ms=ort_time.median_ms)
        row["ort_x"] = ort_time.median_ms / torch_time.median_ms
    return rows


def measure_stream(
    specs: Sequence[ModelSpec],
    settings: RunSettings,
    *,
    batch: int = 1,
    warmup: int = 2,
    repeats: int = 10,
    memory: bool = True,
) -> list[dict[str, Any]]:
    """Per model: offline clip latency and its per-frame share, the streaming step's latency, peak memories."""
    from videoshift.deploy.stream import Stream, streaming_model

    rows, calls = [], []
    for spec in specs:
        model = streaming_model(build_model(spec, settings))
        clip = make_clip(spec, settings, batch)
        stream = Stream(model, spec.size)
        state = stream.init_state(batch)
        rows.append({"model": spec.label, "state_kib": sum(s.numel() * s.element_size() for s in state) / 1024})
        calls += [_torch_call(model, clip), _torch_call(stream.net, clip[:, :, :1], *state)]
    timings = time_in_turns(calls, warmup=warmup, repeats=repeats, device="cpu")
    for spec, row, offline, step in zip(specs, rows, timings[::2], timings[1::2], strict=True):
        row.update(offline_clip_ms=offline.median_ms, offline_frame_ms=offline.median_ms / spec.frames)
        row.update(stream_frame_ms=step.median_ms, stream_x=step.median_ms * spec.frames / offline.median_ms)
        if memory:
            row["offline_mib"] = peak_memory(spec, settings, batch=batch, mode="inference") / MIB
            row["stream_mib"] = peak_memory(spec, settings, batch=batch, mode=STREAM) / MIB
    return rows
