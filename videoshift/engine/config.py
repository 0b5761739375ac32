"""Run configurations: YAML files over built-in defaults, ``--set key=value`` overrides, validation.

A configuration is a plain nested dict with the sections of :mod:`videoshift.engine.schema` (``model``, ``data``,
``optim``, ``schedule``, ``train``, ``eval``) plus a few top-level keys; ``docs/config.md`` lists every key with its
default and meaning. Loading merges the YAML file over the defaults, then applies the overrides (read by
:mod:`videoshift.assignments`: ``train.epochs=3`` is an int, ``optim.lr=1e-3`` a float, ``optim.betas=[0.9,0.99]``
a list), and validates the keys of every section, ``data`` and its nested sections included, so that a typo
(``data.test_samplng``) fails loudly, naming the closest valid key, instead of being ignored.

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
from videoshift.engine import schema

DEFAULT_CONFIG_NAME = "synthetic_default"

DEFAULTS: dict[str, Any] = schema.defaults()  # every section's defaults but data's (build_dataset applies those)


def apply_overrides(cfg: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``cfg`` with every ``key=value`` override set (intermediate sections are created)."""
    out = copy.deepcopy(dict(cfg))
    for text in overrides:
        set_path(out, *parse_assignment(text))
    return out


def validate_config(cfg: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming every unknown key (with the closest valid one) and the bad values the engine
    itself would misuse."""
    unknown = schema.unknown_keys(cfg)
    if unknown:
        raise ValueError("; ".join(unknown))
    bad = schema.bad_choices(cfg)
    if bad:
        raise ValueError("; ".join(bad))
    for key in ("epochs", "batch_size", "accumulate", "eval_every", "log_every"):
        if not isinstance(cfg["train"][key], int) or cfg["train"][key] < 1:
            raise ValueError(f"train.{key} must be a positive integer, got {cfg['train'][key]!r}")
    if not cfg["experiments"] and not cfg["model"]["name"]:
        raise ValueError("model.name is required (a registered model, see videoshift.models.list_models())")
    for index, entry in enumerate(cfg["experiments"] or ()):
        if not entry.get("name") or not isinstance(entry.get("set") or {}, Mapping):
            raise ValueError(f"experiments[{index}] needs a name and optional 'set' overrides, got {entry!r}")
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
    try:
        validate_config(cfg)
        experiment_configs(cfg)  # each experiment's own settings are checked now, not when its run starts
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    return cfg


def experiment_configs(cfg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The runs a config describes: itself, or one config per ``experiments`` entry (named after it)."""
    if not cfg.get("experiments"):
        return [copy.deepcopy(dict(cfg))]
    runs = []
    for entry in cfg["experiments"]:
        run = copy.deepcopy({k: v for k, v in cfg.items() if k != "experiments"})
        try:
            for key, value in (entry.get("set") or {}).items():
                set_path(run, key, value)
            run = apply_overrides(run, cfg.get("overrides") or ())  # the command line wins over the experiment
            run["name"], run["experiments"] = entry["name"], None
            validate_config(run)
        except ValueError as error:
            raise ValueError(f"experiment {entry['name']!r}: {error}") from error
        runs.append(run)
    return runs


def save_config(cfg: Mapping[str, Any], path: str | Path) -> None:
    """Write the resolved config as YAML (keys in schema order)."""
    Path(path).write_text(yaml.safe_dump(dict(cfg), sort_keys=False), encoding="utf-8")
