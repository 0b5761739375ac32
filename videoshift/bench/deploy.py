"""``videoshift bench onnx`` and ``videoshift bench stream``: deployment figures side by side in one run.

- ``bench onnx``: each model exported to ONNX (:mod:`videoshift.deploy.export`) and run by ONNX
  Runtime on the CPU, its latency beside PyTorch's on the same clip, both timed in turns.
- ``bench stream``: per-frame latency and peak memory of the streaming step of a causal model
  (:mod:`videoshift.deploy.stream`, one frame per step, state carried) beside the offline model on a
  T-frame clip (clip latency / T). Bidirectional TSM/STSM models are made causal first (same cost).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from videoshift.bench.memory import STREAM, ModelSpec, RunSettings, build_model, make_clip, peak_memory
from videoshift.bench.models import _model_names, parse_model_kwargs, time_in_turns
from videoshift.report import add_output_arguments, environment, report

MIB = 2**20


def _specs(args: argparse.Namespace) -> list[ModelSpec]:
    names = _model_names(args.models)
    if not names:
        raise ValueError("give --models NAME[,NAME...]")
    overrides = parse_model_kwargs(args.model_kw)
    return [ModelSpec(name, name, overrides.get(name, {}), args.frames, args.size) for name in names]


def _settings(args: argparse.Namespace) -> RunSettings:
    return RunSettings(num_classes=args.num_classes, threads=args.threads)


def _torch_call(model: torch.nn.Module, *inputs: torch.Tensor) -> Callable[[], object]:
    def call() -> object:
        with torch.inference_mode():
            return model(*inputs)

    return call


def measure_onnx(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Per model: exporter, PyTorch and ONNX Runtime latency at ``--batch``, their ratio, the max difference."""
    from videoshift.deploy.export import export_model, onnx_session

    settings, rows, calls = _settings(args), [], []
    with tempfile.TemporaryDirectory() as folder:
        for spec in _specs(args):
            model = build_model(spec, settings)
            clip = make_clip(spec, settings, args.batch)
            result = export_model(model, Path(folder) / f"{spec.name}.onnx", frames=spec.frames, size=spec.size)
            session = onnx_session(result.path)
            feed = {"clip": clip.numpy()}
            with torch.inference_mode():
                difference = (torch.from_numpy(session.run(None, feed)[0]) - model(clip)).abs().max().item()
            rows.append({"model": spec.label, "exporter": result.exporter, "max_abs_diff": difference})
            calls += [_torch_call(model, clip), lambda session=session, feed=feed: session.run(None, feed)]
        timings = time_in_turns(calls, warmup=args.warmup, repeats=args.repeats, device="cpu")
    for row, torch_time, ort_time in zip(rows, timings[::2], timings[1::2], strict=True):
        row.update(torch_ms=torch_time.median_ms, ort_ms=ort_time.median_ms)
        row["ort_x"] = ort_time.median_ms / torch_time.median_ms
    return rows


def measure_stream(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Per model: offline clip latency and its per-frame share, the streaming step's latency, peak memories."""
    from videoshift.deploy.stream import Stream, streaming_model

    settings, rows, calls = _settings(args), [], []
    for spec in _specs(args):
        model = streaming_model(build_model(spec, settings))
        clip = make_clip(spec, settings, args.batch)
        stream = Stream(model, spec.size)
        state = stream.init_state(args.batch)
        rows.append({"model": spec.label, "state_kib": sum(s.numel() * s.element_size() for s in state) / 1024})
        calls += [_torch_call(model, clip), _torch_call(stream.net, clip[:, :, :1], *state)]
    timings = time_in_turns(calls, warmup=args.warmup, repeats=args.repeats, device="cpu")
    for spec, row, offline, step in zip(_specs(args), rows, timings[::2], timings[1::2], strict=True):
        row.update(offline_clip_ms=offline.median_ms, offline_frame_ms=offline.median_ms / spec.frames)
        row.update(stream_frame_ms=step.median_ms, stream_x=step.median_ms * spec.frames / offline.median_ms)
        if args.memory:
            row["offline_mib"] = peak_memory(spec, settings, batch=args.batch, mode="inference") / MIB
            row["stream_mib"] = peak_memory(spec, settings, batch=args.batch, mode=STREAM) / MIB
    return rows


def _run(args: argparse.Namespace, measure: Callable, title: str, columns: list[str]) -> int:
    threads = torch.get_num_threads()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        try:
            rows = measure(args)
        except ValueError as error:
            print(f"error: {error}")
            return 2
        columns = [c for c in columns if any(c in row for row in rows)]
        report(
            title,
            rows,
            columns,
            environment("cpu"),
            json_path=args.json,
            markdown_path=args.markdown,
            width=sum(max(len(c), 9) + 3 for c in columns),
        )
    finally:
        torch.set_num_threads(threads)
    return 0


def run_onnx(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench onnx``."""
    title = (
        f"ONNX Runtime (CPU) vs PyTorch, {args.frames}x{args.size}², batch {args.batch}: median ms in turns; "
        "ort_x = ONNX Runtime / PyTorch"
    )
    columns = ["model", "exporter", "torch_ms", "ort_ms", "ort_x", "max_abs_diff"]
    return _run(args, measure_onnx, title, columns)


def run_stream(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench stream``."""
    title = (
        f"streaming step (1 frame, state carried) vs offline clip of {args.frames} frames, {args.size}², "
        f"batch {args.batch}: median ms; stream_x = streaming step / offline per-frame share; peak memory in MiB"
    )
    columns = ["model", "offline_clip_ms", "offline_frame_ms", "stream_frame_ms", "stream_x", "state_kib"]
    return _run(args, measure_stream, title, [*columns, "offline_mib", "stream_mib"])


def _common_arguments(parser: argparse.ArgumentParser, frames: int, size: int) -> None:
    parser.add_argument("--models", required=True, help="comma-separated model names")
    parser.add_argument("--frames", type=int, default=frames, help=f"frames T (default {frames})")
    parser.add_argument("--size", type=int, default=size, help=f"frame height and width (default {size})")
    parser.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before timing")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads of torch and ONNX Runtime")
    parser.add_argument("--num-classes", type=int, default=400, help="classifier width (default 400)")
    parser.add_argument(
        "--model-kw", action="append", default=[], metavar="NAME:KEY=VALUE", help="model keyword argument"
    )
    add_output_arguments(parser)


def add_parser(bench_subparsers: argparse._SubParsersAction) -> None:
    """Add ``videoshift bench onnx`` and ``videoshift bench stream``."""
    onnx = bench_subparsers.add_parser("onnx", help="ONNX Runtime CPU latency beside PyTorch's, per model")
    _common_arguments(onnx, 8, 224)
    onnx.set_defaults(func=run_onnx)
    stream = bench_subparsers.add_parser("stream", help="streaming step vs offline clip: per-frame latency, memory")
    _common_arguments(stream, 8, 224)
    stream.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True, help="measure peak memory")
    stream.set_defaults(func=run_stream)
