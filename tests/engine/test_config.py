import pytest
import yaml
from builtin_configs import PAPER_CONFIGS

from videoshift.engine.config import (
    DEFAULTS,
    apply_overrides,
    experiment_configs,
    load_config,
    paper_top1,
    validate_config,
)


def test_overrides_create_sections_and_merge_mappings():
    cfg = apply_overrides(DEFAULTS, ["model.kwargs.depths=[1, 1]", "optim={lr: 0.5}"])
    assert cfg["model"]["kwargs"] == {"depths": [1, 1]}
    assert cfg["optim"]["lr"] == 0.5 and cfg["optim"]["name"] == "adamw"  # merged, not replaced
    assert DEFAULTS["model"]["kwargs"] == {}  # defaults untouched


def test_unknown_keys_and_bad_choices_are_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"model": {"name": "x"}, "train": {"epoch": 3}, "optimm": {}}))
    with pytest.raises(ValueError, match=r"optimm.*train\.epoch|train\.epoch.*optimm"):
        load_config(path)
    path.write_text(yaml.safe_dump({"model": {"name": "x"}}))
    with pytest.raises(ValueError, match=r"optim\.name"):
        load_config(path, ["optim.name=adam"])
    with pytest.raises(ValueError, match=r"train\.epochs"):
        load_config(path, ["train.epochs=0"])


def test_yaml_file_over_defaults_with_name_from_file(tmp_path):
    path = tmp_path / "my_run.yaml"
    path.write_text("model: {name: foo}\ntrain: {epochs: 5}\n")
    cfg = load_config(path, ["train.batch_size=3"])
    assert (cfg["name"], cfg["train"]["epochs"], cfg["train"]["batch_size"]) == ("my_run", 5, 3)
    assert cfg["optim"]["weight_decay"] == DEFAULTS["optim"]["weight_decay"]


def test_default_config_is_packaged_and_expands_into_runs():
    cfg = load_config(None)
    assert cfg["name"] == "synthetic_default" and cfg["data"]["dataset"] == "synthetic"
    runs = experiment_configs(cfg)
    names = [run["model"]["name"] for run in runs]
    assert "pst_t" in names and "swin2d_t" in names
    assert len({run["name"] for run in runs}) == len(runs)
    for run in runs:
        validate_config(run)
        assert run["experiments"] is None


def test_command_line_overrides_win_over_experiment_settings(tmp_path):
    path = tmp_path / "cmp.yaml"
    path.write_text(
        "train: {epochs: 5}\nexperiments:\n"
        "  - {name: a, set: {model.name: foo, train.epochs: 9}}\n"
        "  - {name: b, set: {model.name: bar}}\n"
    )
    runs = experiment_configs(load_config(path))
    assert [run["train"]["epochs"] for run in runs] == [9, 5]
    runs = experiment_configs(load_config(path, ["train.epochs=1"]))
    assert [(run["name"], run["model"]["name"], run["train"]["epochs"]) for run in runs] == [
        ("a", "foo", 1),
        ("b", "bar", 1),
    ]


def test_builtin_configs_load_by_name():
    assert load_config("pst_t_sthv2")["model"]["name"] == "pst_t"
    with pytest.raises(ValueError, match="built-in"):
        load_config("no_such_config")


NUM_CLASSES = {"sthv1": 174, "sthv2": 174, "k400": 400, "diving48": 48}


def test_every_headline_row_of_the_papers_has_a_config():
    from videoshift.models.papers import ROWS

    configured = {(cfg["paper"]["row"], cfg["paper"]["dataset"]) for cfg in map(load_config, PAPER_CONFIGS)}
    headline = {(row.key, dataset) for row in ROWS if row.headline for dataset in row.top1}
    assert len(headline) >= 30 and headline <= configured, sorted(headline - configured)


@pytest.mark.parametrize("path", PAPER_CONFIGS, ids=lambda p: p.stem)
def test_paper_config_is_valid_and_agrees_with_the_papers_table(path):
    from videoshift.models import is_model
    from videoshift.models.papers import paper_row

    cfg = load_config(path)
    assert is_model(cfg["model"]["name"]), cfg["model"]["name"]
    assert cfg["name"] == path.stem
    first_line = path.read_text().splitlines()[0]
    if cfg["paper"]["row"] is None:
        assert "no paper top-1" in first_line
        return
    row = paper_row(cfg["paper"]["row"])
    assert row.model == cfg["model"]["name"] and not row.kwargs
    assert cfg["data"]["num_classes"] == NUM_CLASSES[cfg["paper"]["dataset"]]
    assert f"paper top-1 {paper_top1(cfg)} (" in first_line  # the comment quotes the table's number


def test_unknown_paper_row_or_dataset_is_named():
    with pytest.raises(ValueError, match="did you mean"):
        load_config("pst_t_sthv1", ['paper.row="TPS Table 3: PST-T (IN-1K, 3x2)"'])
    with pytest.raises(ValueError, match="named by a string"):
        load_config("pst_t_sthv1", ["paper.row=TPS Table 3: PST-T"])  # YAML reads an unquoted colon as a mapping
    with pytest.raises(ValueError, match=r"paper\.dataset must be one of"):
        load_config("pst_t_sthv1", ["paper.dataset=k400"])
