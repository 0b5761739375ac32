"""``videoshift viz cam`` and the figure writers: files people can open, and one-line errors for bad input."""

from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from videoshift.cli import main
from videoshift.data.synthetic import CLASS_NAMES
from videoshift.inference import load_model
from videoshift.inference.predict import read_clip
from videoshift.models import create_model
from videoshift.viz.cam_video import explain_video
from videoshift.viz.figures import denormalise, overlay, side_by_side, write_gif, write_mp4

VIDEO = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "videos" / "demo.mp4"
DATA = {
    "dataset": "synthetic",
    "sampling": {"type": "tsn", "num_frames": 4},
    "transform": {"input_size": 48, "short_side": 48, "train_crop": "center", "mean": [0.5] * 3, "std": [0.25] * 3},
}


def training_checkpoint(path: Path, name: str = "tsm_r50", seed: int = 0, data: dict | None = None) -> Path:
    """A checkpoint in the training format (``load_trained`` reads it) of a tiny untrained model."""
    kwargs = {"backbone": "resnet18", "num_classes": len(CLASS_NAMES), "num_frames": 4, "dropout": 0.0}
    torch.manual_seed(seed)
    model = create_model(name, **kwargs)
    torch.save(
        {
            "format": "videoshift-train-v1",
            "model_args": {"name": name, "kwargs": kwargs},
            "model": model.state_dict(),
            "config": {"data": data or DATA},
            "class_names": list(CLASS_NAMES),
        },
        path,
    )
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ckpt")
    return training_checkpoint(folder / "tsm.pth"), training_checkpoint(folder / "stsm.pth", "stsm_r50", 1)


def test_the_clip_is_the_models_view_and_frames_come_back_denormalised(checkpoints):
    loaded = load_model(checkpoint=checkpoints[0])
    clip = read_clip(VIDEO, loaded.recipe)
    assert clip.shape == (3, 4, 48, 48)
    panel = explain_video(VIDEO, loaded, "moving left")
    assert panel.frames.shape == (4, 48, 48, 3) and panel.frames.dtype == np.uint8
    expected = ((clip * 0.25 + 0.5).clamp(0, 1) * 255).round().permute(1, 2, 3, 0)
    assert (torch.from_numpy(panel.frames).float() - expected).abs().max() <= 1
    assert panel.result.target == 1 and panel.result.cam.shape == (4, 48, 48)


def test_a_synthetic_run_without_sampling_reads_its_frames_at_its_size(tmp_path):
    data = {"dataset": "synthetic", "synthetic": {"num_frames": 4, "size": 40}, "transform": {"mean": [0.5] * 3}}
    loaded = load_model(checkpoint=training_checkpoint(tmp_path / "synthetic.pth", data=data))
    assert read_clip(VIDEO, loaded.recipe).shape == (3, 4, 40, 40)


def test_denormalise_accepts_0_255_statistics():
    clip = torch.zeros(3, 2, 4, 4)
    frames = denormalise(clip, (123.675, 116.28, 103.53), (58.395, 57.12, 57.375))
    assert frames[0, 0, 0].tolist() == [124, 116, 104]


def test_cam_command_writes_png_gif_and_mp4(checkpoints, tmp_path, capsys):
    tsm, stsm = checkpoints
    code = main(["viz", "cam", str(VIDEO), "--checkpoint", str(tsm), "--compare", str(stsm), "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "tsm_r50: Grad-CAM of" in out and "stsm_r50: Grad-CAM of" in out
    png, gif, mp4 = (tmp_path / f"demo_cam.{ext}" for ext in ("png", "gif", "mp4"))
    assert Image.open(png).size[0] > 600
    with Image.open(gif) as image:
        assert image.n_frames == 4 and image.size == (4 * (3 * 48 + 2 * 4), 4 * 48)  # frames | TSM | STSM, x4
    with av.open(str(mp4)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 4 and decoded[0].shape == (4 * 48, 4 * (3 * 48 + 2 * 4), 3)


def test_cam_with_a_config_and_plain_weights(checkpoints, tmp_path):
    weights = tmp_path / "weights.pth"
    torch.save({"state_dict": torch.load(checkpoints[0])["model"]}, weights)
    config = tmp_path / "tsm.yaml"
    config.write_text(
        "model: {name: tsm_r50, pretrained: false, kwargs: {backbone: resnet18, dropout: 0.0}}\n"
        "data: {dataset: video, train_list: x.txt, num_classes: 12, sampling: {type: tsn, num_frames: 4},\n"
        "       transform: {input_size: 48, short_side: 48, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}}\n"
    )
    loaded = load_model(checkpoint=weights, config=config)
    assert loaded.model.num_frames == 4 and loaded.class_names is None
    by_checkpoint = explain_video(VIDEO, load_model(checkpoint=checkpoints[0]), 3)
    by_config = explain_video(VIDEO, loaded, 3)
    torch.testing.assert_close(by_config.result.cam, by_checkpoint.result.cam)
    argv = ["viz", "cam", str(VIDEO), "--checkpoint", str(weights), "--config", str(config), "--out", str(tmp_path)]
    assert main(argv) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--class", "jumping"], "unknown class 'jumping'"),
        (["--class", "40"], r"class id 40 is outside \[0, 12\)"),
        # a training checkpoint names its own model: a config beside it must name the same
        (
            ["--config", "tsn_r50_k400"],
            r"tsm\.pth \(videoshift-train-v1, tsm_r50\) holds a tsm_r50 model, but config "
            r"tsn_r50_k400 names tsn_r50$",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(checkpoints, tmp_path, capsys, extra, message):
    code = main(["viz", "cam", str(VIDEO), "--checkpoint", str(checkpoints[0]), "--out", str(tmp_path), *extra])
    lines = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("model: ")]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("videoshift viz: error:")
    assert re.search(message, lines[0])


def test_a_plain_weights_file_without_config_is_named(tmp_path, capsys):
    weights = tmp_path / "weights.pth"
    torch.save({"state_dict": {"a": torch.zeros(1)}}, weights)
    assert main(["viz", "cam", str(VIDEO), "--checkpoint", str(weights)]) == 2
    assert "is a plain weights file: say which model it fits with --config" in capsys.readouterr().err


def test_video_writers_round_trip(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (3, 17, 21, 3), dtype=np.uint8)
    heat = overlay(frames, np.linspace(0, 1, 3 * 17 * 21).reshape(3, 17, 21))
    assert heat.shape == frames.shape and heat.dtype == np.uint8
    with av.open(str(write_mp4(heat, tmp_path / "a.mp4"))) as container:
        assert [f.to_ndarray(format="rgb24").shape for f in container.decode(video=0)] == [(18, 22, 3)] * 3
    with Image.open(write_gif(heat, tmp_path / "a.gif")) as image:
        assert image.n_frames == 3 and image.size == (21, 17)
    assert side_by_side([frames, frames[:1]]).shape == (3, 17, 2 * 21 + 4, 3)
