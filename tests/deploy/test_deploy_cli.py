"""``videoshift export`` and ``videoshift predict --stream`` on a real video."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from videoshift.cli import main
from videoshift.models import create_model

VIDEO = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "videos" / "part_0.mp4"  # 32 frames
TINY_TSM = ["--model-kw", "backbone=resnet18", "--frames", "4", "--size", "32", "--num-classes", "5"]


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore::UserWarning", "ignore::FutureWarning")
def test_export_command_writes_a_checked_graph(tmp_path, capsys):
    weights = tmp_path / "weights.pth"
    torch.manual_seed(0)
    model = create_model("tsm_r50", backbone="resnet18", num_classes=5, num_frames=4)
    torch.save({"state_dict": model.state_dict()}, weights)
    out = tmp_path / "tsm.onnx"
    args = ["export", "tsm_r50", *TINY_TSM, "--checkpoint", str(weights), "--out", str(out)]
    assert main([*args, "--exporter", "torchscript", "--check"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out} (torchscript exporter, opset 17)" in printed
    assert "same top-5 True, scatter ops []" in printed and out.is_file()


def test_export_stream_refuses_a_model_that_cannot_stream(tmp_path, capsys):
    args = ["export", "tsm_r50_nl", *TINY_TSM, "--stream", "--out", str(tmp_path / "x.onnx")]
    assert main(args) == 2
    assert "non-local" in capsys.readouterr().err


def training_checkpoint(path: Path, name: str, **kwargs) -> Path:
    """A minimal videoshift training checkpoint: the create_model call, the weights, the test-time data settings."""
    arguments = {"name": name, "kwargs": {"num_classes": 3, "num_frames": 4, **kwargs}}
    model = create_model(name, **arguments["kwargs"])
    transform = {"input_size": 32, "short_side": 36}
    config = {"data": {"transform": transform}, "eval": {"average": "prob"}}
    torch.save(
        {"model_args": arguments, "model": model.state_dict(), "config": config, "class_names": list("abc")}, path
    )
    return path


def test_predict_stream_prints_a_running_top_k(tmp_path, capsys):
    checkpoint = training_checkpoint(tmp_path / "latest.pth", "tsm_mbv2", backbone="mobilenetv2_050", causal=True)
    args = ["predict", str(VIDEO), "--checkpoint", str(checkpoint), "--stream", "--top-k", "2", "--every", "8"]
    assert main([*args, "--window", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(VIDEO)
    frames = [line for line in lines if line.strip().startswith("frame")]
    assert [int(line.split()[1].rstrip(":")) for line in frames] == [0, 8, 16, 24]
    assert all(len(line.split(":")[1].split()) == 4 for line in frames)  # two (name, probability) pairs


def test_predict_stream_refuses_a_missing_camera_and_a_bidirectional_model(tmp_path, capsys):
    checkpoint = training_checkpoint(tmp_path / "latest.pth", "tsn_mbv2", backbone="mobilenetv2_050")
    assert main(["predict", "/dev/video97", "--checkpoint", str(checkpoint), "--stream"]) == 2
    assert "no camera device /dev/video97" in capsys.readouterr().err
    checkpoint = training_checkpoint(tmp_path / "tsm.pth", "tsm_mbv2", backbone="mobilenetv2_050")
    assert main(["predict", str(VIDEO), "--checkpoint", str(checkpoint), "--stream"]) == 2
    assert "reads the next frame and cannot stream" in capsys.readouterr().err
