"""Every signature default that is a paper's setting equals the paper's number, read with ``inspect``.

The numbers are written out here from the papers (not read from :mod:`videoshift.paper_defaults`), so changing a
constant there, or writing another literal in place of one in any signature, fails a test. The entrypoints are
the registry's own (a new one is covered without editing this file); their ``**kwargs`` are followed into the
targets they declare (``register_model(kwargs_to=...)``) and up those classes' ``__init__`` chain, the way the
keywords travel. The operators, modules, figures and benchmarks' references are found by scanning their modules
for parameters with a paper setting's name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from torch import nn

import videoshift.paper_defaults as paper_defaults
from videoshift.cli import build_parser
from videoshift.models import list_models, registry
from videoshift.models.deit_video import DeiTVideo
from videoshift.models.shift_cnn import ShiftCNN
from videoshift.models.swin_video import SwinVideoRecognizer
from videoshift.models.tdn import TDN

#: The papers' numbers (see videoshift/paper_defaults.py for where each comes from).
PAPER_VALUES: dict[str, Any] = {
    "TSM_SHIFT_DIV": 8,
    "CNN_FRAMES": 8,
    "STSM_ALPHA": 3 / 8,
    "STSM_DIMS": "T+H+W",
    "TPS_PATTERN": "official",
    "TPS_STAGES": (0, 1, 2, 3),
    "TPS_ALTERNATE": True,
    "TCS_CHANNEL_DIV": 8,
    "PST_FRAMES": 32,
    "PST_T_DROP_PATH": 0.1,
    "PST_B_DROP_PATH": 0.2,
    "DEIT_FRAMES": 16,
    "TANET_ALPHA": 2,
    "TANET_BETA": 4,
    "TANET_KERNEL": 3,
    "TDN_SEGMENT_FRAMES": 5,
    "TDN_SEGMENTS": 8,
    "HEAD_DROPOUT": 0.5,
    "INPUT_SIZE": 224,
}

#: Parameter name -> the paper's value, wherever a signature gives that parameter a default.
BY_PARAMETER: dict[str, Any] = {
    "shift_div": 8,  # TSM's fold 1/8 (also TDN's learnable shift at initialisation and DeiT-TSM)
    "alpha": 3 / 8,  # STSM's alpha
    "dims": "T+H+W",
    "pattern": "official",  # TPS
    "shift_pattern": "official",
    "tps_stages": (0, 1, 2, 3),
    "alternate": True,
    "channel_div": 8,  # TCS
    "segment_frames": 5,  # TDN
    "dropout": 0.5,
    "img_size": 224,
    "input_size": 224,
}
#: Callables whose parameter of a shared name is another setting.
OWN_VALUES: dict[str, dict[str, Any]] = {
    "videoshift.models.tanet.TAM.__init__": {"alpha": 2, "beta": 4, "kernel_size": 3},  # TANet's TAM
    "videoshift.models.registry.list_models": {"pattern": None},  # a filter of model names
}
#: Frames per clip and drop-path rate of each family (the entrypoint's return type): TSM/STSM 8 frames, TDN 8
#: segments of 5, DeiT-S 16, PST 32; drop path only in the transformers (PST-T's and DeiT-S's 0.1).
BY_FAMILY: dict[type, dict[str, Any]] = {
    TDN: {"num_frames": 40, "drop_path_rate": 0.0},
    ShiftCNN: {"num_frames": 8, "drop_path_rate": 0.0},
    DeiTVideo: {"num_frames": 16, "drop_path_rate": 0.1},
    SwinVideoRecognizer: {"num_frames": 32, "drop_path_rate": 0.1},
}
#: Packages whose signatures are scanned for paper settings.
SCANNED = ("videoshift.ops", "videoshift.models", "videoshift.bench")
SCANNED_MODULES = ("videoshift.viz.shift_figures", "videoshift.data.settings")


def _defaults(fn: Any) -> dict[str, Any]:
    return {
        p.name: p.default
        for p in inspect.signature(fn).parameters.values()
        if p.default is not inspect.Parameter.empty and p.name != "self"
    }


def _forwards(fn: Any) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())


def entrypoint_defaults(name: str) -> dict[str, Any]:
    """The defaults model ``name`` is built with: its entrypoint's, then its ``kwargs_to`` targets' (first wins)."""
    fn = registry._model_entrypoint(name)
    found = _defaults(fn)
    for target in registry._KWARGS_TARGETS.get(name, ()) if _forwards(fn) else ():
        if isinstance(target, str):
            continue
        chain = [target] if not isinstance(target, type) else [c for c in target.__mro__ if "__init__" in vars(c)]
        for owner in chain:
            if owner in (nn.Module, object):
                break
            init = owner if not isinstance(owner, type) else owner.__init__
            found = {**_defaults(init), **found}
            if not _forwards(init):
                break
    return found


def _family(name: str) -> dict[str, Any]:
    returned = inspect.signature(registry._model_entrypoint(name), eval_str=True).return_annotation
    owner = next((cls for cls in returned.__mro__ if cls in BY_FAMILY), None)
    assert owner is not None, f"{name} returns {returned.__name__}: add its paper frames to BY_FAMILY"
    return BY_FAMILY[owner]


BUILTIN_MODELS = [n for n in list_models() if registry._model_entrypoint(n).__module__.startswith("videoshift.")]


def test_the_defaults_module_holds_the_papers_numbers():
    values = {k: v for k, v in vars(paper_defaults).items() if k.isupper()}
    assert values == PAPER_VALUES


def test_every_family_is_registered():
    assert {"tsm_r50", "stsm_r50", "stsm_tanet_r50", "stsm_tdn_r50", "pst_t", "deit_s_tps"} <= set(BUILTIN_MODELS)


@pytest.mark.parametrize("name", BUILTIN_MODELS)
def test_entrypoint_defaults_are_the_papers(name):
    defaults = entrypoint_defaults(name)
    expected = {k: v for k, v in BY_PARAMETER.items() if k in defaults}
    expected |= {k: v for k, v in _family(name).items() if k in defaults}
    assert {k: defaults[k] for k in expected} == expected
    assert "num_frames" in expected and "dropout" in expected  # every recognizer takes both


def _scanned_callables() -> dict[str, Any]:
    modules = [importlib.import_module(m) for m in SCANNED_MODULES]
    for package in SCANNED:
        root = importlib.import_module(package)
        modules += [importlib.import_module(i.name) for i in pkgutil.iter_modules(root.__path__, f"{package}.")]
    found: dict[str, Any] = {}
    for module in modules:
        for attr, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(obj):
                found |= {f"{module.__name__}.{attr}.{k}": v for k, v in vars(obj).items() if inspect.isfunction(v)}
            elif inspect.isfunction(obj):
                found[f"{module.__name__}.{attr}"] = obj
    return found


def test_operators_modules_and_figures_default_to_the_papers_settings():
    checked = set()
    for qualname, fn in _scanned_callables().items():
        defaults = _defaults(fn)
        expected = {k: v for k, v in BY_PARAMETER.items() if k in defaults} | OWN_VALUES.get(qualname, {})
        assert {k: defaults[k] for k in expected} == expected, qualname
        checked |= {f"{qualname}:{k}" for k in expected}
    # the scan reaches the places the papers' settings are used as defaults (a renamed module would hide them)
    for place in (
        "videoshift.ops.spatiotemporal.spatiotemporal_shift:alpha",
        "videoshift.ops.spatiotemporal.SpatioTemporalShift.__init__:alpha",
        "videoshift.ops.temporal.temporal_shift:shift_div",
        "videoshift.ops.temporal.pst_channel_shift:shift_div",
        "videoshift.ops.patch.patch_shift:pattern",
        "videoshift.models.tanet.TAM.__init__:beta",
        "videoshift.models.tdn.LearnableTemporalShift.__init__:shift_div",
        "videoshift.models.swin_video.ShiftSettings.__init__:tps_stages",
        "videoshift.viz.shift_figures.stsm_figure:alpha",
        "videoshift.viz.shift_figures.stsm_sources:dims",
        "videoshift.viz.shift_figures.patch_shift_figure:pattern",
        "videoshift.bench.ops.naive_spatiotemporal_shift:alpha",
        "videoshift.data.settings.TransformConfig.__init__:input_size",
    ):
        assert place in checked, place


def test_the_shift_figure_command_defaults_to_the_papers_settings():
    args = build_parser().parse_args(["viz", "shift"])
    assert (args.alpha, args.dims, args.pattern) == (3 / 8, "T+H+W", "official")
