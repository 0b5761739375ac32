"""The schema of a run config: every key, its default and its meaning, in one declarative tree.

A schema is built from three kinds of node:

* :class:`Key`: one setting. Its value is not looked into here, so a mapping whose keys are free-form (``model.kwargs``,
  the keyword arguments of ``create_model``, which the model checks) is a ``Key`` marked ``free_form``.
* :class:`Section`: a mapping holding exactly the keys it lists; any other key is an error.
* :class:`Entries`: a list of sections (``experiments``).

:mod:`videoshift.engine.config` checks configs with :func:`unknown_keys` and :func:`bad_choices` and takes the
defaults it merges from :func:`defaults`; ``docs/config.md`` is :func:`render_markdown`'s output (a test keeps the
page in step; ``python -m videoshift.engine.schema > docs/config.md`` writes it again).

Defaults that live in code are read from there, never repeated: the frame samplers' dataclass fields, the
:class:`~videoshift.data.settings.TransformConfig` fields and the data section's defaults in
:mod:`videoshift.data.settings`. The ``data`` section's defaults are applied by ``build_dataset`` (some depend on the
dataset kind), so :func:`defaults` leaves that section empty (``merge_defaults=False``).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from videoshift.data.samplers import DEFAULT_SAMPLER, OUT_OF_BOUND, SAMPLERS, DenseSampler, TSNSampler
from videoshift.data.settings import (
    DATA_DEFAULTS,
    DATASETS,
    ON_ERROR,
    SYNTHETIC_DEFAULTS,
    TEST_CROPS,
    TRAIN_CROPS,
    TransformConfig,
)


@dataclass(frozen=True)
class Key:
    """One setting: its default, what it means and, where the set is closed, the values it may take."""

    default: Any
    doc: str
    choices: tuple[Any, ...] = ()
    free_form: bool = False  # a mapping passed on whole; its own keys are checked by whoever reads it


@dataclass(frozen=True)
class Section:
    """A mapping of exactly the listed keys (``None`` is accepted in its place where ``nullable``)."""

    doc: str
    keys: Mapping[str, Node]
    nullable: bool = False
    merge_defaults: bool = True  # False: the section's reader applies the defaults, the loaded config leaves them out


@dataclass(frozen=True)
class Entries:
    """A list of sections, each checked against ``item`` (``None`` means no entries)."""

    doc: str
    item: Section = field(repr=False)


Node = Key | Section | Entries


def _transform_key(name: str, doc: str, choices: tuple[Any, ...] = ()) -> Key:
    """A ``transform`` key with the default of the :class:`TransformConfig` field of that name."""
    default = {f.name: f.default for f in fields(TransformConfig)}[name]
    return Key(list(default) if isinstance(default, tuple) else default, doc, choices)


def _sampling_key(name: str, doc: str, choices: tuple[Any, ...] = ()) -> Key:
    """A sampling key with :class:`TSNSampler`'s default (the default ``type``); other types say theirs in ``doc``."""
    return Key(TSNSampler.__dataclass_fields__[name].default, doc, choices)


def _sampling(doc: str, nullable: bool = False) -> Section:
    dense = DenseSampler.__dataclass_fields__
    keys = {
        "type": Key(
            DEFAULT_SAMPLER,
            "which frames: tsn (segments), uniform (TPS/SlowFast SSv2 rule), dense (clip_len frames "
            "frame_interval apart)",
            tuple(SAMPLERS),
        ),
        "num_frames": _sampling_key(
            "num_frames", "segments, one frame (or clip) each (tsn, uniform); for dense the same as clip_len"
        ),
        "clip_len": _sampling_key(
            "clip_len", f"consecutive frames per segment (tsn) or per clip (dense, default {dense['clip_len'].default})"
        ),
        "frame_interval": _sampling_key(
            "frame_interval",
            f"step between a clip's frames (tsn, dense; dense default {dense['frame_interval'].default})",
        ),
        "num_clips": _sampling_key("num_clips", "test views (clips) per video (tsn, dense; uniform takes only 1)"),
        "twice_sample": _sampling_key("twice_sample", "tsn test: add the segment starts as one more view"),
        "segment_frames": _sampling_key(
            "segment_frames",
            "tsn: widen each sampled frame into this many consecutive frames centred on it (odd; TDN: 5)",
        ),
        "out_of_bound": _sampling_key(
            "out_of_bound",
            "videos shorter than a clip: loop wraps around, repeat_last repeats the view's last frame",
            OUT_OF_BOUND,
        ),
    }
    return Section(doc, keys, nullable=nullable)


def _data_key(name: str, doc: str, choices: tuple[Any, ...] = ()) -> Key:
    """A data key with the default ``build_dataset`` uses (:data:`~videoshift.data.settings.DATA_DEFAULTS`)."""
    return Key(DATA_DEFAULTS[name], doc, choices)


DATA = Section(
    "The data: an MMAction2 list of videos or raw-frame folders, or synthetic motion clips. Keys left out take "
    "the defaults below when the datasets are built.",
    {
        "dataset": _data_key("dataset", "video files, raw-frame folders or synthetic motion clips", DATASETS),
        "root": _data_key("root", "folder the list's paths are relative to; null: the list's folder"),
        "train_list": _data_key("train_list", "annotation list of the training split (video, rawframes)"),
        "val_list": _data_key("val_list", "annotation list of the validation split (video, rawframes)"),
        "test_list": _data_key("test_list", "annotation list of the test split; null: val_list"),
        "label_map": _data_key("label_map", "class names, one a line; also gives num_classes and flip pairs"),
        "num_classes": _data_key("num_classes", "number of classes; required without label_map, else must agree"),
        "multi_label": _data_key("multi_label", "several labels per list line: multi-hot targets, BCE loss, mAP"),
        "on_error": _data_key(
            "on_error", "an unreadable file: raise, or skip it (warn and use another sample)", ON_ERROR
        ),
        "backend": _data_key("backend", "video decoding library: pyav, decord or torchcodec"),
        "with_offset": _data_key("with_offset", "rawframes lists give each clip's first frame number"),
        "start_index": _data_key("start_index", "rawframes: number of a folder's first frame file"),
        "filename_tmpl": _data_key("filename_tmpl", "rawframes: frame file names (a str.format template)"),
        "sampling": _sampling("Training frame sampling (one view per clip); left out: tsn with its defaults."),
        "test_sampling": _sampling(
            "Validation and test frame sampling; null or left out: sampling, else tsn with 8 "
            "frames. num_clips gives the test views.",
            nullable=True,
        ),
        "transform": Section(
            "Clip transform (resize, crops, flips, augmentation, normalisation). With dataset synthetic, "
            "input_size and short_side default to synthetic.size and train_crop to center.",
            {
                "input_size": _transform_key("input_size", "side of the square crops the model sees"),
                "short_side": _transform_key("short_side", "the shorter side is resized to this before cropping"),
                "train_crop": _transform_key(
                    "train_crop", "training crop: random_resized, TSN multiscale or center", TRAIN_CROPS
                ),
                "crop_scale": _transform_key("crop_scale", "random_resized: area range of the crop"),
                "flip": _transform_key("flip", "random horizontal flip in training"),
                "flip_pairs": _transform_key(
                    "flip_pairs",
                    "classes a flip swaps: [[a, b], ...] or sthv1, sthv2, "
                    "synthetic; null: found in the label map's names",
                ),
                "autoaugment": _transform_key(
                    "autoaugment",
                    "false, rand (RandAugment; true too) or auto (AutoAugment)",
                    (False, None, True, "rand", "auto"),
                ),
                "random_erasing": _transform_key("random_erasing", "probability of random erasing in training"),
                "mean": _transform_key("mean", "per-channel mean (0-1, or 0-255 as in MMAction2 configs)"),
                "std": _transform_key("std", "per-channel standard deviation, in the scale of mean"),
                "test_crops": _transform_key(
                    "test_crops",
                    "test crops per view: 1 centre, 3 along the longer side, 10 (corners, centre, flipped)",
                    TEST_CROPS,
                ),
            },
            nullable=True,
        ),
        "synthetic": Section(
            "Synthetic motion clips (dataset synthetic), generated in memory.",
            {
                "num_train": Key(SYNTHETIC_DEFAULTS["num_train"], "training clips"),
                "num_val": Key(SYNTHETIC_DEFAULTS["num_val"], "validation (and test) clips"),
                "num_frames": Key(SYNTHETIC_DEFAULTS["num_frames"], "frames per clip"),
                "size": Key(SYNTHETIC_DEFAULTS["size"], "frame side in pixels"),
                "seed": Key(SYNTHETIC_DEFAULTS["seed"], "seed of the clips' random scenes"),
            },
            nullable=True,
        ),
    },
    merge_defaults=False,
)

SCHEMA = Section(
    "A run config: YAML over these defaults, then the command line's --set overrides.",
    {
        "name": Key(None, "run name (its directory under --work-dir); null: the config file's stem"),
        "description": Key(None, "one line about the run; read by no code, kept in the run's config.yaml"),
        "paper": Section(
            "The row of the papers' tables this config reproduces (videoshift.models.papers).",
            {
                "row": Key(None, 'the row, e.g. "TPS Table 3: PST-T (IN-1K, 3x1)"; null: none'),
                "dataset": Key(None, "which of the row's top-1 values: sthv1, sthv2, k400 or diving48"),
            },
        ),
        "model": Section(
            "The model; it takes its frame count and classes from the data.",
            {
                "name": Key(None, "a registered model (videoshift.models.list_models()); required"),
                "pretrained": Key(False, "start from the entrypoint's pretrained (ImageNet) weights"),
                "checkpoint": Key(None, "weights to start from (strict loader; the head may be re-sized)"),
                "kwargs": Key(
                    {},
                    "keyword arguments of create_model (architecture, drop_path_rate, dropout, "
                    "backbone, ...), checked by the model",
                    free_form=True,
                ),
            },
        ),
        "data": DATA,
        "optim": Section(
            "The optimizer and its parameter groups.",
            {
                "name": Key("adamw", "optimizer", ("adamw", "sgd")),
                "lr": Key(1e-3, "learning rate at the reference batch (per-process batch x processes x accumulate)"),
                "lr_batch": Key(
                    None,
                    "the global batch lr was set for; a run with another global batch warns and names the linearly "
                    "scaled lr; null: not stated, no warning",
                ),
                "weight_decay": Key(0.02, "weight decay of the groups that decay"),
                "betas": Key([0.9, 0.999], "adamw betas"),
                "momentum": Key(0.9, "sgd momentum"),
                "nesterov": Key(False, "sgd Nesterov momentum"),
                "param_groups": Key(
                    "tps",
                    "tps: no decay for norms, biases and no_weight_decay(); tsm: the TSM policies",
                    ("tps", "tsm"),
                ),
                "backbone_lr_mult": Key(1.0, "learning-rate multiplier of everything but the classifier head"),
                "fc_lr5": Key(False, "tsm groups: head weight x5 and head bias x10 learning rate (fine-tuning)"),
            },
        ),
        "schedule": Section(
            "The learning-rate schedule, stepped every iteration.",
            {
                "name": Key("cosine", "schedule", ("cosine", "step", "constant")),
                "warmup_epochs": Key(0.0, "linear warm-up epochs"),
                "warmup_start_factor": Key(0.01, "warm-up starts at this fraction of the lr"),
                "min_lr_factor": Key(0.0, "cosine floor as a fraction of the lr"),
                "milestones": Key([], "step: epochs at which the lr is multiplied by gamma"),
                "gamma": Key(0.1, "step: the factor"),
            },
        ),
        "train": Section(
            "The training loop.",
            {
                "epochs": Key(30, "epochs to train"),
                "batch_size": Key(8, "clips per process and step"),
                "accumulate": Key(1, "gradient accumulation steps per optimizer step"),
                "label_smoothing": Key(0.0, "cross-entropy label smoothing (single-label data)"),
                "clip_grad_norm": Key(None, "clip the gradient norm to this; null: no clipping"),
                "amp": Key("none", "mixed precision; fp16 on GPU only, with a GradScaler", ("none", "bf16", "fp16")),
                "grad_checkpointing": Key(False, "recompute activations in backward to save memory"),
                "sync_bn": Key(False, "convert BatchNorm to SyncBatchNorm under DDP"),
                "num_workers": Key(2, "DataLoader worker processes"),
                "seed": Key(0, "seed of every random draw (data order, augmentation, initialisation)"),
                "deterministic": Key(False, "deterministic algorithms (torch.use_deterministic_algorithms)"),
                "device": Key("auto", "auto, cpu, cuda or cuda:N"),
                "threads": Key(None, "torch.set_num_threads (CPU); null keeps torch's default"),
                "checkpoint_every": Key(0, "also checkpoint every N optimizer steps in an epoch (0: at epoch ends)"),
                "eval_every": Key(1, "evaluate every N epochs (and after the last)"),
                "log_every": Key(10, "a plain log line every N steps when not on a terminal"),
            },
        ),
        "eval": Section(
            "Validation and testing.",
            {
                "batch_size": Key(None, "videos per batch; null: train.batch_size"),
                "average": Key("prob", "views are averaged as softmax probabilities or as logits", ("prob", "score")),
            },
        ),
        "experiments": Entries(
            "Runs of this config, each with its own overrides; null: the config is one run.",
            Section(
                "One run of the experiments.",
                {
                    "name": Key(None, "the run's name; required"),
                    "set": Key(
                        {},
                        "dotted config keys and their values for this run (as --set), checked when the run is resolved",
                        free_form=True,
                    ),
                },
            ),
        ),
        "parallel_runs": Key(1, "runs of the experiments trained at once, each in its own process"),
        "overrides": Key(
            [],
            "the command line's --set values, recorded by the loader; applied last, also over "
            "each experiment's own settings",
        ),
    },
)


def defaults(node: Node = SCHEMA) -> Any:
    """The default value of ``node``: nested dicts for sections (empty where ``merge_defaults`` is off)."""
    if isinstance(node, Section):
        if not node.merge_defaults:
            return {}
        return {name: defaults(child) for name, child in node.keys.items()}
    if isinstance(node, Entries):
        return None
    return json.loads(json.dumps(node.default))  # a fresh copy: defaults are never shared with a config


def walk(node: Node = SCHEMA, prefix: str = "") -> Iterator[tuple[str, Node]]:
    """Every node below ``node`` with its dotted key, depth first in schema order (list entries as ``key[]``)."""
    children = node.keys if isinstance(node, Section) else {"[]": node.item} if isinstance(node, Entries) else {}
    for name, child in children.items():
        dotted = f"{prefix}{name}" if name == "[]" or not prefix else f"{prefix}.{name}"
        yield dotted, child
        yield from walk(child, dotted)


def unknown_keys(cfg: Any, node: Node = SCHEMA, prefix: str = "") -> list[str]:
    """One message for each key of ``cfg`` that ``node`` does not list, naming its dotted key and the closest
    valid one, and for each section or list given as something else."""
    where = prefix or "the config"
    if isinstance(node, Key) or (cfg is None and (isinstance(node, Entries) or node.nullable)):
        return []
    if isinstance(node, Entries):
        if not isinstance(cfg, list):
            return [f"{where} must be a list, got {cfg!r}"]
        return [msg for index, entry in enumerate(cfg) for msg in unknown_keys(entry, node.item, f"{prefix}[{index}]")]
    if not isinstance(cfg, Mapping):
        return [f"{where} must be a section (a mapping), got {cfg!r}"]
    dot = f"{prefix}." if prefix else ""
    found = []
    for name, value in cfg.items():
        if name not in node.keys:
            close = difflib.get_close_matches(str(name), list(node.keys), n=1)
            hint = f" (did you mean {dot}{close[0]}?)" if close else ""
            found.append(f"unknown config key {dot}{name}{hint}")
        else:
            found.extend(unknown_keys(value, node.keys[name], f"{dot}{name}"))
    return found


def bad_choices(cfg: Any, node: Node = SCHEMA, prefix: str = "") -> list[str]:
    """One message for each value of ``cfg`` outside its key's ``choices`` (``cfg`` has no unknown keys)."""
    if isinstance(node, Key):
        ok = not node.choices or any(type(cfg) is type(c) and cfg == c for c in node.choices)
        return [] if ok else [f"{prefix} must be one of {', '.join(map(str, node.choices))}, got {cfg!r}"]
    if cfg is None:
        return []
    if isinstance(node, Entries):
        return [msg for index, entry in enumerate(cfg) for msg in bad_choices(entry, node.item, f"{prefix}[{index}]")]
    dot = f"{prefix}." if prefix else ""
    return [msg for name, value in cfg.items() for msg in bad_choices(value, node.keys[name], f"{dot}{name}")]


def _show(value: Any) -> str:
    """A default as YAML shows it (JSON is YAML)."""
    return json.dumps(value, ensure_ascii=False)


def render_markdown() -> str:
    """``docs/config.md``: one table per section, every key with its default and meaning."""
    lines = [
        "# Run config keys",
        "",
        "<!-- Generated from videoshift/engine/schema.py by `python -m videoshift.engine.schema > docs/config.md`;"
        " a test keeps this page in step. -->",
        "",
        "A run config is YAML over these defaults; `--set key=value` overrides any key. A key that is not listed"
        " here is an error that names it and the closest valid key.",
    ]
    for dotted, node in [("", SCHEMA), *walk()]:
        if isinstance(node, Key):
            continue
        lines += ["", f"## `{dotted}`" if dotted else "## Top level", "", node.doc]
        if isinstance(node, Entries):
            lines += ["", f"A list; each entry is a section with the keys of `{dotted}[]`."]
            continue
        if node.nullable:
            lines += ["", "May be `null`."]
        lines += ["", "| key | default | meaning |", "|---|---|---|"]
        for name, child in node.keys.items():
            key = f"{dotted}.{name}" if dotted else name
            if isinstance(child, Key):
                choices = f" One of: {', '.join(f'`{_show(c)}`' for c in child.choices)}." if child.choices else ""
                free = " Free-form: its keys are not checked here." if child.free_form else ""
                lines.append(f"| `{key}` | `{_show(child.default)}` | {child.doc}.{choices}{free} |")
            else:
                lines.append(f"| `{key}` | | see [`{key}`](#{key.replace('.', '').replace('[]', '')}) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
