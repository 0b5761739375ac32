"""ImageNet weights of pretrained=True: a file placed by hand is used, and without one offline the failure is one
line, at once, naming the Hub file, where to place it and the offline switch. Nothing here reaches the internet:
HF_HUB_OFFLINE=1 forbids it, or the Hub endpoint is a closed local port."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file

from videoshift.models import create_model, imagenet

ROOT = Path(__file__).parents[2]
FAIL = """
import time
from videoshift.models import create_model
start = time.perf_counter()
try:
    create_model("tsn_r50", backbone="resnet18", pretrained=True, num_classes=5)
except ValueError as error:
    print(f"{time.perf_counter() - start:.2f}")
    print(error)
"""


def _offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env |= {"HF_HOME": str(tmp_path / "hf"), "VIDEOSHIFT_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    return env | extra


@pytest.mark.parametrize(
    ("switch", "reason"),
    [
        ({"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE=1 forbids downloads"),
        ({"HF_ENDPOINT": "http://127.0.0.1:9"}, "127.0.0.1:9 cannot be reached"),  # the discard port: refused
    ],
)
def test_without_the_file_offline_the_error_is_one_line_at_once(tmp_path, switch, reason):
    run = subprocess.run(
        [sys.executable, "-c", FAIL], env=_offline_env(tmp_path, **switch), capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    seconds, message, *rest = run.stdout.splitlines()
    assert rest == [] and float(seconds) < 10, run.stdout + run.stderr  # no retries: one check, one line
    placed = tmp_path / "cache" / "imagenet" / "resnet18.tv_in1k" / "model.safetensors"
    assert message.startswith("ImageNet weights resnet18.tv_in1k (timm, Hugging Face file ")
    assert "/timm/resnet18.tv_in1k/resolve/main/model.safetensors" in message and reason in message
    assert f"copy it to {placed};" in message and "HF_HUB_OFFLINE=1" in message


def test_a_file_placed_by_hand_is_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOSHIFT_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(3)
    image = timm.create_model("resnet18").state_dict()  # stands in for torchvision's ImageNet ResNet-18
    placed = imagenet.placed_path("resnet18.tv_in1k")
    assert placed == tmp_path / "cache" / "imagenet" / "resnet18.tv_in1k" / "model.safetensors"
    placed.parent.mkdir(parents=True)
    save_file(image, str(placed))
    model = create_model("tsn_r50", backbone="resnet18", pretrained=True, num_classes=5, num_frames=2)
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, image[key], rtol=0, atol=0, msg=key)


def test_backbones_start_from_the_papers_imagenet_weights():
    assert imagenet.imagenet_name("resnet50") == "resnet50.tv_in1k"  # torchvision's, not timm's a1_in1k
    assert imagenet.imagenet_name("mobilenetv2_100") == "mobilenetv2_100.ra_in1k"  # timm's default, written out
    assert imagenet.imagenet_name("resnet50.a1_in1k") == "resnet50.a1_in1k"  # a tag given is kept
