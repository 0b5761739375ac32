"""The config schema: built-in configs validate, a misspelt key anywhere is named with its closest valid key (also
by the CLI), defaults agree with the code that applies them, and docs/config.md lists exactly the schema's keys."""

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from builtin_configs import CONFIG_PATHS

from videoshift.data.samplers import SAMPLERS, TSNSampler
from videoshift.data.settings import TransformConfig
from videoshift.engine import schema
from videoshift.engine.config import experiment_configs, load_config, validate_config

ROOT = Path(__file__).resolve().parents[2]
DOCS_PAGE = ROOT / "docs" / "config.md"
SECTIONS = [(path, node) for path, node in [("", schema.SCHEMA), *schema.walk()] if isinstance(node, schema.Section)]


def _write(tmp_path, cfg) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _nest(dotted: str, leaf: dict) -> dict:
    """``{"data": {"sampling": leaf}}`` for ``"data.sampling"``; a list entry (``experiments[]``) in a list."""
    if not dotted:
        return leaf
    node = leaf
    for part in reversed(dotted.split(".")):
        node = {part[:-2]: [{"name": "a", **node}]} if part.endswith("[]") else {part: node}
    return node


@pytest.mark.parametrize("path", CONFIG_PATHS, ids=lambda p: p.stem)
def test_every_builtin_config_validates_with_its_experiments(path):
    cfg = load_config(path)
    assert all(run["experiments"] is None for run in experiment_configs(cfg))


@pytest.mark.parametrize("dotted,section", SECTIONS, ids=lambda x: x if isinstance(x, str) else "")
def test_a_misspelt_key_in_every_section_is_named_with_the_closest_valid_one(tmp_path, dotted, section):
    key = next(iter(section.keys))
    typo = key + key[-1]  # "type" -> "typee"
    cfg = {"model": {"name": "tsm_r50"}}
    cfg = {**cfg, **_nest(dotted, {typo: 1})} if dotted else {**cfg, typo: 1}
    if dotted == "model":
        cfg["model"]["name"] = "tsm_r50"
    prefix = dotted.replace("[]", "[0]") + "." if dotted else ""
    with pytest.raises(ValueError) as error:
        load_config(_write(tmp_path, cfg))
    assert f"unknown config key {prefix}{typo} (did you mean {prefix}{key}?)" in str(error.value)


def test_the_data_typos_that_used_to_fall_back_to_defaults_are_errors(tmp_path):
    cfg = {"model": {"name": "tsm_r50"}, "data": {"test_samplng": {"num_clips": 10}, "on_eror": "skip"}}
    with pytest.raises(ValueError) as error:
        load_config(_write(tmp_path, cfg))
    message = str(error.value)
    assert "unknown config key data.test_samplng (did you mean data.test_sampling?)" in message
    assert "unknown config key data.on_eror (did you mean data.on_error?)" in message
    assert "\n" not in message


def test_overrides_and_experiment_settings_are_checked_at_load(tmp_path):
    path = _write(tmp_path, {"model": {"name": "tsm_r50"}})
    with pytest.raises(ValueError, match=r"data\.transform\.inpt_size \(did you mean data\.transform\.input_size\?\)"):
        load_config(path, ["data.transform.inpt_size=112"])
    path = _write(tmp_path, {"experiments": [{"name": "a", "set": {"model.name": "x", "data.sampling.num_frame": 4}}]})
    with pytest.raises(ValueError, match=r"experiment 'a': .*data\.sampling\.num_frame \(did you mean"):
        load_config(path)


def test_free_form_and_nullable_sections_are_accepted(tmp_path):
    cfg = {
        "model": {"name": "tsm_r50", "kwargs": {"any_model_argument": 1}},
        "data": {"test_sampling": None, "transform": None},
    }
    assert load_config(_write(tmp_path, cfg))["model"]["kwargs"] == {"any_model_argument": 1}
    with pytest.raises(ValueError, match=r"data\.sampling must be a section"):
        load_config(_write(tmp_path, {"model": {"name": "tsm_r50"}, "data": {"sampling": 8}}))


def test_dead_and_misplaced_keys_are_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"unknown config key model\.num_frames"):
        load_config(_write(tmp_path, {"model": {"name": "tsm_r50", "num_frames": 8}}))
    with pytest.raises(ValueError, match=r"unknown config key data\.synthetic\.delay"):
        load_config(_write(tmp_path, {"model": {"name": "x"}, "data": {"synthetic": {"delay": 1}}}))


def test_closed_choices_of_data_keys_are_checked_at_load(tmp_path):
    cfg = {"model": {"name": "tsm_r50"}, "data": {"on_error": "skp", "sampling": {"type": "dens"}}}
    with pytest.raises(ValueError, match=r"data\.on_error must be one of raise, skip, got 'skp'"):
        load_config(_write(tmp_path, cfg))


def test_schema_defaults_are_the_codes_defaults():
    sampling = schema.DATA.keys["sampling"].keys
    sampler_fields = {name for cls in SAMPLERS.values() for name in cls.__dataclass_fields__} - {"test_mode"}
    assert set(sampling) == sampler_fields | {"type"}
    tsn = TSNSampler()
    assert all(getattr(tsn, name) == sampling[name].default for name in sampler_fields)
    transform = schema.DATA.keys["transform"].keys
    assert list(transform) == [f.name for f in fields(TransformConfig)]
    for name, value in vars(TransformConfig()).items():
        assert transform[name].default == (list(value) if isinstance(value, tuple) else value), name


def test_synthetic_defaults_are_what_build_dataset_uses():
    from videoshift.data.datasets import build_dataset

    synthetic = schema.DATA.keys["synthetic"].keys
    train = build_dataset({"dataset": "synthetic", "synthetic": {"size": 16, "num_frames": 2}}, "train")
    assert len(train) == synthetic["num_train"].default


def test_validate_config_accepts_the_defaults_with_a_model():
    validate_config({**schema.defaults(), "model": {**schema.defaults()["model"], "name": "x"}})


def test_docs_page_is_the_rendered_schema_and_lists_exactly_its_keys():
    page = DOCS_PAGE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|", page, flags=re.MULTILINE)
    assert sorted(rows) == sorted(dotted for dotted, _ in schema.walk() if not dotted.endswith("[]"))
    assert page == schema.render_markdown(), "stale: run python -m videoshift.engine.schema > docs/config.md"


def test_cli_train_with_a_misspelt_key_exits_2_with_one_line_naming_it(tmp_path):
    path = _write(tmp_path, {"model": {"name": "tsm_r50"}, "data": {"test_samplng": {"num_clips": 2}}})
    cmd = [sys.executable, "-m", "videoshift", "train", str(path), "--work-dir", str(tmp_path / "runs")]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("videoshift train: error: "), out.stderr
    assert "data.test_samplng (did you mean data.test_sampling?)" in lines[0]
    assert not (tmp_path / "runs").exists()
