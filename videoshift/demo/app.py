"""The demo page (Gradio Blocks): a video in (upload or webcam), a model menu; the top-5 classes, the animated
Grad-CAM of the top class, the sampled frames and the cost out. Every failure becomes a message on the page.

Offline by construction: Gradio's analytics are switched off before Gradio is imported, the theme names only fonts
installed on the viewer's machine (no web fonts, not even Gradio's own), and neither a share link nor the run
history (which offers saving runs online) is enabled. The browser test checks that the page requests nothing from
another host.
"""

from __future__ import annotations

import atexit
import html
import logging
import os
import shutil
import tempfile
from itertools import count
from pathlib import Path
from typing import Any

from videoshift.data.completeness import summary_line
from videoshift.demo.recognise import MEGABYTE, ModelCache, Recognition, UploadError, recognise

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before the import: Gradio reads it at import time
import gradio as gr

log = logging.getLogger(__name__)

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
MIN_HEIGHT = 224  # pixels of the Grad-CAM animation and the frames; small clips are enlarged, never blurred
CSS = """
#status { min-height: 2.5em; }
#status .error { color: var(--error-text-color); font-weight: 600; }
#frames img, #cam img { image-rendering: pixelated; }
"""
PROMPT = "Upload a video or record one with the webcam."
INTRO = (
    "# videoshift demo\n"
    "Upload a video or record one with the webcam, and choose a model. The model reads one clip with its own "
    "test sampling (one centre crop); you get its five most probable classes, where it looked for the top one "
    "(Grad-CAM over time) and the frames it sampled. The page loads nothing from the internet."
)


def theme() -> gr.themes.Base:
    """Gradio's default look with the viewer's own fonts (no web fonts)."""
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)


class DemoHandler:
    """Turns a (video, model) pair into the page's outputs; failures become the status message, never a crash."""

    def __init__(self, models: ModelCache, max_bytes: int, out_dir: str | Path) -> None:
        self.models = models  # not `self.cache`: Gradio takes a callable with a `cache` attribute for a cached one
        self.max_bytes = max_bytes
        self.out_dir = Path(out_dir)
        self._ids = count()

    def __call__(self, video: str | None, label: str) -> tuple[Any, ...]:
        if video is None:  # nothing uploaded yet, or the upload was cleared or cancelled
            return PROMPT, None, None, None, ""
        try:
            return self._show(recognise(video, self.models, label, self.max_bytes))
        except UploadError as error:
            return self._message(str(error))
        except Exception as error:  # a page must answer every upload; the terminal keeps the traceback
            log.exception("recognising %s with %s failed", video, label)
            return self._message(f"{label}: {type(error).__name__}: {error}")  # loading the model, or running it

    def _message(self, text: str) -> tuple[Any, ...]:
        return f'<p class="error">{html.escape(text)}</p>', None, None, None, ""

    def _show(self, result: Recognition) -> tuple[Any, ...]:
        from videoshift.viz.figures import enlarge, side_by_side, write_gif

        name, probability = result.top[0]
        animation = enlarge(side_by_side([result.frames, result.overlay]), MIN_HEIGHT)  # frame | its heat map
        gif = write_gif(animation, self.out_dir / f"cam_{next(self._ids)}.gif", fps=4)
        strip = enlarge(side_by_side([frame[None] for frame in result.frames]), MIN_HEIGHT)[0]  # frames in a row
        cost = (
            f"**Cost**: {result.gmacs:.3g} GMACs per clip "
            f"({result.frames.shape[0]} frames of {result.frames.shape[2]}×{result.frames.shape[1]}); "
            f"this call took {result.latency_ms:.0f} ms (decoding, forward pass, Grad-CAM)."
        )
        status = f"Top class: **{name}** ({probability:.1%})"
        coverage = summary_line(result.extent)  # which seconds the clip covers; a warning for a file cut short
        if coverage:
            status += f"\n\n{coverage}" if result.extent["complete"] else f"\n\n**{coverage}**"
        return (
            status,
            dict(result.top),
            str(gif),
            strip,
            cost,
        )


def build_app(models: ModelCache, max_bytes: int, out_dir: str | Path | None = None) -> gr.Blocks:
    """The demo page for the models of ``models``; uploads over ``max_bytes`` are refused with a message.

    The Grad-CAM animations go to ``out_dir`` (default: a temporary folder removed when the process ends).
    """
    labels = list(models.choices)
    if out_dir is None:
        out_dir = tempfile.mkdtemp(prefix="videoshift-demo-")
        atexit.register(shutil.rmtree, out_dir, ignore_errors=True)
    handler = DemoHandler(models, max_bytes, out_dir)
    with gr.Blocks(title="videoshift demo", analytics_enabled=False) as app:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                video = gr.Video(
                    label=f"Video (at most {max_bytes / MEGABYTE:g} MB)",
                    sources=["upload", "webcam"],
                    include_audio=True,  # keeps Gradio from re-encoding the upload with ffmpeg
                    elem_id="video",
                )
                model = gr.Dropdown(labels, value=labels[0], label="Model", elem_id="model")
                status = gr.Markdown(PROMPT, elem_id="status")
            with gr.Column(scale=1):
                top5 = gr.Label(num_top_classes=5, label="Top-5 classes", elem_id="top5")
                cam = gr.Image(
                    label="Grad-CAM of the top class: frame | heat map",
                    type="filepath",
                    elem_id="cam",
                    height=MIN_HEIGHT,
                )
                cost = gr.Markdown(elem_id="cost")
        frames = gr.Image(
            label="The frames the model sampled, in order", format="png", elem_id="frames", height=MIN_HEIGHT
        )
        outputs = [status, top5, cam, frames, cost]
        # one queue of one worker for both events: one recognition at a time, so the model cache needs no lock
        for event in (video.change, model.change):
            event(handler, inputs=[video, model], outputs=outputs, concurrency_id="recognise", show_progress="full")
    return app


def launch(app: gr.Blocks, host: str, port: int, max_bytes: int) -> None:
    """Serve the page at ``http://host:port`` until interrupted (no public share link)."""
    app.launch(
        server_name=host,
        server_port=port,
        max_file_size=max_bytes,
        share=False,
        inbrowser=False,
        theme=theme(),
        css=CSS,
        footer_links=[],
        run_history=False,  # its page offers saving runs to a Hugging Face bucket
    )
