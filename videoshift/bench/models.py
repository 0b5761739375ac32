"""``videoshift bench models``: the papers' efficiency tables, measured side by side in one process.

For every model: parameters, multiply-adds (what the papers call "FLOPs"), inference latency and
throughput at each batch size (warm-up, timed repeats, median and spread, CUDA synchronised), with
``--train`` the time of one SGD training step at each batch size, and the peak memory of an
inference pass and of one training step (see :mod:`videoshift.bench.memory`). Every figure is also
given as a ratio to the first model, because ratios, unlike absolute times, carry over between
machines. ``--preset`` runs a paper's table and puts its figures, and their ratios, beside the
measured ones.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from videoshift.bench.common import Timing, summarize, time_callable
from videoshift.bench.memory import (
    MODES,
    ModelSpec,
    RunSettings,
    build_model,
    import_modules,
    make_clip,
    peak_memory,
    training_step,
)
from videoshift.bench.presets import PRESETS, Preset, get_preset
from videoshift.models import is_model, list_models
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.papers import PaperRow
from videoshift.report import add_output_arguments, environment, report

GIB = 2**30
MEMORY_KEYS = {"inference": "mem_infer_gib", "train": "mem_train_gib"}
STATS = ("median", "min")
# PaperRow attribute -> output field.
PAPER_KEYS = {
    "gmacs": "paper_gmacs",
    "memory_gb": "paper_mem_gb",
    "latency_ms": "paper_lat_ms",
    "throughput_vps": "paper_vps",
    "params_m": "paper_params_m",
}


def time_in_turns(calls: Sequence[Callable[[], object]], *, warmup: int, repeats: int, device: str) -> list[Timing]:
    """Timings of ``repeats`` calls of each callable, the callables taking turns call by call.

    Taking turns exposes every model to the same machine load, which on a shared CPU drifts
    within seconds; timing one model after another would turn the drift into false ratios.
    """
    for _ in range(warmup):
        for call in calls:
            call()
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, times in zip(calls, samples, strict=True):
            times.append(time_callable(call, warmup=0, repeats=1, device=device).median_ms)
    return [summarize(times) for times in samples]


def _inference(model: nn.Module, clip: torch.Tensor) -> Callable[[], object]:
    def call() -> object:
        with torch.inference_mode():
            return model(clip)

    return call


def _training_step(model: nn.Module, clip: torch.Tensor) -> Callable[[], object]:
    """One step of the papers' recipe (:func:`training_step` with SGD and momentum), ready to time."""
    return partial(training_step, model, clip, torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))


def _time_rows(rows: Sequence[dict[str, Any]], calls: Sequence[Callable[[], object]], key: str, stat: str, **timing):
    """Time ``calls`` in turns; store the chosen statistic under ``key``, both statistics and the IQR beside it."""
    stem = key.removesuffix("_ms")
    for row, result in zip(rows, time_in_turns(calls, **timing), strict=True):
        row[key] = result.median_ms if stat == "median" else result.min_ms
        row.update({f"{stem}_median_ms": result.median_ms, f"{stem}_min_ms": result.min_ms})
        row[f"{stem}_iqr_ms"] = result.iqr_ms


def measure(
    specs: Sequence[ModelSpec],
    settings: RunSettings,
    *,
    batches: Sequence[int],
    warmup: int,
    repeats: int,
    memory: Iterable[str] = MODES,
    stat: str = "median",
    train: bool = False,
    progress: Callable[[str], object] = lambda message: None,
) -> list[dict[str, Any]]:
    """All figures of the models: counts, timings per batch size and peak memory at ``batches[0]``.

    The models are built together and timed in turns (:func:`time_in_turns`); they are released
    before the memory is measured one model at a time, so that on CUDA they are not counted.
    ``stat`` (``"median"`` or ``"min"``) is the statistic of the timed calls that gives ``lat_b{B}_ms``,
    ``vps_b{B}`` and, with ``train``, ``step_b{B}_ms`` (one training step, after the inference
    timings); both statistics and the interquartile range are kept in the row.
    """
    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
    rows: list[dict[str, Any]] = [
        {"model": spec.label, "name": spec.name, "frames": spec.frames, "size": spec.size} for spec in specs
    ]
    models = []
    for spec, row in zip(specs, rows, strict=True):
        progress(f"building and counting {spec.label} ({spec.name}, {spec.frames}x{spec.size}²)")
        models.append(build_model(spec, settings))
        row.update(params=count_params(models[-1]), macs=count_macs(models[-1], make_clip(spec, settings, 1)))
        row.update(params_m=row["params"] / 1e6, gmacs=row["macs"] / 1e9)
    timing = {"warmup": warmup, "repeats": repeats, "device": settings.device}
    for batch in batches:
        progress(f"timing batch {batch}: {warmup} warm-up and {repeats} timed rounds of {len(models)} models")
        calls = [_inference(m, make_clip(s, settings, batch)) for m, s in zip(models, specs, strict=True)]
        _time_rows(rows, calls, f"lat_b{batch}_ms", stat, **timing)
        for row in rows:
            row[f"vps_b{batch}"] = batch * 1e3 / row[f"lat_b{batch}_ms"]
        del calls
    for batch in batches if train else ():
        progress(f"timing training steps at batch {batch}: {warmup} warm-up and {repeats} timed rounds")
        calls = [_training_step(m.train(), make_clip(s, settings, batch)) for m, s in zip(models, specs, strict=True)]
        _time_rows(rows, calls, f"step_b{batch}_ms", stat, **timing)
        del calls
    del models
    for spec, row in zip(specs, rows, strict=True):
        for mode in memory:
            progress(f"peak memory of {spec.label}, {mode}")
            row[MEMORY_KEYS[mode]] = peak_memory(spec, settings, batch=batches[0], mode=mode) / GIB
    return rows


def paper_fields(paper: PaperRow, dataset: str) -> dict[str, Any]:
    """The paper's figures of ``paper`` under the ``paper_*`` names of the output."""
    fields = {name: getattr(paper, attr) for attr, name in PAPER_KEYS.items()}
    fields["paper_top1"] = paper.top1.get(dataset)
    return fields


def add_ratios(rows: list[dict[str, Any]], keys: Iterable[str]) -> None:
    """Add ``{key}_x`` = row[key] / first row[key] to every row (``None`` where either is missing)."""
    first = rows[0]
    for key in keys:
        for row in rows:
            value, reference = row.get(key), first.get(key)
            row[f"{key}_x"] = value / reference if value is not None and reference else None


def parse_model_kwargs(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``["name:key=value", ...]`` → ``{name: {key: value}}``; values are read as YAML (``[16,7,7]``, ``true``)."""
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, assignment = item.partition(":")
        key, eq, value = assignment.partition("=")
        if not (sep and eq and target and key):
            raise ValueError(f"--model-kw expects name:key=value, got {item!r}")
        result.setdefault(target, {})[key] = yaml.safe_load(value)
    return result


def parse_accuracy(text: str | None) -> dict[str, float]:
    """``"name=top1,name=top1"`` → ``{name: top1}``."""
    result = {}
    for item in filter(None, (text or "").split(",")):
        name, eq, value = item.partition("=")
        try:
            if not eq:
                raise ValueError
            result[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--accuracy expects name=top1 pairs, got {item!r}") from None
    return result


def _model_names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def plan(args: argparse.Namespace) -> tuple[list[tuple[ModelSpec | None, PaperRow | None]], Preset | None]:
    """The rows to measure: ``(spec, paper row)`` pairs from ``--preset`` (filtered by ``--models``) or ``--models``.

    A paper row without a model in this package has spec ``None``; it is shown with the paper's figures only.
    """
    names = _model_names(args.models)
    overrides = parse_model_kwargs(args.model_kw)
    preset = get_preset(args.preset) if args.preset else None
    if preset is None:
        if not names:
            raise ValueError("give --models NAME[,NAME...] or --preset")
        pairs: list[tuple[str, str, dict[str, Any], int, int, PaperRow | None]] = [
            (name, name, {}, args.frames or 32, args.size or 224, None) for name in names
        ]
    else:
        pairs = [
            (row.label, row.model, dict(row.kwargs), args.frames or row.frames, args.size or row.size, row)
            for row in preset.rows
            if not names or row.label in names or row.model in names
        ]
    if preset is not None and names:
        unmatched = [n for n in names if not any(n in (row.label, row.model) for row in preset.rows)]
        if unmatched:
            raise ValueError(f"--models names no row of preset {preset.name!r}: {', '.join(unmatched)}")
    unregistered = sorted({name for _, name, *_ in pairs if name is not None and not is_model(name)})
    if unregistered:
        raise ValueError(f"unknown models {', '.join(unregistered)}; registered: {', '.join(list_models())}")
    planned = []
    for label, name, kwargs, frames, size, paper in pairs:
        if name is None:
            planned.append((None, paper))
            continue
        kwargs = {**kwargs, **overrides.get(name, {}), **overrides.get(label, {})}
        planned.append((ModelSpec(label, name, kwargs, frames, size), paper))
    unknown = set(overrides) - {spec.label for spec, _ in planned if spec} - {s.name for s, _ in planned if s}
    if unknown:
        raise ValueError(f"--model-kw names models that are not benchmarked: {', '.join(sorted(unknown))}")
    return planned, preset


def columns_for(rows: Sequence[dict[str, Any]], batches: Sequence[int], preset: Preset | None) -> list[str]:
    """Printed columns: measured figures, ratios to the first row, then the paper's; empty ones left out."""
    latency = f"lat_b{batches[0]}_ms"
    throughput = [f"vps_b{b}" for b in batches[1:]]
    steps = [f"step_b{b}_ms" for b in batches]
    memory = [key for key in MEMORY_KEYS.values() if any(key in row for row in rows)]
    columns = ["model", "params_m", "gmacs", latency, f"lat_b{batches[0]}_iqr_ms", *throughput, *steps, *memory]
    columns += [f"{key}_x" for key in ("gmacs", latency, *throughput, *steps, *memory)]
    if preset is not None:
        columns += ["paper_gmacs", "paper_lat_ms", "paper_lat_ms_x", "paper_vps", "paper_vps_x"]
        columns += ["paper_mem_gb", "paper_mem_gb_x"]
    columns.append("top1")
    return [c for c in columns if c == "model" or any(row.get(c) is not None for row in rows)]


def run_benchmark(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str], str, RunSettings]:
    """Measure what ``args`` asks for; returns the rows, the printed columns, the title and the settings."""
    settings = RunSettings(
        device=args.device,
        dtype=args.dtype,
        channels_last=args.channels_last,
        num_classes=args.num_classes,
        imports=tuple(args.imports),
        threads=args.threads,
    )
    import_modules(settings.imports)
    try:
        batches = [int(b) for b in args.batch.split(",")]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1:
        raise ValueError(f"--batch must list positive batch sizes like 1,4, got {args.batch!r}")
    memory = {"all": MODES, "inference": ("inference",), "none": ()}[args.memory]
    accuracy = parse_accuracy(args.accuracy)
    planned, preset = plan(args)
    specs = [spec for spec, _ in planned if spec is not None]
    progress = _progress().print
    timing = {"batches": batches, "warmup": args.warmup, "repeats": args.repeats, "stat": args.stat}
    measured_rows = iter(measure(specs, settings, **timing, train=args.train, memory=memory, progress=progress))
    rows = []
    for spec, paper in planned:
        row = next(measured_rows) if spec is not None else {"model": paper.label, "name": None}
        if paper is not None:
            row.update(paper_fields(paper, preset.dataset))
        row["top1"] = accuracy.get(row["model"], accuracy.get(row["name"], row.get("paper_top1")))
        rows.append(row)
    measured = ["params", "macs", "gmacs", *(MEMORY_KEYS[m] for m in memory)]
    kinds = (("lat", "_ms"), ("vps", ""), ("step", "_ms"))
    measured += [f"{kind}_b{b}{unit}" for b in batches for kind, unit in kinds]
    add_ratios(rows, [*measured, *PAPER_KEYS.values()])
    title = f"models ({preset.source})" if preset else "models"
    steps = " and training step (SGD)" if args.train else ""
    title += (
        f": 'FLOPs' are multiply-adds (gmacs = G multiply-adds of one view at batch 1), as in the papers; "
        f"{args.stat} latency/throughput (videos/s){steps} per batch, peak memory (GiB) at batch {batches[0]}; "
        "*_x = ratio to the first row"
    )
    if preset is not None and preset.note:
        title += f". {preset.note}"
    return rows, columns_for(rows, batches, preset), title, settings


def _progress() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``videoshift bench models``."""
    threads = torch.get_num_threads()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        try:
            rows, columns, title, settings = run_benchmark(args)
        except ValueError as error:
            _progress().print(f"error: {error}", style="red", markup=False, highlight=False)
            return 2
        env = environment(settings.device, getattr(torch, settings.dtype))
        env["channels_last"] = settings.channels_last
        report(
            title,
            rows,
            columns,
            env,
            json_path=args.json,
            markdown_path=args.markdown,
            width=sum(max(len(column), 9) + 3 for column in columns),
        )
        if args.plot is not None:
            from videoshift.bench.plot import plot_models

            latency_key = next(column for column in columns if column.startswith("lat_b"))
            plot_models(rows, args.plot, latency_key=latency_key, title=title.split(":")[0])
    finally:
        torch.set_num_threads(threads)
    return 0


def add_parser(bench_subparsers: argparse._SubParsersAction) -> None:
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
    parser.add_argument(
        "--memory", choices=("all", "inference", "none"), default="all", help="which peak memories to measure"
    )
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
    parser.set_defaults(func=run)
