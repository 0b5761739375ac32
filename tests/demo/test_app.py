"""The page's handler and settings, without a browser: every upload gets an answer, nothing is fetched online."""

from __future__ import annotations

import os

import numpy as np
import pytest
from demo_model import MEDIA, VIDEOS
from PIL import Image

gr = pytest.importorskip("gradio", reason="gradio is not installed (pip install -e '.[dev]' or '.[demo]')")

from videoshift.demo import app  # noqa: E402
from videoshift.demo.recognise import ModelCache, model_choices  # noqa: E402

LIMIT = 10_000_000


@pytest.fixture(scope="module")
def handler(trained_checkpoint, tmp_path_factory) -> app.DemoHandler:
    models = ModelCache(model_choices([trained_checkpoint]))
    return app.DemoHandler(models, LIMIT, tmp_path_factory.mktemp("gifs"))


def test_a_video_gives_top5_an_animated_cam_frames_and_cost(handler):
    label = next(iter(handler.models.choices))
    status, top5, gif, strip, cost = handler(str(VIDEOS / "demo.mp4"), label)
    assert status.startswith("Top class: **arm wrestling** (")
    assert next(iter(top5)) == "arm wrestling" and len(top5) == 5 and sum(top5.values()) == pytest.approx(1, abs=1e-5)
    with Image.open(gif) as image:  # frame | heat map, 64x64 enlarged 4x to the page's 224 rows or more
        assert image.format == "GIF" and image.n_frames == 4 and image.size == (4 * (2 * 64 + 4), 4 * 64)
    assert strip.shape == (4 * 64, 4 * (4 * 64 + 3 * 4), 3) and strip.dtype == np.uint8  # 4 frames in a row, x4
    assert "GMACs per clip (4 frames of 64×64)" in cost and "this call took" in cost


def test_failures_become_the_status_message(handler, monkeypatch):
    label = next(iter(handler.models.choices))
    assert handler(None, label) == (app.PROMPT, None, None, None, "")
    status, *rest = handler(str(MEDIA / "videos_derived" / "demo_corrupt_mdat.mp4"), label)
    assert status.startswith('<p class="error">demo_corrupt_mdat.mp4 could not be decoded')
    assert rest == [None, None, None, ""]  # the previous answer is cleared

    def broken(*_args):
        raise RuntimeError("out of <memory>")

    monkeypatch.setattr(app, "recognise", broken)
    status, *_ = handler(str(VIDEOS / "demo.mp4"), label)
    assert status == f'<p class="error">{label}: RuntimeError: out of &lt;memory&gt;</p>'


def test_offline_settings():
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert app.theme()._stylesheets == []  # no font stylesheets to fetch
    assert gr.themes.Default(font=[gr.themes.GoogleFont("Inter")])._stylesheets  # what a web font would add
