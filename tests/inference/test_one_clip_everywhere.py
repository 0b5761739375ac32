"""Every command that runs a model reads the same frames at the same size, from every kind of model source.

A causal TSM is trained here on synthetic clips of 16 frames of 32 px (``dataset: synthetic``, no sampling or
transform section: the recipe must come from the run). Its weights are then handed to ``predict``, ``predict
--stream``, ``test``, ``viz cam``, ``export --check`` and the demo's recognition as a training checkpoint, a weights
package, the package's ``model.safetensors`` alone, and a plain weights file with a config. The test videos hold
24 frames of 48 px, so the sampler (16 of 24 frames) and the resize (48 → 32) both matter. What the video reader is
asked for and what the network receives are recorded at their source (``PyAVReader.read``,
``ShiftCNN.forward_features``, ``Stream.step``) and compared with the recipe's sampler, computed independently.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from videoshift.cli import main
from videoshift.data import write_synthetic_dataset
from videoshift.data.readers import PyAVReader
from videoshift.data.samplers import TSNSampler
from videoshift.deploy.stream import Stream
from videoshift.models.shift_cnn import ShiftCNN

FRAMES, SIZE, VIDEO_FRAMES, VIDEO_SIZE = 16, 32, 24, 48
MODEL = {"name": "tsm_mbv2", "kwargs": {"backbone": "mobilenetv2_050", "causal": True, "dropout": 0.0}}
DATA = {"dataset": "synthetic", "synthetic": {"num_frames": FRAMES, "size": SIZE, "num_train": 16, "num_val": 8}}
TRAIN = {"epochs": 1, "batch_size": 8, "num_workers": 0, "threads": 1, "device": "cpu"}


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("videos")
    return write_synthetic_dataset(out, num_train=1, num_val=2, num_frames=VIDEO_FRAMES, size=VIDEO_SIZE, lossless=True)


@pytest.fixture(scope="module")
def video_config(videos, tmp_path_factory) -> Path:
    """A config over the test videos that says, in its own words, how the model reads them: it serves ``test`` as
    its data, and a plain weights file as its model."""
    reading = {
        "test_sampling": {"type": "tsn", "num_frames": FRAMES},
        "transform": {"input_size": SIZE, "short_side": SIZE},
    }
    path = tmp_path_factory.mktemp("config") / "video.yaml"
    path.write_text(yaml.safe_dump({"model": MODEL, "data": {**videos, **reading}, "train": TRAIN}))
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory, video_config) -> dict[str, list[str]]:
    """The trained model as each kind of source (command-line options)."""
    from videoshift.engine.config import DEFAULTS, deep_merge, validate_config
    from videoshift.engine.train import Trainer

    out = tmp_path_factory.mktemp("one_clip")
    cfg = deep_merge(DEFAULTS, {"name": "tiny", "model": MODEL, "data": DATA, "train": TRAIN})
    validate_config(cfg)
    threads = torch.get_num_threads()
    try:
        Trainer(cfg, out / "run").fit()
    finally:
        torch.set_num_threads(threads)
    checkpoint = out / "run" / "latest.pth"
    assert main(["weights", "convert", str(checkpoint), "--out", str(out / "package")]) == 0
    torch.save({"state_dict": torch.load(checkpoint, weights_only=True)["model"]}, out / "plain.pth")
    return {
        "training checkpoint": ["--checkpoint", str(checkpoint)],
        "weights package": ["--weights", str(out / "package")],
        "package file alone": ["--weights", str(out / "package" / "model.safetensors")],
        "config + plain weights": ["--checkpoint", str(out / "plain.pth"), "--config", str(video_config)],
    }


@pytest.fixture
def seen(monkeypatch) -> dict[str, list]:
    """Records every read of the video reader, every clip the network gets, every streamed frame."""
    record: dict[str, list] = {"reads": [], "clips": [], "steps": []}
    read, features, step = PyAVReader.read, ShiftCNN.forward_features, Stream.step

    def reading(self, path, indices):
        record["reads"].append((Path(path).name, [int(i) for i in indices]))
        return read(self, path, indices)

    def featuring(self, x):
        record["clips"].append(x.detach()[0].clone())
        return features(self, x)

    def stepping(self, frames, state):
        record["steps"].append(tuple(frames.shape))
        return step(self, frames, state)

    monkeypatch.setattr(PyAVReader, "read", reading)
    monkeypatch.setattr(ShiftCNN, "forward_features", featuring)
    monkeypatch.setattr(Stream, "step", stepping)
    return record


def test_tsn_test_sampling_of_16_segments_over_24_frames_by_hand():
    segment = VIDEO_FRAMES / FRAMES  # 1.5 frames: the middle frame of each segment
    assert [int(segment * i + segment / 2) for i in range(FRAMES)] == EXPECTED
    views = TSNSampler(num_frames=FRAMES, test_mode=True).views(VIDEO_FRAMES, np.random.default_rng(0))
    assert views.ravel().tolist() == EXPECTED


EXPECTED = [0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23]


def test_every_command_reads_the_same_clip_from_every_source(sources, videos, video_config, seen, tmp_path, capsys):
    from videoshift.demo.recognise import ModelCache, ModelChoice, recognise

    video = Path(videos["root"]) / "videos" / "val" / "000000.mp4"
    reference = None

    def check(kind: str, command: str) -> None:
        nonlocal reference
        reads = [indices for name, indices in seen["reads"] if name == video.name]
        assert reads and all(indices == EXPECTED for indices in reads), (kind, command, reads)
        clip = seen["clips"][0]
        assert clip.shape == (3, FRAMES, SIZE, SIZE), (kind, command)
        reference = clip if reference is None else reference
        torch.testing.assert_close(clip, reference, rtol=0, atol=0, msg=f"{kind}: {command}")

    for kind, source in sources.items():
        model_only = [item for item in source if item != "--config" and item != str(video_config)]
        runs = {
            "predict": ["predict", str(video), *source, "--json"],
            "test": ["test", str(video_config), *model_only, "--out", str(tmp_path / "test")],
            "viz cam": ["viz", "cam", str(video), *source, "--out", str(tmp_path / "viz")],
        }
        for command, argv in runs.items():
            seen["reads"].clear(), seen["clips"].clear()  # export's random clips of the previous source
            assert main(argv) == 0, (kind, command, capsys.readouterr().err)
            check(kind, command)
        printed = capsys.readouterr().out
        (row,), _ = json.JSONDecoder().raw_decode(printed[printed.index("[") :])  # predict printed first
        assert row["clip"]["frames"] == FRAMES and row["clip"]["size"] == SIZE and row["clip"]["views"] == "1x1"

        flags = dict(zip(source[::2], source[1::2], strict=True))
        choice = ModelChoice(kind, checkpoint=flags.get("--checkpoint"), config=flags.get("--config"),
                             weights=flags.get("--weights"))  # fmt: skip
        seen["reads"].clear(), seen["clips"].clear()
        recognise(video, ModelCache([choice]), kind, 10_000_000)
        check(kind, "demo")

        assert main(["predict", str(video), *source, "--stream", "--every", "8"]) == 0
        assert len(seen["steps"]) == VIDEO_FRAMES and all(shape[-2:] == (SIZE, SIZE) for shape in seen["steps"])
        seen["steps"].clear()
        capsys.readouterr()
        out = tmp_path / f"{kind.replace(' ', '_')}.onnx"
        assert main(["export", *source, "--out", str(out), "--check", "--exporter", "torchscript"]) == 0
        printed = capsys.readouterr().out
        assert f"input: clip (batch, 3, {FRAMES}, {SIZE}, {SIZE})" in printed and "same top-5 True" in printed, kind
