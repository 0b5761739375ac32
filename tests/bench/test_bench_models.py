"""``videoshift bench models`` on tiny models: exact counts, ratios, outputs, presets and the plot."""

import json

import pytest
from bench_tiny_models import expected_macs, expected_params, register

from videoshift.bench.models import (
    _training_step,
    add_ratios,
    model_names,
    parse_accuracy,
    parse_batches,
    plan,
)
from videoshift.bench.plot import plot_models
from videoshift.bench.presets import PRESETS, Preset
from videoshift.bench.specs import ModelSpec, RunSettings, build_model, make_clip
from videoshift.cli import main
from videoshift.models import registry
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.papers import PaperRow

FAST = ["--frames", "2", "--size", "8", "--batch", "1,2", "--repeats", "2", "--warmup", "1", "--memory", "none"]


@pytest.fixture
def tiny_registry(monkeypatch):
    """A copy of the registry with ``bench_tiny_conv3d`` added; the real one stays untouched."""
    registry.list_models()  # the built-in models register on the first lookup: before the copy
    monkeypatch.setattr(registry, "_MODEL_ENTRYPOINTS", dict(registry._MODEL_ENTRYPOINTS))
    register()


def _run(tmp_path, *argv):
    out = tmp_path / "models.json"
    assert main(["bench", "models", *argv, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_counts_and_ratios_by_hand(tiny_registry, tmp_path):
    argv = ["--models", "bench_tiny_conv3d,bench_tiny_conv3d_wide", "--num-classes", "5", *FAST]
    result = _run(tmp_path, *argv, "--model-kw", "bench_tiny_conv3d_wide:width=10")
    rows = result["rows"]
    assert [row["model"] for row in rows] == ["bench_tiny_conv3d", "bench_tiny_conv3d_wide"]
    assert [row["params"] for row in rows] == [4 * 28 + 4 * 5 + 5, 10 * 28 + 10 * 5 + 5]
    assert [row["params"] for row in rows] == [expected_params(4, 5), expected_params(10, 5)]
    assert [row["macs"] for row in rows] == [4 * 2 * 64 * 27 + 20, 10 * 2 * 64 * 27 + 50]
    assert [row["macs"] for row in rows] == [expected_macs(w, 5, frames=2, size=8) for w in (4, 10)]
    assert rows[1]["gmacs"] == rows[1]["macs"] / 1e9
    assert [row["params_x"] for row in rows] == [1.0, expected_params(10, 5) / expected_params(4, 5)]
    assert [row["macs_x"] for row in rows] == [1.0, rows[1]["macs"] / rows[0]["macs"]]
    for row in rows:
        for batch in (1, 2):
            assert row[f"lat_b{batch}_ms"] > 0
            assert row[f"vps_b{batch}"] == pytest.approx(batch * 1e3 / row[f"lat_b{batch}_ms"])
    assert all(row["lat_b1_ms"] == row["lat_b1_median_ms"] >= row["lat_b1_min_ms"] for row in rows)
    assert rows[0]["lat_b1_ms_x"] == rows[0]["vps_b2_x"] == 1.0
    assert rows[1]["lat_b1_ms_x"] == pytest.approx(rows[1]["lat_b1_ms"] / rows[0]["lat_b1_ms"])
    assert "mem_infer_gib" not in rows[0]
    env = result["environment"]
    assert env["device"] == "cpu" and env["dtype"] == "float32" and env["threads"] >= 1
    assert "'FLOPs' are multiply-adds" in result["title"]


def test_ratios_to_the_first_model():
    rows = [{"a": 2.0, "b": None}, {"a": 3.0, "b": 1.0}, {"a": None, "b": 2.0}]
    add_ratios(rows, ["a", "b"])
    assert [row["a_x"] for row in rows] == [1.0, 1.5, None]
    assert [row["b_x"] for row in rows] == [None, None, None]  # no reference in the first row


def test_markdown_and_plot(tiny_registry, tmp_path):
    markdown, png = tmp_path / "out" / "models.md", tmp_path / "out" / "models.png"
    argv = ["--models", "bench_tiny_conv3d", "--num-classes", "3", *FAST, "--accuracy", "bench_tiny_conv3d=41.5"]
    result = _run(tmp_path, *argv, "--markdown", str(markdown), "--plot", str(png), "--stat", "min")
    row = result["rows"][0]
    assert row["top1"] == 41.5
    assert row["lat_b1_ms"] == row["lat_b1_min_ms"] and row["vps_b2"] == 2e3 / row["lat_b2_min_ms"]
    text = markdown.read_text()
    assert text.startswith("## models") and "| bench_tiny_conv3d |" in text and "device=cpu" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    height, width, _ = imread(png).shape
    assert height > 100 and width > 100


def test_training_steps_timed_side_by_side(tiny_registry, tmp_path):
    argv = ["--models", "bench_tiny_conv3d,bench_tiny_conv3d_wide", "--num-classes", "5", *FAST, "--train"]
    result = _run(tmp_path, *argv, "--model-kw", "bench_tiny_conv3d_wide:width=10", "--stat", "min")
    rows = result["rows"]
    for row in rows:
        for batch in (1, 2):
            assert row[f"step_b{batch}_ms"] == row[f"step_b{batch}_min_ms"] <= row[f"step_b{batch}_median_ms"]
    assert rows[1]["step_b2_ms_x"] == pytest.approx(rows[1]["step_b2_ms"] / rows[0]["step_b2_ms"])
    assert "training step (SGD)" in result["title"]
    assert "step_b1_ms" not in _run(tmp_path, *argv[:-1])["rows"][0]


def test_training_step_updates_every_parameter(tiny_registry):
    spec, settings = ModelSpec("tiny", "bench_tiny_conv3d", {}, frames=2, size=8), RunSettings(num_classes=3)
    model = build_model(spec, settings).train()
    before = [p.detach().clone() for p in model.parameters()]
    loss = _training_step(model, make_clip(spec, settings, 2))()
    assert loss.isfinite()
    assert all(not p.equal(q) for p, q in zip(model.parameters(), before, strict=True))


REGISTRY_CASES = {
    "deit_s_2d": {"embed_dim": 64, "depth": 2, "num_heads": 2, "img_size": 32, "patch_size": 8},
    "swin2d_t": {"embed_dim": 24, "depths": [1, 1, 1, 1], "num_heads": [1, 1, 1, 1]},
    "stsm_r50": {"backbone": "resnet18"},
}


@pytest.mark.parametrize("name", sorted(REGISTRY_CASES))
def test_registry_model_counts(tmp_path, name):
    """The bench's counts of a registered model are those of count_params / count_macs on the same build."""
    kw = REGISTRY_CASES[name]
    argv = ["--models", name, "--frames", "2", "--size", "32", "--batch", "1", "--repeats", "1", "--warmup", "0"]
    overrides = [f"--model-kw={name}:{key}={value}" for key, value in kw.items()]
    row = _run(tmp_path, *argv, "--memory", "none", "--num-classes", "7", *overrides)["rows"][0]
    spec, settings = ModelSpec(name, name, kw, frames=2, size=32), RunSettings(num_classes=7)
    model = build_model(spec, settings)
    assert row["params"] == count_params(model)
    assert row["macs"] == count_macs(model, make_clip(spec, settings, 1))


def test_bad_arguments_exit_with_a_message(tiny_registry, capsys):
    assert main(["bench", "models", "--models", "bench_tiny_conv3d", "--batch", "1,x"]) == 2
    assert "--batch must list positive batch sizes like 1,4, got '1,x'" in capsys.readouterr().err


def test_parsers_name_bad_input():
    assert parse_batches("1,4") == [1, 4]
    with pytest.raises(ValueError, match="positive batch sizes"):
        parse_batches("0")
    assert model_names(" a,,b ") == ["a", "b"]
    assert parse_accuracy("a=40.6, b=52.2") == {"a": 40.6, "b": 52.2}
    with pytest.raises(ValueError, match="'b'"):
        parse_accuracy("a=1,b")
    with pytest.raises(ValueError, match="'b=high'"):
        parse_accuracy("a=1,b=high")


def test_plan_from_preset_keeps_paper_rows_and_filters():
    planned, preset = plan(preset="tps-table2e")
    assert preset.name == "tps-table2e"
    assert [paper.label for _, paper in planned] == [row.label for row in PRESETS["tps-table2e"].rows]
    sparse = next(spec for spec, paper in planned if paper.label == "Sparse")
    assert sparse is None  # shown with the paper's figures only
    joint = next(spec for spec, paper in planned if paper.label == "Joint")
    assert (joint.name, dict(joint.kwargs), joint.frames, joint.size) == (
        "video_swin_t",
        {"window_size": (16, 7, 7)},
        32,
        224,
    )
    planned, _ = plan(["tsm_r50"], preset="stsm-table4", frames=4, model_kwargs={"tsm_r50": {"shift_div": 4}})
    assert [(spec.label, spec.frames, spec.size, dict(spec.kwargs)) for spec, _ in planned] == [
        ("TSM+TSN R-50 8f", 4, 256, {"shift_div": 4}),
        ("TSM+TSN R-50 16f", 4, 256, {"shift_div": 4}),
    ]
    with pytest.raises(ValueError, match="not benchmarked: other"):
        plan(["deit_s_2d"], model_kwargs={"other": {"x": 1}})
    with pytest.raises(ValueError, match="unknown models no_such_model"):
        plan(["deit_s_2d", "no_such_model"])
    with pytest.raises(ValueError, match="no row of preset 'stsm-table4': pst_t"):
        plan(["tsm_r50", "pst_t"], preset="stsm-table4")
    with pytest.raises(ValueError, match="--models"):
        plan()


def test_preset_puts_paper_figures_and_their_ratios_beside_measured(tiny_registry, tmp_path, monkeypatch):
    rows = (
        PaperRow(
            "P",
            "1",
            "Small",
            "bench_tiny_conv3d",
            gmacs=10,
            memory_gb=1.0,
            latency_ms=20,
            throughput_vps=40,
            top1={"d": 50},
        ),
        PaperRow("P", "1", "Wide", "bench_tiny_conv3d_wide", {"width": 6}, gmacs=15, latency_ms=30, top1={"d": 60}),
        PaperRow("P", "1", "Absent", None, gmacs=12, latency_ms=25, top1={"d": 55}),
    )
    monkeypatch.setitem(PRESETS, "tiny-table", Preset("tiny-table", "a tiny table", "d", rows, note="tiny note"))
    result = _run(tmp_path, "--preset", "tiny-table", "--num-classes", "2", *FAST)
    small, wide, absent = result["rows"]
    assert [r["model"] for r in result["rows"]] == ["Small", "Wide", "Absent"]
    assert wide["params"] == expected_params(6, 2) and wide["macs"] == expected_macs(6, 2, frames=2, size=8)
    assert (small["paper_gmacs"], wide["paper_lat_ms"], absent["paper_gmacs"]) == (10, 30, 12)
    assert [r["paper_lat_ms_x"] for r in result["rows"]] == [1.0, 1.5, 1.25]
    assert [r["paper_gmacs_x"] for r in result["rows"]] == [1.0, 1.5, 1.2]
    assert [r["paper_vps_x"] for r in result["rows"]] == [1.0, None, None]
    assert [r["top1"] for r in result["rows"]] == [50, 60, 55]
    assert absent.get("macs") is None and absent["macs_x"] is None
    assert wide["macs_x"] == wide["macs"] / small["macs"]
    assert "a tiny table" in result["title"] and "tiny note" in result["title"]


def test_plot_with_memory_panel(tmp_path):
    rows = [
        {"model": "a", "lat_b1_ms": 10.0, "top1": 40.0, "mem_infer_gib": 1.0, "mem_train_gib": 3.0},
        {"model": "b", "lat_b1_ms": 20.0, "top1": None, "mem_infer_gib": 2.0, "mem_train_gib": None},
        {"model": "paper only", "top1": 50.0},
    ]
    path = tmp_path / "plot.png"
    plot_models(rows, path, latency_key="lat_b1_ms", title="t")
    from matplotlib.image import imread

    height, width, _ = imread(path).shape
    assert (height, width) == (500, 1200)  # two panels, 12x5 inches at 100 dpi
    plot_models(rows[:1], path, latency_key="lat_b1_ms")
    assert imread(path).shape[:2] == (500, 1200)
    plot_models([{"model": "a", "lat_b1_ms": 1.0}], path, latency_key="lat_b1_ms")
    assert imread(path).shape[:2] == (500, 600)  # no memory: the latency panel alone
