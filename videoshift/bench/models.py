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

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import torch
from torch import nn

from videoshift.assignments import parse_assignment
from videoshift.bench.choices import STATS
from videoshift.bench.common import time_in_turns
from videoshift.bench.memory import MODES, peak_memory
from videoshift.bench.presets import Preset, get_preset
from videoshift.bench.specs import ModelSpec, RunSettings, build_model, import_modules, make_clip, training_step
from videoshift.models import is_model, list_models
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.papers import PaperRow

GIB = 2**30
MEMORY_KEYS = {"inference": "mem_infer_gib", "train": "mem_train_gib"}
# PaperRow attribute -> output field.
PAPER_KEYS = {
    "gmacs": "paper_gmacs",
    "memory_gb": "paper_mem_gb",
    "latency_ms": "paper_lat_ms",
    "throughput_vps": "paper_vps",
    "params_m": "paper_params_m",
}


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


def parse_accuracy(text: str | None) -> dict[str, float]:
    """``"name=top1,name=top1"`` → ``{name: top1}``: assignments (:mod:`videoshift.assignments`) of numbers."""
    result = {}
    for item in filter(None, (text or "").split(",")):
        name, top1 = parse_assignment(item.strip())
        if isinstance(top1, bool) or not isinstance(top1, int | float):
            raise ValueError(f"--accuracy expects name=top1 pairs, got {item!r}")
        result[name] = float(top1)
    return result


def model_names(text: str | None) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]`` (empty names left out)."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def parse_batches(text: str) -> list[int]:
    """``"1,4"`` → ``[1, 4]``; raises ``ValueError`` unless it lists positive batch sizes."""
    try:
        batches = [int(b) for b in text.split(",")]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1:
        raise ValueError(f"--batch must list positive batch sizes like 1,4, got {text!r}")
    return batches


Planned = tuple[ModelSpec | None, PaperRow | None]


def plan(
    models: Sequence[str] = (),
    *,
    preset: str | None = None,
    model_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    frames: int | None = None,
    size: int | None = None,
) -> tuple[list[Planned], Preset | None]:
    """The rows to measure: ``(spec, paper row)`` pairs from ``preset`` (filtered by ``models``) or ``models``.

    ``models`` are model names or, with a preset, row labels or model names; ``model_kwargs`` maps a name or
    label to extra keyword arguments; ``frames`` and ``size`` replace the preset's (default 32 and 224 without).
    A paper row without a model in this package has spec ``None``; it is shown with the paper's figures only.
    """
    names = list(models)
    overrides = model_kwargs or {}
    paper_table = get_preset(preset) if preset else None
    if paper_table is None:
        if not names:
            raise ValueError("give --models NAME[,NAME...] or --preset")
        pairs: list[tuple[str, str, dict[str, Any], int, int, PaperRow | None]] = [
            (name, name, {}, frames or 32, size or 224, None) for name in names
        ]
    else:
        pairs = [
            (row.label, row.model, dict(row.kwargs), frames or row.frames, size or row.size, row)
            for row in paper_table.rows
            if not names or row.label in names or row.model in names
        ]
    if paper_table is not None and names:
        unmatched = [n for n in names if not any(n in (row.label, row.model) for row in paper_table.rows)]
        if unmatched:
            raise ValueError(f"--models names no row of preset {paper_table.name!r}: {', '.join(unmatched)}")
    unregistered = sorted({name for _, name, *_ in pairs if name is not None and not is_model(name)})
    if unregistered:
        raise ValueError(f"unknown models {', '.join(unregistered)}; registered: {', '.join(list_models())}")
    planned: list[Planned] = []
    for label, name, kwargs, spec_frames, spec_size, paper in pairs:
        if name is None:
            planned.append((None, paper))
            continue
        kwargs = {**kwargs, **overrides.get(name, {}), **overrides.get(label, {})}
        planned.append((ModelSpec(label, name, kwargs, spec_frames, spec_size), paper))
    unknown = set(overrides) - {spec.label for spec, _ in planned if spec} - {s.name for s, _ in planned if s}
    if unknown:
        raise ValueError(f"--model-kw names models that are not benchmarked: {', '.join(sorted(unknown))}")
    return planned, paper_table


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


def run_benchmark(
    settings: RunSettings,
    *,
    models: Sequence[str] = (),
    preset: str | None = None,
    model_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    frames: int | None = None,
    size: int | None = None,
    batches: Sequence[int] = (1, 4),
    warmup: int = 2,
    repeats: int = 10,
    stat: str = "median",
    train: bool = False,
    memory: Sequence[str] = MODES,
    accuracy: Mapping[str, float] | None = None,
    progress: Callable[[str], object] = lambda message: None,
) -> tuple[list[dict[str, Any]], list[str], str]:
    """Measure the models :func:`plan` picks; returns the rows, the printed columns and the title.

    ``settings.imports`` are imported first (they may register the models); ``accuracy`` maps a row label or
    model name to its top-1 (default: the paper's); the other arguments are those of :func:`plan` and
    :func:`measure`.
    """
    import_modules(settings.imports)
    if not batches or min(batches) < 1:
        raise ValueError(f"batches must be positive, got {list(batches)}")
    accuracy = accuracy or {}
    planned, paper_table = plan(models, preset=preset, model_kwargs=model_kwargs, frames=frames, size=size)
    specs = [spec for spec, _ in planned if spec is not None]
    timing = {"batches": batches, "warmup": warmup, "repeats": repeats, "stat": stat}
    measured_rows = iter(measure(specs, settings, **timing, train=train, memory=memory, progress=progress))
    rows = []
    for spec, paper in planned:
        row = next(measured_rows) if spec is not None else {"model": paper.label, "name": None}
        if paper is not None:
            row.update(paper_fields(paper, paper_table.dataset))
        row["top1"] = accuracy.get(row["model"], accuracy.get(row["name"], row.get("paper_top1")))
        rows.append(row)
    measured = ["params", "macs", "gmacs", *(MEMORY_KEYS[m] for m in memory)]
    kinds = (("lat", "_ms"), ("vps", ""), ("step", "_ms"))
    measured += [f"{kind}_b{b}{unit}" for b in batches for kind, unit in kinds]
    add_ratios(rows, [*measured, *PAPER_KEYS.values()])
    title = f"models ({paper_table.source})" if paper_table else "models"
    steps = " and training step (SGD)" if train else ""
    title += (
        f": 'FLOPs' are multiply-adds (gmacs = G multiply-adds of one view at batch 1), as in the papers; "
        f"{stat} latency/throughput (videos/s){steps} per batch, peak memory (GiB) at batch {batches[0]}; "
        "*_x = ratio to the first row"
    )
    if paper_table is not None and paper_table.note:
        title += f". {paper_table.note}"
    return rows, columns_for(rows, batches, paper_table), title
