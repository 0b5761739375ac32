"""One fine-tuning run: data, start and recipe into a training config, the engine's Trainer, then a weights package.

The run folder holds what ``videoshift train`` writes (``config.yaml``, ``latest.pth``, ``best.pth``,
``metrics.jsonl``, ``tb/``, ``eval/``) plus the data's list files and ``data.json`` (:mod:`.data`),
``start.safetensors`` (:mod:`.start`), ``finetune.json`` (the effective recipe) and ``val_predictions.json``
(the packaged model's probabilities for every val video). ``--resume`` continues it exactly, through the
Trainer's own resume. The package (``--out``) is read by every command as ``--weights OUT``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from videoshift.finetune.defaults import FamilyRecipe, family_recipe
from videoshift.finetune.start import Start
from videoshift.inference.recipe import Recipe


@dataclass
class FinetuneOptions:
    """What ``videoshift finetune`` was asked (see its ``--help``); ``None`` takes the start's or family's value."""

    data: Path
    out: Path
    run_dir: Path | None = None
    weights: str | None = None
    checkpoint: Path | None = None
    config: str | None = None
    model: str | None = None
    pretrained: bool = False
    model_kw: dict[str, Any] = field(default_factory=dict)
    frames: int | None = None
    size: int | None = None
    epochs: int | None = None
    batch: int | None = None
    accumulate: int = 1
    lr: float | None = None
    lr_batch: int | None = None
    val_fraction: float = 0.2
    seed: int = 0
    workers: int = 2
    threads: int | None = None
    device: str = "auto"
    overrides: Sequence[str] = ()
    resume: bool = False

    @property
    def run_folder(self) -> Path:
        """The run folder: ``--run-dir``, else ``OUT-run`` beside the package."""
        return self.run_dir or self.out.with_name(f"{self.out.name}-run")


def override_recipe(recipe: Recipe, frames: int | None, size: int | None) -> Recipe:
    """``recipe`` reading ``frames`` frames per view (segments; dense: the clip length) at ``size`` px crops (the
    resize before the crop keeps its ratio to the crop)."""
    sampling, transform = dict(recipe.sampling), dict(recipe.transform)
    if frames is not None:
        sampling["clip_len" if sampling.get("type") == "dense" else "num_frames"] = int(frames)
    if size is not None:
        transform["short_side"] = round(size * transform["short_side"] / transform["input_size"])
        transform["input_size"] = int(size)
    return replace(recipe, sampling=sampling, transform=transform)


def build_config(
    options: FinetuneOptions, start: Start, recipe: Recipe, data_section: dict[str, Any], world_size: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training config of the run and the effective settings as a person reads them (``finetune.json``)."""
    from videoshift.assignments import deep_merge
    from videoshift.engine.config import DEFAULTS, apply_overrides, validate_config
    from videoshift.engine.optim import scaled_lr

    family: FamilyRecipe = family_recipe(start.family)
    epochs = options.epochs or family.epochs
    batch = options.batch or family.batch
    base_lr = float(options.lr if options.lr is not None else family.optim["lr"])
    lr_batch = int(options.lr_batch or family.lr_batch)
    global_batch = batch * world_size * options.accumulate
    lr = scaled_lr(base_lr, lr_batch, global_batch)
    train_sampling = {k: v for k, v in recipe.sampling.items() if k not in ("num_clips", "twice_sample")}
    raw = {
        "name": options.out.name,
        "description": f"videoshift finetune {options.data} from {start.source}",
        "model": {
            "name": start.name,
            "pretrained": start.pretrained,
            "checkpoint": str(start.checkpoint) if start.checkpoint else None,
            "kwargs": {**start.kwargs, "dropout": family.dropout, **options.model_kw},
        },
        "data": {
            **data_section,
            "backend": recipe.backend,
            "sampling": train_sampling,
            "test_sampling": dict(recipe.sampling),
            "transform": dict(recipe.transform),
        },
        "optim": {**family.optim, "lr": lr, "lr_batch": global_batch},
        "schedule": family.schedule_for(epochs),
        "train": {
            "epochs": epochs,
            "batch_size": batch,
            "accumulate": options.accumulate,
            "clip_grad_norm": family.clip_grad_norm,
            "seed": options.seed,
            "num_workers": options.workers,
            "threads": options.threads,
            "device": options.device,
        },
        "eval": {"average": recipe.average},
    }
    cfg = apply_overrides(deep_merge(DEFAULTS, raw), options.overrides)
    cfg["overrides"] = list(options.overrides)
    validate_config(cfg)
    optim = cfg["optim"]
    settings = {
        "start": start.describe(),
        "model": cfg["model"]["name"],
        "kwargs": cfg["model"]["kwargs"],
        "reads": recipe.describe(),
        "lr": {"stated": base_lr, "at_batch": lr_batch, "scaled": lr, "global_batch": global_batch},
        "global_batch": f"{batch} per process x {world_size} processes x {options.accumulate} accumulated",
        "training": (
            f"{cfg['train']['epochs']} epochs, {optim['name']} lr {optim['lr']:.6g} at global batch {global_batch} "
            f"({base_lr:g} at {lr_batch}, scaled linearly), weight decay {optim['weight_decay']:g}, "
            f"{cfg['schedule']['name']} schedule, dropout {cfg['model']['kwargs'].get('dropout')}, "
            f"gradient clip {cfg['train']['clip_grad_norm']}, seed {cfg['train']['seed']}"
        ),
        "defaults_source": f"{start.family} family: {family.source}",
    }
    return cfg, settings


def finetune(options: FinetuneOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Fine-tune as ``options`` say; returns the package's val metrics (``top1``, ``top5``, …).

    Raises:
        ValueError: bad data or options, or a run folder holding a run while ``resume`` is off.
    """
    from videoshift.engine import checkpointing, distributed
    from videoshift.engine.train import Trainer
    from videoshift.finetune.data import prepare_data
    from videoshift.finetune.start import resolve_start
    from videoshift.models.contract import is_head_key

    run_dir = options.run_folder
    if not options.resume and (run_dir / checkpointing.LATEST).is_file():
        raise ValueError(f"{run_dir} holds a run already: --resume continues it, --run-dir starts another")
    dist = distributed.setup(options.device)
    start = resolve_start(
        run_dir,
        weights=options.weights,
        checkpoint=options.checkpoint,
        config=options.config,
        model=options.model,
        pretrained=options.pretrained,
        model_kw=options.model_kw,
        write=dist.is_main,
    )
    recipe = override_recipe(start.recipe, options.frames, options.size)
    prepare = (options.data, run_dir, recipe.frames_per_view, options.val_fraction, options.seed, recipe.backend)
    data = prepare_data(*prepare) if dist.is_main else None
    distributed.barrier()
    data = data or prepare_data(*prepare)  # the other ranks read what the main rank wrote
    cfg, settings = build_config(options, start, recipe, data.data_section(run_dir), dist.world_size)
    settings["data"] = {"root": data.root, "classes": data.class_names, "counts": data.counts}
    settings["data"]["skipped"] = len(data.skipped)
    if dist.is_main:
        _say_settings(say, options, settings, data)
        (run_dir / "finetune.json").write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")
    trainer = Trainer(cfg, run_dir, dist_info=dist)
    heads = tuple(trainer.model.head_keys)
    reset = [f"{k} {tuple(v.shape)}" for k, v in trainer.model.state_dict().items() if is_head_key(k, heads)]
    if dist.is_main:
        say(f"  weights: {start.describe()}; new classifier for {len(data.class_names)} classes: {', '.join(reset)}")
    trainer.fit(resume=options.resume)
    result = package_best(options, cfg, data, settings, dist)
    distributed.cleanup()
    return result


def _say_settings(say: Callable[[str], None], options: FinetuneOptions, settings: dict, data: Any) -> None:
    counts = ", ".join(f"{split} {count}" for split, count in data.counts.items())
    say(f"videoshift finetune {options.data} -> {options.out} (run folder {options.run_folder})")
    say(f"  start: {settings['start']}")
    say(f"  data: {len(data.class_names)} classes; clips {counts}; {len(data.skipped)} skipped")
    for item in data.skipped:
        say(f"    skipped {item.path}: {item.reason}")
    if data.split_seed is not None:
        say(f"  split: val = {data.val_fraction:g} of each class, seed {data.split_seed} (lists in the run folder)")
    say(f"  model: {settings['model']} {json.dumps(settings['kwargs'])}")
    say(f"  reads: {settings['reads']}")
    say(f"  training: {settings['training']} ({settings['global_batch']})")
    say(f"  defaults: {settings['defaults_source']}")


def package_best(options: FinetuneOptions, cfg: dict, data: Any, settings: dict, dist: Any) -> dict[str, Any]:
    """Evaluate the run's best checkpoint on val (every rank) and, on the main rank, write it as the package with
    its card, ``metrics.json``, the confusion picture, and the per-video probabilities into the run folder."""
    from videoshift.engine import checkpointing
    from videoshift.engine.evaluate import score
    from videoshift.engine.runner import predict_split
    from videoshift.finetune.card import CONFUSION_PNG, model_card, plot_confusion
    from videoshift.inference import load_model
    from videoshift.inference.package import write_package

    run_dir = options.run_folder
    best = load_model(checkpoint=run_dir / checkpointing.BEST)
    batch = int(cfg["train"]["batch_size"])
    dataset, predictions = predict_split(best, cfg["data"], "val", dist, None, batch, options.workers)
    result = score(predictions)
    metrics = {k: result[k] for k in ("top1", "top5", "mean_class_acc", "count")}
    if dist.is_main:
        rows = [
            {
                "video": str(Path(data.root) / dataset.samples[int(i)].path),
                "label": data.class_names[int(label)],
                "probs": [round(float(p), 6) for p in probs],
            }
            for i, label, probs in zip(predictions.indices, predictions.labels, predictions.probs, strict=True)
        ]
        (run_dir / "val_predictions.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        about = {"finetuned": {"data": data.root, "counts": data.counts, "val": metrics, "run": str(run_dir)}}
        card = model_card(data, settings, result)
        write_package(best.model, best.name, best.kwargs, best.recipe, options.out, about=about, card=card)
        confusion = result["confusion"].numpy()
        plot_confusion(confusion, data.class_names, options.out / CONFUSION_PNG, f"{options.out.name}: val")
        per_class = dict(zip(data.class_names, result["per_class_acc"], strict=True))
        (options.out / "metrics.json").write_text(
            json.dumps({**metrics, "split": "val", "per_class_acc": per_class}, indent=1) + "\n", encoding="utf-8"
        )
    return metrics
