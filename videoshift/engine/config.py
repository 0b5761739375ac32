"""Run configurations: YAML files over built-in defaults, ``--set key=value`` overrides, validation.

A configuration is a plain nested dict with the sections of :data:`DEFAULTS` (``model``, ``data``, ``optim``,
``schedule``, ``train``, ``eval``) plus a few top-level keys. Loading merges the YAML file over the defaults,
then applies the overrides (read by :mod:`videoshift.assignments`, so ``train.epochs=3`` is an int,
``optim.lr=1e-3`` a float and ``optim.betas=[0.9,0.99]`` a list), and validates the keys so that a typo fails
loudly instead of being ignored. The ``data`` section is validated by the data package when datasets are built.

A config may also hold ``experiments``: a list of ``{name, set: {key: value}}`` entries, each one a run of the
same base config with its own overrides (the built-in synthetic comparison uses this). Command-line overrides
are applied last, over each experiment's settings too, so ``--set train.epochs=1`` shortens every run.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from videoshift.assignments import deep_merge, parse_assignment, parse_yaml, set_path

DEFAULT_CONFIG_NAME = "synthetic_default"

DEFAULTS: dict[str, Any] = {
    "name": None,  # run name; defaults to the config file's stem
    "description": None,
    "paper": {
        "row": None,  # the videoshift.models.papers row it reproduces, e.g. "TPS Table 3: PST-T (IN-1K, 3x1)"
        "dataset": None,  # which of the row's top-1 values: sthv1 | sthv2 | k400 | diving48
    },
    "model": {
        "name": None,  # a registered model (videoshift.models.list_models())
        "num_frames": None,  # frames the model expects; None: data.sampling.num_frames
        "pretrained": False,
        "checkpoint": None,  # weights to start from (strict loader, head may be re-sized)
        "kwargs": {},  # passed to create_model (architecture overrides, drop_path_rate, dropout, backbone, …)
    },
    "data": {},  # the data package's section (see videoshift.data.build_dataset)
    "optim": {
        "name": "adamw",  # adamw | sgd
        "lr": 1e-3,  # at the reference batch size (per-process batch × processes × accumulate)
        "weight_decay": 0.02,
        "betas": [0.9, 0.999],
        "momentum": 0.9,
        "nesterov": False,
        "param_groups": "tps",  # tps: no decay for norms/biases/no_weight_decay(); tsm: the TSM policies
        "backbone_lr_mult": 1.0,  # learning-rate multiplier of everything but the classifier head
        "fc_lr5": False,  # tsm groups: head weight ×5 and head bias ×10 learning rate (fine-tuning)
    },
    "schedule": {
        "name": "cosine",  # cosine | step | constant
        "warmup_epochs": 0.0,  # linear warm-up, updated every iteration
        "warmup_start_factor": 0.01,
        "min_lr_factor": 0.0,  # cosine floor as a fraction of the base lr
        "milestones": [],  # step: epochs at which the lr is multiplied by gamma
        "gamma": 0.1,
    },
    "train": {
        "epochs": 30,
        "batch_size": 8,  # per process
        "accumulate": 1,  # gradient accumulation steps per optimizer step
        "label_smoothing": 0.0,
        "clip_grad_norm": None,
        "amp": "none",  # none | bf16 | fp16 (fp16 on GPU only, with a GradScaler)
        "grad_checkpointing": False,
        "sync_bn": False,  # convert BatchNorm to SyncBatchNorm under DDP
        "num_workers": 2,
        "seed": 0,
        "deterministic": False,
        "device": "auto",  # auto | cpu | cuda | cuda:N
        "threads": None,  # torch.set_num_threads (CPU), None keeps torch's default
        "checkpoint_every": 0,  # also checkpoint every N optimizer steps inside an epoch (0: epoch ends only)
        "eval_every": 1,  # evaluate every N epochs (and after the last)
        "log_every": 10,  # plain log line every N steps when not on a terminal
    },
    "eval": {
        "batch_size": None,  # None: train.batch_size
        "average": "prob",  # prob (mean of softmax over views) | score (mean of logits)
    },
    "experiments": None,
    "parallel_runs": 1,  # runs of the experiments trained at once, each in its own process (one machine)
    "overrides": [],  # the command line's --set values; applied last, also over each experiment's own settings
}


_FREE_FORM = {("model", "kwargs"), ("data",)}  # sections whose keys are checked elsewhere


def apply_overrides(cfg: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``cfg`` with every ``key=value`` override set (intermediate sections are created)."""
    out = copy.deepcopy(dict(cfg))
    for text in overrides:
        set_path(out, *parse_assignment(text))
    return out


def validate_config(cfg: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming every unknown key and the bad values the engine itself would misuse."""
    unknown = sorted(_unknown_keys(cfg, DEFAULTS, ()))
    if unknown:
        raise ValueError(f"unknown config keys: {', '.join(unknown)}")
    choices = {
        ("optim", "name"): ("adamw", "sgd"),
        ("optim", "param_groups"): ("tps", "tsm"),
        ("schedule", "name"): ("cosine", "step", "constant"),
        ("train", "amp"): ("none", "bf16", "fp16"),
        ("eval", "average"): ("prob", "score"),
    }
    for (section, key), allowed in choices.items():
        if cfg[section][key] not in allowed:
            raise ValueError(f"{section}.{key} must be one of {allowed}, got {cfg[section][key]!r}")
    for key in ("epochs", "batch_size", "accumulate", "eval_every", "log_every"):
        if not isinstance(cfg["train"][key], int) or cfg["train"][key] < 1:
            raise ValueError(f"train.{key} must be a positive integer, got {cfg['train'][key]!r}")
    if not cfg["experiments"] and not cfg["model"]["name"]:
        raise ValueError("model.name is required (a registered model, see videoshift.models.list_models())")
    for entry in cfg["experiments"] or ():
        if not isinstance(entry, Mapping) or not entry.get("name") or set(entry) - {"name", "set"}:
            raise ValueError(f"each experiments entry needs a name and optional 'set' overrides, got {entry!r}")
    if cfg["paper"]["row"] is not None:
        paper_top1(cfg)


def paper_top1(cfg: Mapping[str, Any]) -> float | None:
    """The top-1 that the paper reports for the config's ``paper.row`` on ``paper.dataset`` (``None``: no row).

    Raises:
        ValueError: the row is not in the table of the papers' numbers, or reports no top-1 for the dataset.
    """
    from videoshift.models.papers import paper_row

    if cfg["paper"]["row"] is None:
        return None
    row = paper_row(cfg["paper"]["row"])
    dataset = cfg["paper"]["dataset"]
    if dataset not in row.top1:
        raise ValueError(f"paper.dataset must be one of {sorted(row.top1)} for row {row.key!r}, got {dataset!r}")
    return row.top1[dataset]


def _unknown_keys(cfg: Mapping[str, Any], schema: Mapping[str, Any], prefix: tuple[str, ...]) -> list[str]:
    found = []
    for key, value in cfg.items():
        path = (*prefix, key)
        if key not in schema:
            found.append(".".join(path))
        elif isinstance(schema[key], dict) and path not in _FREE_FORM:
            if not isinstance(value, Mapping):
                found.append(f"{'.'.join(path)} (must be a section)")
            else:
                found.extend(_unknown_keys(value, schema[key], path))
    return found


def builtin_config_path(name: str) -> Path:
    """Path of a config shipped with the package (``videoshift/configs/NAME.yaml``); dashes in ``name`` read as
    underscores (``tps-ablation`` is ``tps_ablation.yaml``)."""
    folder = Path(str(resources.files("videoshift") / "configs"))
    path = folder / f"{name}.yaml"
    if not path.is_file():
        path = folder / f"{name.replace('-', '_')}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ValueError(f"no config file {name!r} and no built-in config of that name; built-in: {', '.join(known)}")
    return path


def resolve_config_path(path_or_name: str | Path | None) -> Path:
    """A config file path: an existing file, else a built-in config name, else the built-in default."""
    if path_or_name is None:
        return builtin_config_path(DEFAULT_CONFIG_NAME)
    path = Path(path_or_name)
    if path.is_file():
        return path
    return builtin_config_path(path.stem if path.suffix in (".yaml", ".yml") else str(path_or_name))


def load_config(path_or_name: str | Path | None = None, overrides: Iterable[str] = ()) -> dict[str, Any]:
    """Load a YAML config (or a built-in one by name, or the default) over :data:`DEFAULTS`, apply overrides.

    Raises:
        ValueError: the file is not a mapping, an override is malformed, or a key is unknown.
    """
    path = resolve_config_path(path_or_name)
    with open(path, encoding="utf-8") as handle:
        try:
            raw = parse_yaml(handle.read()) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"cannot parse config {path}: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ValueError(f"config {path} must hold a mapping at the top level")
    overrides = list(overrides)
    cfg = apply_overrides(deep_merge(DEFAULTS, raw), overrides)
    cfg["overrides"] = overrides
    if cfg["name"] is None:
        cfg["name"] = path.stem
    validate_config(cfg)
    return cfg


def experiment_configs(cfg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The runs a config describes: itself, or one config per ``experiments`` entry (named after it)."""
    if not cfg.get("experiments"):
        return [copy.deepcopy(dict(cfg))]
    runs = []
    for entry in cfg["experiments"]:
        run = copy.deepcopy({k: v for k, v in cfg.items() if k != "experiments"})
        for key, value in (entry.get("set") or {}).items():
            set_path(run, key, value)
        run = apply_overrides(run, cfg.get("overrides") or ())  # the command line wins over the experiment
        run["name"], run["experiments"] = entry["name"], None
        validate_config(run)
        runs.append(run)
    return runs


def save_config(cfg: Mapping[str, Any], path: str | Path) -> None:
    """Write the resolved config as YAML (keys in schema order)."""
    Path(path).write_text(yaml.safe_dump(dict(cfg), sort_keys=False), encoding="utf-8")
