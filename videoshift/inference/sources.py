"""The one loader: from any model source a user has to a model in eval mode with its recipe.

Sources, and how each is recognised:

- a registered weights tag (``videoshift weights list``): the registry builds, downloads or finds, verifies and
  loads it; the recipe is the entry's test protocol;
- a training checkpoint (``latest.pth`` / ``best.pth`` of a run; its ``format`` tag is read and an unknown one is
  named): the model is rebuilt from its saved ``create_model`` call; the recipe is the one training wrote, or for
  checkpoints written before recipes, the one its saved config implies;
- a weights package (a folder with ``model.safetensors`` and ``spec.json``, as ``videoshift weights convert`` and
  ``videoshift finetune`` write, or that ``model.safetensors`` alone): model, arguments and recipe are stored in
  it;
- a config (file or built-in name) plus any weights file: the config's model, data classes and test sampling;
  every weight, classifier included, must come from the file.

Every command that runs a trained model (``predict``, ``test``, ``viz cam``, ``export``, ``demo``) loads it here
and reads videos with the recipe attached, so they all see the same clip.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from videoshift.inference.recipe import Recipe

log = logging.getLogger("videoshift.inference")

TRAINING_FORMATS = ("videoshift-train-v1", "videoshift-train-v2")
"""Training-checkpoint formats this version reads (``v2``: per-rank RNG states; both: model_args + config)."""
PACKAGE_WEIGHTS, PACKAGE_SPEC = "model.safetensors", "spec.json"
WEIGHT_SUFFIXES = (".pth", ".pt", ".ckpt", ".tar", ".safetensors", ".bin")


@dataclass
class LoadedModel:
    """A recognizer in eval mode with its recipe and where it came from.

    Attributes:
        model: the recognizer (eval mode, on its device).
        recipe: how it reads a video (:class:`~videoshift.inference.recipe.Recipe`).
        name: the registered model name; ``kwargs``: its ``create_model`` arguments (rebuilds the architecture).
        source: one line saying what was loaded, from where.
        upstream: a registry entry's results as the upstream printed them (``top1``, …), else empty.
    """

    model: nn.Module
    recipe: Recipe
    name: str
    kwargs: dict[str, Any]
    source: str
    upstream: Mapping[str, Any] = field(default_factory=dict)

    @property
    def class_names(self) -> list[str] | None:
        return list(self.recipe.class_names) if self.recipe.class_names else None

    @property
    def num_classes(self) -> int:
        return self.recipe.num_classes

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


@dataclass
class _Found:
    """What a source holds before the model is built: the architecture, its weights, its recipe."""

    name: str
    kwargs: dict[str, Any]
    state: Mapping[str, torch.Tensor] | str | Path | None  # a state dict, a file to read, or None: registry/random
    recipe: Recipe | None  # None: derive from the built model (configs of synthetic runs)
    source: str
    tag: str | None = None
    config: Mapping[str, Any] | None = None  # the config the recipe follows, where the source holds none
    upstream: Mapping[str, Any] = field(default_factory=dict)
    from_config: bool = False  # the architecture is the given config's (plain weights, or untrained)
    class_names: list[str] | None = None  # names a training checkpoint saved beside a pre-recipe config


def load_model(
    *,
    weights: str | Path | None = None,
    checkpoint: str | Path | None = None,
    config: str | Path | None = None,
    model: str | None = None,
    model_kw: Mapping[str, Any] | None = None,
    allow_causal: bool = False,
    allow_random: bool = False,
    device: str | torch.device = "cpu",
) -> LoadedModel:
    """Load a model from one source (see the module docstring) with its recipe.

    Args:
        weights: a registered tag, a weights package folder, or a weights file (a training checkpoint or a
            package's ``model.safetensors`` read alone; any other file needs ``config``).
        checkpoint: a training checkpoint, or with ``config`` any weights file.
        config: a config (file or built-in name) saying which model a plain weights file fits.
        model: the model name the caller expects; a source holding another model is an error naming both.
        model_kw: ``create_model`` arguments that override the source's (e.g. ``num_frames`` for export).
        allow_causal: let ``model_kw`` turn a two-way-shift model causal (its outputs change; fine-tune it).
        allow_random: with neither weights nor checkpoint, build ``model`` or ``config``'s model untrained.
        device: where the model goes.

    Raises:
        ValueError: no source or two, an unknown tag or format, a missing file, weights that do not fit, a model
            other than ``model``, or an unasked causal conversion.
    """
    found = _locate(weights, checkpoint, config, model, allow_random)
    if model is not None and found.name != model:
        raise ValueError(f"{found.source} holds a {found.name} model, not {model}: name {found.name} or another source")
    if config is not None and not found.from_config:
        _check_config_model(config, found)
    kwargs = _with_overrides(found, dict(model_kw or {}), allow_causal)
    built = _build(found, kwargs)
    recipe = found.recipe or _config_recipe(found, built)
    if recipe.num_classes != built.num_classes:
        raise ValueError(f"{found.source}: its recipe has {recipe.num_classes} classes, the model {built.num_classes}")
    log.debug("model: %s", found.source)
    return LoadedModel(built.to(device).eval(), recipe, found.name, kwargs, found.source, found.upstream)


# ------------------------------------------------------------------------------------------------- locating
def _locate(weights, checkpoint, config, model, allow_random: bool) -> _Found:
    if weights is not None and checkpoint is not None:
        raise ValueError("give one of --weights and --checkpoint, not both")
    if checkpoint is not None:
        return _from_file(Path(checkpoint), config, model, "--checkpoint")
    if weights is not None:
        path = Path(weights)
        if path.is_dir():
            return _from_package(path)
        if path.is_file():
            return _from_file(path, config, model, "--weights")
        if path.suffix.lower() in WEIGHT_SUFFIXES or "/" in str(weights):
            raise ValueError(f"--weights {weights}: no such file or folder")
        return _from_registry(str(weights), model)
    if allow_random and (model is not None or config is not None):
        return _random(model, config)
    raise ValueError("no model given: name one with --weights TAG|DIR|FILE, or --checkpoint PATH")


def _from_registry(tag: str, model: str | None) -> _Found:
    from videoshift.models.weights import get_weights

    spec = get_weights(tag, model)
    return _Found(
        spec.model,
        dict(spec.kwargs),
        None,
        Recipe.from_protocol(spec),
        f"registered weights {spec.tag} ({spec.model}, {spec.source.repository})",
        tag=spec.tag,
        upstream=dict(spec.upstream),
    )


def _from_file(path: Path, config: str | Path | None, model: str | None, flag: str) -> _Found:
    if not path.is_file():
        raise ValueError(f"{flag} {path}: no such file")
    if path.suffix == ".safetensors":
        stored = _safetensors_metadata(path)
        if "model" in stored and config is None:
            return _package_found(path, stored, path)
        return _plain_weights(path, config, model, flag)
    from videoshift.engine import checkpointing

    try:
        saved = checkpointing.load(path)
    except Exception as error:  # an unreadable or unsafe file: name it, keep the reason's first line
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{flag} {path}: cannot read it as weights ({reason})") from None
    if isinstance(saved, Mapping) and ("format" in saved or "model_args" in saved):
        return _from_training(path, saved)
    return _plain_weights(saved, config, model, flag, path)


def _from_training(path: Path, saved: Mapping[str, Any]) -> _Found:
    form = saved.get("format", TRAINING_FORMATS[0])  # checkpoints before format tags are the first format
    if form not in TRAINING_FORMATS:
        raise ValueError(
            f"{path}: unknown checkpoint format {form!r} (this version reads {', '.join(TRAINING_FORMATS)})"
        )
    if "model_args" not in saved or "model" not in saved:
        raise ValueError(f"{path}: a {form} checkpoint without 'model_args' and 'model'; it is damaged")
    arguments = saved["model_args"]
    kwargs = {k: v for k, v in dict(arguments["kwargs"]).items() if k != "pretrained"}  # the weights are here
    names = list(saved.get("class_names") or []) or None
    recipe = Recipe.from_dict(saved["recipe"], f"{path} recipe") if "recipe" in saved else None
    source = f"training checkpoint {path} ({form}, {arguments['name']})"
    evaluation = {"average": "prob", **dict(saved["config"].get("eval") or {})}
    saved_cfg = {"data": saved["config"]["data"], "eval": evaluation}
    return _Found(arguments["name"], kwargs, saved["model"], recipe, source, config=saved_cfg, class_names=names)


def _from_package(folder: Path) -> _Found:
    weights = folder / PACKAGE_WEIGHTS
    if not weights.is_file():
        raise ValueError(f"--weights {folder}: a weights package folder holds {PACKAGE_WEIGHTS}; it is not there")
    spec_path = folder / PACKAGE_SPEC
    stored = json.loads(spec_path.read_text(encoding="utf-8")) if spec_path.is_file() else {}
    stored = {**_safetensors_metadata(weights), **stored}
    if "model" not in stored:
        raise ValueError(f"--weights {folder}: neither {PACKAGE_SPEC} nor the weights' metadata name the model")
    return _package_found(weights, stored, folder)


def _package_found(weights: Path, stored: Mapping[str, Any], where: Path) -> _Found:
    kwargs = dict(stored.get("kwargs") or {})
    recipe_data = stored.get("recipe")
    recipe = Recipe.from_dict(recipe_data, f"{where} recipe") if recipe_data else None
    if recipe is None:  # the built model's frames and classes then give the plain recipe
        log.warning("%s stores no recipe: reading videos with TSN sampling at 224 px", where)
    source = f"weights package {where} ({stored['model']})"
    return _Found(str(stored["model"]), kwargs, weights, recipe, source)


def _safetensors_metadata(path: Path) -> dict[str, Any]:
    """``model``, ``kwargs`` and ``recipe`` from a safetensors file's metadata (JSON strings), where present."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except Exception as error:  # not a safetensors file: name it
        raise ValueError(f"{path}: cannot read it as safetensors ({error})") from None
    out: dict[str, Any] = {}
    if "model" in metadata:
        out["model"] = metadata["model"]
    for key in ("kwargs", "recipe"):
        if key in metadata:
            out[key] = json.loads(metadata[key])
    return out


def _plain_weights(state, config, model: str | None, flag: str, path: Path | None = None) -> _Found:
    """Weights without their model: the model comes from ``config``, else from the caller's ``model`` name."""
    where = path if path is not None else state
    if config is None and model is not None:
        return _Found(model, {}, state, None, f"{model} with weights {where}", from_config=True)
    if config is None:
        raise ValueError(
            f"{flag} {where} is a plain weights file: say which model it fits with --config CFG "
            "(a training checkpoint or a weights package carries its model itself)"
        )
    from videoshift.engine.config import load_config

    cfg = load_config(config)
    name, kwargs, recipe = _config_model(cfg)
    source = f"config {config} with weights {where} ({name})"
    return _Found(name, kwargs, state, recipe, source, config=cfg, from_config=True)


def _config_model(cfg: Mapping[str, Any]) -> tuple[str, dict[str, Any], Recipe | None]:
    """A config's model name and ``create_model`` arguments for its classes and test frames, and its recipe
    (``None`` for synthetic data, whose recipe needs the built model)."""
    from videoshift.data.datasets import _classes

    data = cfg["data"]
    names = _class_names_here(data)
    num_classes, _ = _classes({**data, "label_map": data.get("label_map") if names is not None else None})
    if data.get("dataset") == "synthetic":
        from videoshift.data.settings import SYNTHETIC_DEFAULTS

        frames, recipe = int({**SYNTHETIC_DEFAULTS, **dict(data.get("synthetic") or {})}["num_frames"]), None
    else:
        recipe = Recipe.from_data_config(data, num_classes, names, cfg["eval"]["average"])
        frames = recipe.frames_per_view
    kwargs = {**dict(cfg["model"]["kwargs"] or {}), "num_classes": num_classes, "num_frames": frames}
    return cfg["model"]["name"], kwargs, recipe


def _class_names_here(data: Mapping[str, Any]) -> list[str] | None:
    """The label map's names when its file is on this machine (a config may name one elsewhere)."""
    from videoshift.data.label_maps import read_label_map
    from videoshift.data.synthetic import CLASS_NAMES

    if data.get("dataset") == "synthetic":
        return list(CLASS_NAMES)
    path = data.get("label_map")
    return read_label_map(path) if path and Path(path).is_file() else None


def _random(model: str | None, config: str | Path | None) -> _Found:
    if config is not None:
        from videoshift.engine.config import load_config

        cfg = load_config(config)
        name, kwargs, recipe = _config_model(cfg)
        source = f"config {config} ({name}, untrained weights)"
        return _Found(name, kwargs, None, recipe, source, config=cfg, from_config=True)
    return _Found(str(model), {}, None, None, f"{model} (untrained weights)", from_config=True)


def _check_config_model(config: str | Path, found: _Found) -> None:
    """A config given beside a source that names its own model (a checkpoint, a package, a tag) must name the same
    model (its data and options may differ: a test set, another run's settings)."""
    from videoshift.engine.config import load_config

    named = load_config(config)["model"]["name"]
    if named != found.name:
        raise ValueError(f"{found.source} holds a {found.name} model, but config {config} names {named}")


# ------------------------------------------------------------------------------------------------- building
def _with_overrides(found: _Found, overrides: dict[str, Any], allow_causal: bool) -> dict[str, Any]:
    kwargs = {**copy.deepcopy(found.kwargs), **overrides}
    if overrides.get("causal") and not found.kwargs.get("causal") and not allow_causal:
        raise ValueError(
            f"{found.source} was trained with two-way shifts (each frame also reads the next one); causal=true makes "
            "every shift read past frames only, which changes its outputs: fine-tune it causal first, or pass "
            "--allow-causal to convert it anyway"
        )
    if (
        "num_classes" in overrides
        and found.state is not None
        and found.kwargs.get("num_classes")
        not in (
            None,
            overrides["num_classes"],
        )
    ):
        raise ValueError(
            f"num_classes={overrides['num_classes']} differs from the {found.kwargs['num_classes']} classes of "
            f"{found.source}: its classifier would be thrown away"
        )
    return kwargs


def _build(found: _Found, kwargs: dict[str, Any]) -> nn.Module:
    from videoshift.models import create_model
    from videoshift.models.checkpoint import CheckpointError, load_checkpoint

    if found.tag is not None:
        return create_model(found.name, pretrained=found.tag, **{k: v for k, v in kwargs.items() if k != "pretrained"})
    built = create_model(found.name, **{k: v for k, v in kwargs.items() if k != "pretrained"})
    if found.state is None:
        return built
    try:
        report = load_checkpoint(built, found.state)
    except CheckpointError as error:  # its message lists every key; one screen line says enough here
        text = str(error)
        raise ValueError(f"{found.source}: the weights do not fit {found.name}: {_shorten(text)}") from None
    if report.skipped_head:
        raise ValueError(
            f"{found.source}: the weights have no classifier for {built.num_classes} classes "
            f"({', '.join(report.skipped_head)}); a model to run needs its trained classifier"
        )
    return built


def _config_recipe(found: _Found, built: nn.Module) -> Recipe:
    """The recipe of the source's config for the built model (synthetic runs and pre-recipe checkpoints), or
    without a config the plain one of :meth:`Recipe.for_frames` (a model named with its weights file, a package
    without a recipe)."""
    if found.config is None:
        return Recipe.for_frames(int(built.num_frames), built.num_classes)
    names = found.class_names or _class_names_here(found.config["data"])
    names = names if names and len(names) == built.num_classes else None
    return Recipe.from_data_config(
        found.config["data"], built.num_classes, names, found.config["eval"]["average"], built
    )


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[:limit] + " …"
