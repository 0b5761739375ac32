"""The demo's work without the page: the model menu, the upload checks and one recognition."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from demo_model import CLASSES, MEDIA, VIDEOS
from media import cut_short, moving_frames, write_video

from videoshift.demo.recognise import ModelCache, UploadError, check_upload, model_choices, recognise
from videoshift.inference import load_model
from videoshift.inference.predict import predict_videos
from videoshift.models.complexity import count_macs
from videoshift.models.hub import cached_path
from videoshift.models.weights import get_weights, list_weights

LIMIT = 10_000_000


@pytest.fixture(scope="module")
def models(trained_checkpoint) -> ModelCache:
    return ModelCache(model_choices([trained_checkpoint]))


def label_of(models: ModelCache) -> str:
    return next(iter(models.choices))


@pytest.mark.parametrize(("video", "expected"), [("demo.mp4", "arm wrestling"), ("test.mp4", "cleaning pool")])
def test_top5_frames_and_cam_of_the_trained_model(models, trained_checkpoint, video, expected):
    result = recognise(VIDEOS / video, models, label_of(models), LIMIT)
    assert result.target == result.top[0][0] == expected
    assert sorted(name for name, _ in result.top) == sorted(CLASSES)
    # the batch prediction path (DataLoader, plain forward) gives the same five probabilities
    reference = predict_videos([VIDEOS / video], load_model(checkpoint=trained_checkpoint), top_k=5)[0].top
    assert [name for name, _ in result.top] == [name for name, _ in reference]
    np.testing.assert_allclose([p for _, p in result.top], [p for _, p in reference], rtol=1e-4, atol=1e-6)
    assert result.frames.shape == result.overlay.shape == (4, 64, 64, 3) and result.overlay.dtype == np.uint8
    model = models.get(label_of(models)).model
    assert result.gmacs == pytest.approx(count_macs(model, torch.zeros(1, 3, 4, 64, 64)) / 1e9)
    assert result.latency_ms > 0


def test_an_unseen_cut_of_the_pool_scene_is_cleaning_pool(models):
    assert recognise(VIDEOS / "part_0.mp4", models, label_of(models), LIMIT).target == "cleaning pool"


def test_a_video_cut_short_is_flagged_with_the_seconds_its_clip_covers(models, tmp_path):
    """test.mp4 (300 frames, 30 fps) cut to 40 % with its index at the front: the 4-frame TSN clip takes the centres
    of 4 segments of the frames present (13, 40, 66, 93 of 107), of the whole file frames 37 and 262 at both ends."""
    cut = recognise(cut_short(VIDEOS / "test.mp4", tmp_path / "cut.mp4"), models, label_of(models), LIMIT).extent
    assert (cut["complete"], cut["frames_promised"], cut["frames_decodable"]) == (False, 300, 107)
    assert (cut["clip_start_s"], cut["clip_end_s"]) == (
        pytest.approx(13 / 30, abs=1e-3),
        pytest.approx(93 / 30, abs=1e-3),
    )
    whole = recognise(VIDEOS / "test.mp4", models, label_of(models), LIMIT).extent
    assert (whole["complete"], whole["frames_promised"], whole["frames_decodable"]) == (True, 300, 300)
    assert (whole["clip_start_s"], whole["clip_end_s"]) == (
        pytest.approx(37 / 30, abs=1e-3),
        pytest.approx(262 / 30, abs=1e-3),
    )


def test_bad_uploads_raise_a_message_naming_the_file(models, tmp_path):
    label = label_of(models)
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 20)
    cases = [
        (None, "No video yet"),
        (tmp_path / "gone.mp4", "The upload of gone.mp4 did not arrive"),
        (notes, "notes.mp4 is not a video this demo can read: cannot open container"),
        (MEDIA / "videos_derived" / "demo_truncated40.mp4", "demo_truncated40.mp4 is not a video this demo can read"),
        (MEDIA / "videos_derived" / "demo_corrupt_mdat.mp4", "demo_corrupt_mdat.mp4 could not be decoded"),
        (
            write_video(tmp_path / "short.mp4", moving_frames(3)),
            "short.mp4 has 3 frames; pst_t needs at least 4 frames",
        ),
    ]
    for video, message in cases:
        with pytest.raises(UploadError, match=message) as caught:
            recognise(video, models, label, LIMIT)
        assert str(tmp_path) not in str(caught.value) and "/videos_derived/" not in str(caught.value)
    with pytest.raises(UploadError, match=r"demo.mp4 is 0.6 MB, over this demo's limit of 0.5 MB"):
        check_upload(VIDEOS / "demo.mp4", models.get(label), 500_000)
    assert recognise(write_video(tmp_path / "four.mp4", moving_frames(4)), models, label, LIMIT).frames.shape[0] == 4


def test_the_cache_keeps_the_most_recent_models(trained_checkpoint, tmp_path):
    copy = tmp_path / "copy.pth"
    copy.write_bytes(trained_checkpoint.read_bytes())
    cache = ModelCache(model_choices([trained_checkpoint, copy]), keep=1)
    first, second = cache.choices
    model = cache.get(first)
    assert cache.get(first) is model and cache.get(second) is not model
    assert cache.get(first) is not model  # evicted by the second, loaded again
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        cache.get("nope")


def test_the_menu(tmp_path, monkeypatch, trained_checkpoint):
    monkeypatch.setenv("VIDEOSHIFT_CACHE", str(tmp_path / "cache"))
    everything = model_choices()
    assert [c.weights for c in everything] == [spec.tag for spec in list_weights()]
    assert all(not c.on_disk and c.label.endswith("(not downloaded yet: fetched when chosen)") for c in everything)
    last = list_weights()[-1]
    cached_path(last).parent.mkdir(parents=True)
    cached_path(last).write_bytes(b"")
    menu = model_choices([trained_checkpoint], weights=[list_weights()[0].tag, last.tag])
    assert [c.label for c in menu] == [f"checkpoint {trained_checkpoint}", last.tag, everything[0].label]
    assert menu[0].checkpoint == trained_checkpoint and menu[1].on_disk and get_weights(menu[1].weights) == last
    assert model_choices([trained_checkpoint]) == [menu[0]]
    with pytest.raises(ValueError, match=r"checkpoint not found: .*missing\.pth"):
        model_choices([tmp_path / "missing.pth"])
    with pytest.raises(ValueError, match="give --checkpoint too"):
        model_choices(config="tsm_r50_k400")
    with pytest.raises(ValueError, match="no model to offer"):
        model_choices(weights=[])
