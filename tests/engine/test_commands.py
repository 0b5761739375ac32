"""``videoshift test`` / ``predict`` on real video files, and the train command line."""

import json
from pathlib import Path

import pytest
import torch
from engine_standins import TinyMotion, tiny_config

from videoshift.cli import main
from videoshift.data import build_dataset, write_synthetic_dataset
from videoshift.engine.runner import evaluate_model
from videoshift.engine.train import Trainer
from videoshift.inference import load_model
from videoshift.inference.predict import predict_videos

# the stand-in model sees 4-frame 8x8 clips; synthetic videos are decoded and resized to that
DATA = {
    "sampling": {"type": "tsn", "num_frames": 4},
    "test_sampling": {"type": "tsn", "num_frames": 4, "num_clips": 1},
    "transform": {"input_size": 8, "short_side": 8, "train_crop": "center", "mean": [0.5] * 3, "std": [0.5] * 3},
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    out = tmp_path_factory.mktemp("videos")
    return write_synthetic_dataset(out, num_train=1, num_val=6, num_frames=8, size=16, lossless=True)


@pytest.fixture
def checkpoint(tmp_path, standin_model):
    cfg = tiny_config(data=DATA, train={"epochs": 1})
    Trainer(cfg, tmp_path / "run", datasets=(TinyMotion(16, "train"), TinyMotion(8, "val"))).fit()
    return tmp_path / "run" / "latest.pth"


def test_multi_view_test_matches_a_view_by_view_loop(tmp_path, checkpoint, videos):
    data_cfg = {**videos, **DATA, "num_classes": 4}
    data_cfg["val_list"] = videos["val_list"]
    data_cfg.pop("label_map")  # 12 synthetic names; the stand-in has 4 classes (labels 0..5 >= 4 are dropped below)
    lines = [line for line in Path(videos["val_list"]).read_text().splitlines() if int(line.split()[-1]) < 4]
    (tmp_path / "val4.txt").write_text("\n".join(lines) + "\n")
    data_cfg["val_list"] = str(tmp_path / "val4.txt")
    loaded = load_model(checkpoint=checkpoint)
    result = evaluate_model(loaded, data_cfg, tmp_path / "out", views="2x1", batch_size=3, num_workers=0)

    two_clips = {**data_cfg, "test_sampling": {**DATA["test_sampling"], "num_clips": 2}}
    dataset = build_dataset(two_clips, "test")  # the training config's own test sampling, two clips
    model = loaded.model
    probs, labels = [], []
    with torch.no_grad():
        for i in range(len(dataset)):
            item = dataset[i]
            assert item["clip"].shape[0] == 2  # two clips, one crop
            probs.append(torch.stack([model(view[None]).softmax(-1)[0] for view in item["clip"]]).mean(0))
            labels.append(int(item["label"]))
    predicted = torch.stack(probs).argmax(1)
    expected_top1 = 100.0 * (predicted == torch.tensor(labels)).float().mean().item()
    assert result["count"] == len(lines) == 4
    assert result["top1"] == pytest.approx(expected_top1)
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["confusion"] == result["confusion"].tolist()
    assert sum(map(sum, saved["confusion"])) == 4


def test_predict_top_k_on_video_files(checkpoint, videos, capsys):
    files = sorted((videos["root"] + "/videos/val/" + name) for name in ("000000.mp4", "000001.mp4"))
    results = predict_videos(files, load_model(checkpoint=checkpoint), top_k=3)
    assert len(results) == 2 and [r.video for r in results] == files and not any(r.error for r in results)
    for top in (r.top for r in results):
        assert [name for name, _ in top] and all(name in TinyMotion.class_names for name, _ in top)
        probs = [p for _, p in top]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert main(["predict", *files, "--checkpoint", str(checkpoint), "--top-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("1. ") == 2 and out.count("2. ") == 2 and "3. " not in out


def test_bad_input_is_one_line_and_exit_code_2_with_the_traceback_only_under_debug(capsys, tmp_path):
    assert main(["train", "--set", "trian.epochs=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("videoshift train: error: ") and "Traceback" not in err and len(err.splitlines()) == 1
    assert "unknown config key trian (did you mean train?)" in err
    assert main(["predict", str(tmp_path / "missing.mp4"), "--checkpoint", str(tmp_path / "none.pth")]) == 2
    assert "none.pth" in capsys.readouterr().err
    with pytest.raises(ValueError, match="trian"):
        main(["--debug", "train", "--set", "trian.epochs=1"])
