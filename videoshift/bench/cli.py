"""``videoshift bench``: one command, one sub-command per benchmark.

This is the only module of :mod:`videoshift.bench` that knows about ``argparse``: each ``run_*`` turns the
parsed arguments into plain arguments of a benchmark module's functions (:mod:`~videoshift.bench.ops`,
:mod:`~videoshift.bench.data`, :mod:`~videoshift.bench.models`, :mod:`~videoshift.bench.deploy`) and prints
their rows with :func:`videoshift.report.report`. Those modules import torch, so each ``run_*`` imports them
itself; the parser needs only the torch-free :mod:`~videoshift.bench.choices` and :mod:`~videoshift.bench.presets`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from videoshift.assignments import parse_targeted_assignments
from videoshift.bench.choices import MODES, OP_SIZES, READERS, STATS
from videoshift.bench.presets import PRESETS
from videoshift.report import add_output_arguments

MEMORY_CHOICES = {"all": MODES, "inference": ("inference",), "none": ()}


def _table_width(columns: Sequence[str]) -> int:
    """A terminal width that fits every column's name (wide tables would otherwise squeeze their names)."""
    return sum(max(len(column), 9) + 3 for column in columns)


# --- bench ops -------------------------------------------------------------------------------------
def run_ops(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench ops``."""
    import torch

    from videoshift.bench import ops
    from videoshift.bench.common import torch_threads
    from videoshift.report import environment, report

    with torch_threads(args.threads):
        device, dtype = torch.device(args.device), getattr(torch, args.dtype)
        rows = ops.benchmark(
            args.size, warmup=args.warmup, repeats=args.repeats, device=device, dtype=dtype, stat=args.stat
        )
        title = f"shift operators vs naive and clone ({args.size} sizes, {args.stat} of {args.repeats} calls, ms)"
        report(title, rows, ops.COLUMNS, environment(device, dtype), json_path=args.json, markdown_path=args.markdown)
    return 0


def add_ops_parser(bench_subparsers: argparse._SubParsersAction) -> None:
    """Add ``videoshift bench ops``."""
    parser = bench_subparsers.add_parser("ops", help="time the shift operators against naive versions and clone()")
    parser.add_argument("--size", choices=tuple(OP_SIZES), default="paper", help="input sizes (default: paper)")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per candidate")
    parser.add_argument("--stat", choices=("min", "median"), default="min", help="statistic of the timed calls")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds before timing")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float32")
    add_output_arguments(parser)
    parser.set_defaults(func=run_ops)


# --- bench data ------------------------------------------------------------------------------------
def _names(text: str, choices: Sequence[str], flag: str) -> list[str]:
    """Comma-separated names, each one of ``choices``."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in choices]
    if unknown or not names:
        raise ValueError(f"{flag} takes comma-separated names of {list(choices)}, got {text!r}")
    return names


def run_data(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench data``."""
    import torch

    from videoshift.bench import data
    from videoshift.report import environment, report

    videos = [Path(v) for v in args.videos]
    missing = [str(v) for v in videos if not v.is_file()]
    if missing:
        raise ValueError(f"videos not found: {missing} (pass --videos)")
    loader = None
    if args.workers >= 0:
        loader = data.LoaderSettings(
            batch=args.batch, workers=args.workers, batches=args.batches, size=args.size, rounds=args.rounds
        )
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    rows = data.benchmark(
        videos,
        readers=_names(args.backend or ",".join(READERS), READERS, "--backend"),
        samplings=_names(args.sampling or ",".join(data.SAMPLINGS), tuple(data.SAMPLINGS), "--sampling"),
        repeats=args.repeats,
        loader=loader,
        model=args.model or None,
        device=device,
        train_repeats=args.train_repeats,
    )
    title = (
        f"video reading ({args.repeats} clips per reader in turns; x_first = speed / the first reader's), "
        f"loader (dataset, transforms, collate; {args.size}² crops) and training step, in clips/s"
    )
    report(
        title,
        rows,
        data.COLUMNS,
        environment(device),
        json_path=args.json,
        markdown_path=args.markdown,
        width=_table_width(data.COLUMNS) + 60,  # room for the case, reader and note texts
    )
    for line in data.verdicts(rows):
        print(line)
    return 0


def add_data_parser(bench_subparsers: argparse._SubParsersAction) -> None:
    """Add ``videoshift bench data``."""
    parser = bench_subparsers.add_parser(
        "data", help="video readers (exactness, speed) and the data loader beside a model's training step"
    )
    parser.add_argument("--videos", nargs="+", required=True, help="video files to read (e.g. a few of your dataset)")
    parser.add_argument(
        "--backend",
        default=None,
        help=f"comma-separated readers of {list(READERS)} (default: all; those that cannot run say why)",
    )
    parser.add_argument("--sampling", default=None, help="comma-separated samplings (default: all)")
    parser.add_argument("--repeats", type=int, default=10, help="timed clips per reader and case")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (-1: no loader rows)")
    parser.add_argument("--batch", type=int, default=4, help="clips per batch of the loader and the training step")
    parser.add_argument("--batches", type=int, default=4, help="timed loader batches (after max(1, workers) untimed)")
    parser.add_argument("--rounds", type=int, default=3, help="loader runs per reader, in turns (median counts)")
    parser.add_argument("--size", type=int, default=224, help="crop size of the transform and the model input")
    parser.add_argument("--model", default="tsm_r50", help="model whose training step is timed ('': none)")
    parser.add_argument("--device", default=None, help="device of the training step (default: cuda if available)")
    parser.add_argument("--train-repeats", type=int, default=3, help="timed training steps")
    add_output_arguments(parser)
    parser.set_defaults(func=run_data)


# --- bench models ----------------------------------------------------------------------------------
def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def run_models(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench models``."""
    import torch

    from videoshift.bench import models
    from videoshift.bench.common import torch_threads
    from videoshift.bench.specs import RunSettings
    from videoshift.report import environment, report

    settings = RunSettings(
        device=args.device,
        dtype=args.dtype,
        channels_last=args.channels_last,
        num_classes=args.num_classes,
        imports=tuple(args.imports),
        threads=args.threads,
    )
    with torch_threads(args.threads):
        rows, columns, title = models.run_benchmark(
            settings,
            models=models.model_names(args.models),
            preset=args.preset,
            model_kwargs=parse_targeted_assignments(args.model_kw),
            frames=args.frames,
            size=args.size,
            batches=models.parse_batches(args.batch),
            warmup=args.warmup,
            repeats=args.repeats,
            stat=args.stat,
            train=args.train,
            memory=MEMORY_CHOICES[args.memory],
            accuracy=models.parse_accuracy(args.accuracy),
            progress=_console().print,
        )
        env = environment(settings.device, getattr(torch, settings.dtype))
        env["channels_last"] = settings.channels_last
        report(title, rows, columns, env, json_path=args.json, markdown_path=args.markdown, width=_table_width(columns))
        if args.plot is not None:
            from videoshift.bench.plot import plot_models

            latency_key = next(column for column in columns if column.startswith("lat_b"))
            plot_models(rows, args.plot, latency_key=latency_key, title=title.split(":")[0])
    return 0


def add_models_parser(bench_subparsers: argparse._SubParsersAction) -> None:
    """Add ``videoshift bench models``."""
    parser = bench_subparsers.add_parser(
        "models", help="parameters, multiply-adds, latency, throughput and memory of models, side by side"
    )
    parser.add_argument("--models", default=None, help="comma-separated model names (with --preset: rows to keep)")
    parser.add_argument("--preset", choices=tuple(PRESETS), default=None, help="a paper table's rows and figures")
    parser.add_argument("--frames", type=int, default=None, help="input frames (default: the preset's, else 32)")
    parser.add_argument("--size", type=int, default=None, help="input height/width (default: the preset's, else 224)")
    parser.add_argument("--batch", default="1,4", help="batch sizes; the first gives latency and memory (default 1,4)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32")
    parser.add_argument("--channels-last", action="store_true", help="channels-last convolution weights")
    parser.add_argument("--train", action="store_true", help="also time one SGD training step per batch size")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per batch size")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before timing")
    parser.add_argument(
        "--stat", choices=STATS, default="median", help="statistic of the timed calls (min: robust on a busy CPU)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--memory", choices=tuple(MEMORY_CHOICES), default="all", help="which peak memories to measure")
    parser.add_argument("--num-classes", type=int, default=400, help="classifier width (default 400)")
    parser.add_argument(
        "--model-kw",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE",
        help="keyword argument for one model (repeatable), e.g. video_swin_t:window_size=[16,7,7]",
    )
    parser.add_argument("--accuracy", default=None, metavar="NAME=TOP1,...", help="top-1 per model, for the plot")
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (it registers more models); repeatable",
    )
    parser.add_argument("--plot", type=Path, default=None, help="write latency vs top-1 and memory as PNG")
    add_output_arguments(parser)
    parser.set_defaults(func=run_models)


# --- bench onnx / bench stream ---------------------------------------------------------------------
def _run_deploy(
    args: argparse.Namespace, measure: Callable[..., list[dict[str, Any]]], title: str, columns: Sequence[str], **kw
) -> int:
    """Measure the ``--models`` with ``measure(specs, settings, batch=, warmup=, repeats=, **kw)`` and report."""
    from videoshift.bench import models
    from videoshift.bench.common import torch_threads
    from videoshift.bench.deploy import model_specs
    from videoshift.bench.specs import RunSettings
    from videoshift.report import environment, report

    settings = RunSettings(num_classes=args.num_classes, threads=args.threads)
    with torch_threads(args.threads):
        specs = model_specs(
            models.model_names(args.models),
            frames=args.frames,
            size=args.size,
            model_kwargs=parse_targeted_assignments(args.model_kw),
        )
        rows = measure(specs, settings, batch=args.batch, warmup=args.warmup, repeats=args.repeats, **kw)
        columns = [c for c in columns if any(c in row for row in rows)]
        report(
            title,
            rows,
            columns,
            environment("cpu"),
            json_path=args.json,
            markdown_path=args.markdown,
            width=_table_width(columns),
        )
    return 0


def run_onnx(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench onnx``."""
    title = (
        f"ONNX Runtime (CPU) vs PyTorch, {args.frames}x{args.size}², batch {args.batch}: median ms in turns; "
        "ort_x = ONNX Runtime / PyTorch"
    )
    from videoshift.bench.deploy import ONNX_COLUMNS, measure_onnx

    return _run_deploy(args, measure_onnx, title, ONNX_COLUMNS)


def run_stream(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench stream``."""
    title = (
        f"streaming step (1 frame, state carried) vs offline clip of {args.frames} frames, {args.size}², "
        f"batch {args.batch}: median ms; stream_x = streaming step / offline per-frame share; peak memory in MiB"
    )
    from videoshift.bench.deploy import STREAM_COLUMNS, measure_stream

    return _run_deploy(args, measure_stream, title, STREAM_COLUMNS, memory=args.memory)


def _deploy_arguments(parser: argparse.ArgumentParser, frames: int, size: int) -> None:
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


def add_deploy_parsers(bench_subparsers: argparse._SubParsersAction) -> None:
    """Add ``videoshift bench onnx`` and ``videoshift bench stream``."""
    onnx = bench_subparsers.add_parser("onnx", help="ONNX Runtime CPU latency beside PyTorch's, per model")
    _deploy_arguments(onnx, 8, 224)
    onnx.set_defaults(func=run_onnx)
    stream = bench_subparsers.add_parser("stream", help="streaming step vs offline clip: per-frame latency, memory")
    _deploy_arguments(stream, 8, 224)
    stream.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True, help="measure peak memory")
    stream.set_defaults(func=run_stream)


# --- bench -----------------------------------------------------------------------------------------
def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench`` and its sub-commands to the top-level command line."""
    parser = subparsers.add_parser("bench", help="measure operators, data loading and models side by side")
    bench_subparsers = parser.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
    add_ops_parser(bench_subparsers)
    add_data_parser(bench_subparsers)
    add_models_parser(bench_subparsers)
    add_deploy_parsers(bench_subparsers)
