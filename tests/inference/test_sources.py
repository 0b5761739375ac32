"""The recipe's stored form and views, and the loader's answers to each kind of source and to each wrong one."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from media import write_video

from videoshift.cli import main
from videoshift.inference import Recipe, load_model
from videoshift.inference.package import write_package
from videoshift.inference.predict import video_dataset
from videoshift.models import create_model
from videoshift.models.weights import get_weights

TINY = {"backbone": "resnet18", "num_classes": 3, "num_frames": 4, "dropout": 0.0}
DATA = {"test_sampling": {"type": "tsn", "num_frames": 4}, "transform": {"input_size": 32, "short_side": 36}}


def recipe(**changes) -> Recipe:
    values = {"num_classes": 3, "sampling": {"type": "tsn", "num_frames": 4}, "transform": DATA["transform"]}
    return Recipe(**{**values, **changes})


def training_checkpoint(path, name="tsm_r50", form="videoshift-train-v2", **kwargs):
    arguments = {"name": name, "kwargs": {**TINY, **kwargs}}
    torch.manual_seed(0)
    model = create_model(name, **arguments["kwargs"])
    state = {"format": form, "model_args": arguments, "model": model.state_dict(), "class_names": list("abc")}
    torch.save({**state, "config": {"data": DATA, "eval": {"average": "prob"}}}, path)
    return path


def test_a_recipe_survives_json_and_the_safe_unpickler():
    original = recipe(class_names=("a", "b", "c"), average="logit")
    assert Recipe.from_dict(json.loads(json.dumps(original.to_dict()))) == original
    buffer = io.BytesIO()
    torch.save(original.to_dict(), buffer)
    buffer.seek(0)
    assert Recipe.from_dict(torch.load(buffer, weights_only=True)) == original


def test_a_recipe_names_what_is_wrong_with_it():
    with pytest.raises(ValueError, match=r"x\.json: unknown recipe keys \['frame'\]"):
        Recipe.from_dict({**recipe().to_dict(), "frame": 4}, "x.json")
    with pytest.raises(ValueError, match="recipe transform keys must be among"):
        recipe(transform={**DATA["transform"], "flip": True})  # a training augmentation is no part of it
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        recipe(class_names=("a", "b"))
    with pytest.raises(ValueError, match="views must look like CLIPSxCROPS"):
        recipe().with_views("4by3")


def test_views_count_clips_and_crops_and_twice_sample_counts_its_second_pass():
    four_by_three = recipe().with_views("4x3")
    assert four_by_three.views == (4, 3) and four_by_three.sampler().num_views == 4
    twice = Recipe.from_protocol(get_weights("tsm_r50.sthv2_mmaction2_8f"))  # published as 2 clips x 3 crops
    assert twice.views == (2, 3) and twice.sampling["num_clips"] == 1 and twice.with_views("2x1").views == (2, 1)
    with pytest.raises(ValueError, match="twice_sample reads at least 2 clips"):
        twice.with_views("1x1")


def test_a_registered_tag_reads_with_its_protocol_and_names_its_classes():
    tanet = Recipe.from_protocol(get_weights("tanet_r50.k400_mmaction2_8f"))
    assert tanet.sampling == {"type": "dense", "clip_len": 8, "frame_interval": 8, "num_clips": 10}
    assert tanet.transform["mean"] == [123.675, 116.28, 103.5] and tanet.input_size == 256 and tanet.views == (10, 3)
    assert tanet.class_names[6] == "arm wrestling" and len(tanet.class_names) == 400


def test_a_synthetic_run_reads_its_frames_and_size_tdn_in_segments():
    tdn = create_model("tdn_r50", backbone="resnet18", num_classes=12, num_frames=10, segment_frames=5)
    data = {"dataset": "synthetic", "synthetic": {"num_frames": 10, "size": 40}}
    read = Recipe.from_data_config(data, 12, model=tdn)
    assert read.sampling == {"type": "tsn", "num_frames": 2, "segment_frames": 5} and read.frames_per_view == 10
    assert read.transform["input_size"] == read.transform["short_side"] == 40


def test_each_source_says_what_it_is_and_gives_the_same_model(tmp_path):
    checkpoint = training_checkpoint(tmp_path / "run.pth")
    from_run = load_model(checkpoint=checkpoint)
    assert from_run.source == f"training checkpoint {checkpoint} (videoshift-train-v2, tsm_r50)"
    assert from_run.class_names == list("abc") and from_run.recipe.input_size == 32
    write_package(from_run.model, from_run.name, from_run.kwargs, from_run.recipe, tmp_path / "pkg")
    from_package = load_model(weights=tmp_path / "pkg")
    assert from_package.source == f"weights package {tmp_path / 'pkg'} (tsm_r50)"
    assert from_package.recipe == from_run.recipe
    for key, value in from_run.model.state_dict().items():
        assert torch.equal(value, from_package.model.state_dict()[key]), key


def test_wrong_sources_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"unknown checkpoint format 'videoshift-train-v9' \(this version reads "):
        load_model(checkpoint=training_checkpoint(tmp_path / "v9.pth", form="videoshift-train-v9"))
    checkpoint = training_checkpoint(tmp_path / "run.pth")
    with pytest.raises(
        ValueError, match=r"run\.pth \(videoshift-train-v2, tsm_r50\) holds a tsm_r50 model, not tsn_r50"
    ):
        load_model(checkpoint=checkpoint, model="tsn_r50")
    torch.save({"state_dict": {"a": torch.zeros(1)}}, tmp_path / "plain.pth")
    with pytest.raises(ValueError, match="plain weights file: say which model it fits with --config"):
        load_model(weights=tmp_path / "plain.pth")
    with pytest.raises(ValueError, match="no such file or folder"):
        load_model(weights=tmp_path / "missing.pth")
    with pytest.raises(ValueError, match=r"unknown weights 'tsm_r50\.k400_mmaction_8f'; did you mean tsm_r50\.k400_mm"):
        load_model(weights="tsm_r50.k400_mmaction_8f")
    with pytest.raises(ValueError, match="no model given"):
        load_model()


def test_turning_a_two_way_model_causal_must_be_asked_for(tmp_path):
    checkpoint = training_checkpoint(tmp_path / "run.pth")
    with pytest.raises(ValueError, match=r"trained with two-way shifts .* pass --allow-causal"):
        load_model(checkpoint=checkpoint, model_kw={"causal": True})
    converted = load_model(checkpoint=checkpoint, model_kw={"causal": True}, allow_causal=True)
    assert converted.kwargs["causal"] is True
    assert {m.convention for m in converted.model.modules() if hasattr(m, "convention")} == {"causal"}
    causal = training_checkpoint(tmp_path / "causal.pth", causal=True)
    assert load_model(checkpoint=causal, model_kw={"causal": True}).kwargs["causal"] is True  # nothing changes


def test_the_command_line_names_a_checkpoint_of_another_model_in_one_line(tmp_path, capsys):
    checkpoint = training_checkpoint(tmp_path / "run.pth")
    assert main(["export", "tsn_r50", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "x.onnx")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    source = f"training checkpoint {checkpoint} (videoshift-train-v2, tsm_r50)"
    assert lines == [
        f"videoshift export: error: {source} holds a tsm_r50 model, not tsn_r50: name tsm_r50 or another source"
    ]
    assert main(["export", "--checkpoint", str(checkpoint), "--model-kw", "causal=true", "--out", "x.onnx"]) == 2
    assert "--allow-causal" in capsys.readouterr().err


def test_the_twice_sample_tag_reads_two_clips_of_three_crops_from_a_video(tmp_path):
    """TSM's SSv2 weights are published at 2 clips x 3 crops: the segment centres, then (twice_sample) the starts."""
    tsm = Recipe.from_protocol(get_weights("tsm_r50.sthv2_mmaction2_8f"))
    assert tsm.sampler().num_views == 2
    grey = (np.arange(16) * 10).astype(np.uint8)  # frame i is flat grey 10*i: its value tells which frame was read
    video = write_video(tmp_path / "v.mp4", np.broadcast_to(grey[:, None, None, None], (16, 32, 40, 3)).copy())
    clip = video_dataset([video], tsm)[0]["clip"]  # (views, C, T, H, W)
    assert clip.shape == (2 * 3, 3, 8, 256, 256)
    mean, std = tsm.transform["mean"][0], tsm.transform["std"][0]
    read = ((clip[:, 0, :, 128, 128] * std + mean) / 10).round().long()  # (views, T): the frame of each view
    centres, starts = list(range(1, 16, 2)), list(range(0, 16, 2))  # 8 segments of 2 frames (MMAction2 test mode)
    assert read.tolist() == [centres] * 3 + [starts] * 3  # clip-major: 3 crops of each clip
