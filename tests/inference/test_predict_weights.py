"""``videoshift predict`` with named weights: the weights' protocol, batches, folders, and broken files."""

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from types import MappingProxyType

import engine_standins
import media
import pytest
import torch

from videoshift.cli import main
from videoshift.data import write_synthetic_dataset
from videoshift.inference import load_model
from videoshift.inference.predict import predict_videos
from videoshift.models import create_model, hub, weights

MEDIA = Path(__file__).parents[1] / "fixtures" / "media"


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    out = tmp_path_factory.mktemp("videos")
    write_synthetic_dataset(out, num_train=1, num_val=3, num_frames=8, size=16, lossless=True)
    return sorted(str(p) for p in (out / "videos" / "val").glob("*.mp4"))


@pytest.fixture
def tag(tmp_path, monkeypatch):
    """Stand-in weights (Kinetics-400 head) under a tag whose protocol fits the stand-in (4 frames, 8x8)."""
    engine_standins.register(monkeypatch)
    monkeypatch.setenv("VIDEOSHIFT_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    model = create_model(engine_standins.MODEL_NAME, num_classes=400)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "w.pth")
    digest = hashlib.sha256((tmp_path / "w.pth").read_bytes()).hexdigest()
    template = weights.get_weights("tsm_r50.k400_mmaction2_8f")
    protocol = dataclasses.replace(
        template.protocol,
        frames=4,
        sampling=MappingProxyType({"type": "tsn", "num_frames": 4}),
        views=(2, 3),
        input_size=8,
        short_side=8,
    )
    spec = dataclasses.replace(
        template,
        tag=f"{engine_standins.MODEL_NAME}.k400_test_4f",
        model=engine_standins.MODEL_NAME,
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 4}),
        urls=((tmp_path / "w.pth").as_uri(),),
        sha256_prefix=digest[:8],
        protocol=protocol,
    )
    monkeypatch.setitem(weights._BY_TAG, spec.tag, spec)
    return spec.tag


def test_predict_with_named_weights_prints_class_names_with_the_weights_protocol(tag, videos, capsys):
    results = predict_videos(videos, load_model(weights=tag), top_k=3, batch_size=2)
    names = set(weights.read_shipped_label_map("kinetics400"))
    assert len(results) == 3 and all(r.error is None and len(r.top) == 3 for r in results)
    assert all(name in names for r in results for name, _ in r.top)
    assert main(["predict", *videos, "--weights", tag, "--top-k", "2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.count("1. ") == 3 and out.count("2. ") == 3 and results[0].top[0][0] in out


def test_a_broken_file_is_one_line_and_the_others_carry_on(tag, videos, tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for video in videos[:2]:
        shutil.copy(video, folder)
    shutil.copy(MEDIA / "videos_derived" / "demo_truncated40.mp4", folder / "broken.mp4")
    (folder / "notes.txt").write_text("not a video")
    code = main(["predict", str(folder), "--weights", tag, "--json", "--device", "cpu", "--batch-size", "2"])
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert code == 1 and len(rows) == 3  # the folder's three videos; the text file is not one
    broken = [row for row in rows if "error" in row]
    assert len(broken) == 1 and broken[0]["video"].endswith("broken.mp4")
    assert all(len(row["top"]) == 5 for row in rows if "error" not in row)
    assert captured.err.count("cannot read") == 1 and "Traceback" not in captured.err
    assert "broken.mp4" in captured.err


def test_a_glob_and_a_missing_weights_file_without_network(tag, videos, monkeypatch, capsys):
    pattern = str(Path(videos[0]).parent / "00000[01].mp4")
    assert main(["predict", pattern, "--weights", tag, "--json", "--device", "cpu"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    spec = weights.get_weights(tag)
    monkeypatch.setitem(weights._BY_TAG, tag, dataclasses.replace(spec, urls=("http://127.0.0.1:9/w.pth",)))
    monkeypatch.setenv("VIDEOSHIFT_CACHE", str(Path(videos[0]).parent / "empty-cache"))
    assert main(["predict", videos[0], "--weights", tag]) == 2
    err = capsys.readouterr().err
    assert "127.0.0.1:9/w.pth" in err and "by hand" in err and "empty-cache" in err


def test_weights_list_and_convert(tmp_path, capsys):
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "tsm_r50.k400_mmaction2_8f" in out and "73.18" in out and "MCG-NJU/TDN" in out
    assert main(["weights", "list", "--json", "--model", "tanet_r50"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["sha256_prefix"] == "a34346bc" and entry["protocol"]["views"] == [10, 3]
    source = create_model("tsm_mbv2", num_classes=7, num_frames=4)
    torch.save({"state_dict": source.state_dict(), "optimizer": {"state": {}}}, tmp_path / "src.pth")
    assert main(["weights", "convert", str(tmp_path / "src.pth"), "--model", "tsm_mbv2", "--num-classes", "7",
                 "--num-frames", "4", "--out", str(tmp_path / "out")]) == 0  # fmt: skip
    spec = json.loads((tmp_path / "out" / "spec.json").read_text())
    assert spec["sha256"] in capsys.readouterr().out and (tmp_path / "out" / "README.md").is_file()
    loaded = create_model("tsm_mbv2", num_classes=7, num_frames=4, checkpoint=tmp_path / "out" / "model.safetensors")
    pairs = zip(loaded.state_dict().values(), source.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


@pytest.mark.parametrize("tag", [spec.tag for spec in weights.list_weights()])
def test_test_command_takes_every_registered_tag_from_the_cache(tag, videos, tmp_path, monkeypatch, capsys):
    """``videoshift test --weights TAG`` for every registered tag whose file is in the cache: the stand-in model
    replaces the architecture (a file of the real one is 100 MB to 350 MB) and the protocol's frame size shrinks to
    16 px; its sampling, views, normalisation and class count are the tag's. The upstream's top-1 is printed beside
    the measured one."""
    engine_standins.register(monkeypatch)
    monkeypatch.setenv("VIDEOSHIFT_CACHE", str(tmp_path / "cache"))
    spec = weights.get_weights(tag)
    model = create_model(engine_standins.MODEL_NAME, num_classes=spec.num_classes, num_frames=spec.protocol.frames)
    small = dataclasses.replace(spec.protocol, input_size=16, short_side=16)
    stand_in = dataclasses.replace(
        spec,
        model=engine_standins.MODEL_NAME,
        kwargs=MappingProxyType({"num_classes": spec.num_classes}),
        protocol=small,
    )
    cached = hub.cached_path(stand_in)
    cached.parent.mkdir(parents=True)
    torch.save({"state_dict": model.state_dict()}, cached)
    if stand_in.verification == "sha256-prefix":
        stand_in = dataclasses.replace(stand_in, sha256_prefix=hub.sha256sum(cached)[:8])
    monkeypatch.setitem(weights._BY_TAG, tag, stand_in)
    listed = tmp_path / "test.txt"
    listed.write_text("".join(f"{Path(video).name} {i}\n" for i, video in enumerate(videos[:2])))
    config = tmp_path / "test.yaml"
    data = {"test_list": str(listed), "root": str(Path(videos[0]).parent), "num_classes": spec.num_classes}
    config.write_text(
        json.dumps({"model": {"name": engine_standins.MODEL_NAME}, "data": data, "train": {"num_workers": 0}})
    )
    assert main(["test", str(config), "--weights", tag, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["count"] == 2 and saved["source"].startswith(f"registered weights {tag}")
    assert saved["views"] == "{}x{}".format(*spec.protocol.views) and saved["recipe"]["transform"]["input_size"] == 16
    if "top1" in spec.upstream:
        assert f"upstream top1 {spec.upstream['top1']:.2f} (as published), measured {saved['top1']:.2f}" in printed
    else:  # the Video Swin file's listing publishes no top-1
        assert "upstream" not in printed


def test_a_video_cut_short_is_flagged_by_predict_and_test(tag, tmp_path, capsys):
    """The first 40 % of test.mp4 with its index at the front: the header promises 300 frames, about 107 arrived.
    ``predict --json`` and ``test`` (results.json, the printed count) flag it; the whole file is not flagged."""
    whole = MEDIA / "videos" / "test.mp4"
    cut = media.cut_short(whole, tmp_path / "cut.mp4")
    assert main(["predict", str(cut), str(whole), "--weights", tag, "--json", "--device", "cpu"]) == 0
    flagged, complete = json.loads(capsys.readouterr().out)
    assert flagged["complete"] is False and flagged["frames_promised"] == 300
    assert 90 <= flagged["frames_decodable"] <= 130 and flagged["clip_end_s"] < 4.5  # 40 % of 10 s
    assert complete["complete"] is True and complete["frames_promised"] == complete["frames_decodable"] == 300
    assert complete["clip_end_s"] > 8.0 and complete["duration_s"] == 10.0
    assert main(["predict", str(cut), "--weights", tag, "--device", "cpu"]) == 0
    assert "INCOMPLETE: the header promises 300 frames" in capsys.readouterr().out

    listed = tmp_path / "test.txt"
    listed.write_text(f"{cut.name} 0\ntest.mp4 1\n")
    shutil.copy(whole, tmp_path / "test.mp4")
    config = tmp_path / "test.yaml"
    data = {"test_list": str(listed), "root": str(tmp_path), "num_classes": 400}
    config.write_text(
        json.dumps({"model": {"name": engine_standins.MODEL_NAME}, "data": data, "train": {"num_workers": 0}})
    )
    assert main(["test", str(config), "--weights", tag, "--out", str(tmp_path / "out")]) == 0
    assert "incomplete 1" in capsys.readouterr().out
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["incomplete"] == 1
    assert [(v["video"], v["complete"], v["frames_promised"]) for v in saved["videos"]] == [
        ("cut.mp4", False, 300),
        ("test.mp4", True, 300),
    ]
