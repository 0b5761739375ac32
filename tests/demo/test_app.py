"""The page's handler and settings, without a browser: every upload gets an answer, nothing is fetched online."""

from __future__ import annotations

import os

import numpy as np
import pytest
from demo_model import MEDIA, VIDEOS
from media import cut_short
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
    assert "the clip covers" in status and "INCOMPLETE" not in status


def test_a_video_cut_short_gets_a_warning_line(handler, tmp_path):
    label = next(iter(handler.models.choices))
    status, *_ = handler(str(cut_short(VIDEOS / "test.mp4", tmp_path / "cut.mp4")), label)
    assert "\n\n**INCOMPLETE: the header promises 300 frames, the file holds 107; the clip covers 0.43-3.10 s" in status


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
