"""``videoshift finetune``: the lr scaled to the batch, the start's weights kept but the classifier, exact resume,
and the package read back by ``predict`` with the probabilities of the run's own evaluation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from class_trees import write_tree
from safetensors.torch import load_file

from videoshift.engine import checkpointing
from videoshift.finetune.run import FinetuneOptions, build_config, finetune
from videoshift.finetune.start import Start, resolve_start
from videoshift.inference.recipe import Recipe

ROOT = Path(__file__).resolve().parents[2]
TINY = {"model_kw": {"backbone": "resnet10t"}, "frames": 8, "size": 32, "batch": 2, "workers": 0, "threads": 1}


def _options(data: Path, out: Path, **kw) -> FinetuneOptions:
    return FinetuneOptions(data=data, out=out, **{**TINY, **kw})


def test_lr_is_scaled_linearly_to_the_global_batch():
    start = Start("tsm_r50", {}, Recipe.for_frames(8, 3, 32), "cnn", "test", None)
    data = {"dataset": "video", "train_list": "t.txt", "val_list": "v.txt", "num_classes": 3}
    recipe = start.recipe
    cfg, _ = build_config(_options(Path("d"), Path("o"), batch=4, accumulate=3, epochs=25), start, recipe, data, 2)
    # CNN default: 0.001 at batch 64; global batch 4 x 2 processes x 3 accumulated = 24 -> 0.001 * 24 / 64
    assert cfg["optim"]["lr"] == pytest.approx(3.75e-4) and cfg["optim"]["lr_batch"] == 24
    assert cfg["schedule"]["milestones"] == [10, 20] and cfg["model"]["kwargs"]["dropout"] == 0.8  # TSM's script
    cfg, _ = build_config(_options(Path("d"), Path("o"), batch=4, lr=0.01, lr_batch=16), start, recipe, data, 1)
    assert cfg["optim"]["lr"] == pytest.approx(0.0025)  # 0.01 * 4 / 16
    swin = Start("pst_t", {}, recipe, "swin", "test", None)
    cfg, _ = build_config(_options(Path("d"), Path("o"), batch=8), swin, recipe, data, 1)
    assert (cfg["optim"]["name"], cfg["optim"]["lr"]) == ("adamw", pytest.approx(1e-4 * 8 / 64))


@pytest.fixture(scope="module")
def first_package(tmp_path_factory):
    """A 3-class tree without val/ fine-tuned from scratch for one epoch into a package."""
    root = tmp_path_factory.mktemp("first")
    data = write_tree(root / "data", {"left": 4, "right": 4, "still": 4})
    options = _options(data, root / "pkg", model="tsm_r50", epochs=1)
    lines: list[str] = []
    metrics = finetune(options, say=lines.append)
    return options, metrics, lines


def test_package_and_card_say_what_the_run_did(first_package):
    options, metrics, lines = first_package
    assert lines[0].startswith("videoshift finetune") and any("lr 3.125e-05 at global batch 2" in x for x in lines)
    stored = json.loads((options.out / "metrics.json").read_text())
    assert stored["top1"] == metrics["top1"] and stored["count"] == 3  # round(0.2 * 4) = 1 val video per class
    spec = json.loads((options.out / "spec.json").read_text())
    assert spec["recipe"]["class_names"] == ["left", "right", "still"] and spec["kwargs"]["num_classes"] == 3
    card = (options.out / "README.md").read_text()
    assert "clips train 9, val 3" in card and "seed 0" in card and "![confusion matrix](confusion.png)" in card
    assert (options.out / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_reads_the_package_with_the_probabilities_of_the_run(first_package):
    options, _, _ = first_package
    rows = json.loads((options.run_folder / "val_predictions.json").read_text())
    row = rows[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "videoshift", "predict", row["video"], "--weights", str(options.out), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=True)
    top = json.loads(done.stdout)[0]["top"]
    names = ["left", "right", "still"]
    assert len(top) == 3
    for entry in top:
        assert entry["prob"] == pytest.approx(row["probs"][names.index(entry["class"])], abs=1e-5)


def test_start_keeps_every_weight_but_the_classifier(first_package, tmp_path):
    options, _, _ = first_package
    source = load_file(str(options.out / "model.safetensors"))
    start = resolve_start(tmp_path, weights=str(options.out))
    saved = load_file(str(start.checkpoint))
    heads = {"head.fc.weight", "head.fc.bias"}
    assert set(saved) == set(source) - heads and start.kept == len(saved)
    data = write_tree(tmp_path / "data", {"a": 2, "b": 2})
    from videoshift.engine.train import Trainer
    from videoshift.finetune.data import prepare_data

    prepared = prepare_data(data, tmp_path, 8, 0.5, 0)
    cfg, _ = build_config(_options(data, tmp_path / "o"), start, start.recipe, prepared.data_section(tmp_path), 1)
    model = Trainer(cfg, tmp_path).model
    state = model.state_dict()
    assert state["head.fc.weight"].shape == (2, 512)
    assert all(torch.equal(state[k], v) for k, v in source.items() if k not in heads)
    assert not torch.equal(state["head.fc.weight"], source["head.fc.weight"][:2])  # new, not the old rows


def test_resumed_run_is_bit_exact(first_package, tmp_path):
    options, _, _ = first_package
    data = write_tree(tmp_path / "data", {"a": 3, "b": 3}, seed=1)
    common = {"weights": str(options.out), "overrides": ["schedule.name=constant"]}
    finetune(_options(data, tmp_path / "pieces", epochs=1, **common), say=lambda _: None)
    finetune(_options(data, tmp_path / "pieces", epochs=2, resume=True, **common), say=lambda _: None)
    finetune(_options(data, tmp_path / "straight", epochs=2, **common), say=lambda _: None)
    pieces = checkpointing.load(tmp_path / "pieces-run" / checkpointing.LATEST)
    straight = checkpointing.load(tmp_path / "straight-run" / checkpointing.LATEST)
    assert pieces["global_step"] == straight["global_step"] == 4  # 4 train videos, batch 2, 2 epochs
    assert all(torch.equal(pieces["model"][k], v) for k, v in straight["model"].items())
    with pytest.raises(ValueError, match="holds a run already"):
        finetune(_options(data, tmp_path / "straight", epochs=2, **common))
