"""Grad-CAM of a video file: the clip a loaded model's recipe reads (:mod:`videoshift.inference`), explained, and
written as the PNG strip, the GIF and the MP4."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from videoshift.inference import LoadedModel, Recipe
from videoshift.inference.predict import read_clip
from videoshift.viz.figures import (
    CamPanel,
    cam_strip,
    denormalise,
    enlarge,
    overlay,
    save_figure,
    side_by_side,
    write_gif,
    write_mp4,
)
from videoshift.viz.gradcam import class_index, explain


def clip_frames(clip: torch.Tensor, recipe: Recipe) -> np.ndarray:
    """De-normalised ``uint8 (T, H, W, 3)`` frames of a clip read with ``recipe``'s transform."""
    return denormalise(clip, recipe.transform["mean"], recipe.transform["std"])


def explain_video(
    video: str | Path, loaded: LoadedModel, target: str | int | None = None, title: str | None = None
) -> CamPanel:
    """Grad-CAM of ``target`` (class name or id; default: top-1) on the clip ``loaded.model`` sees of ``video``
    (its recipe's first view, :func:`~videoshift.inference.predict.read_clip`)."""
    clip = read_clip(video, loaded.recipe)
    result = explain(loaded.model, clip.to(loaded.device), class_index(target, loaded.class_names, loaded.num_classes))
    result.cam, result.raw, result.probs = result.cam.cpu(), result.raw.cpu(), result.probs.cpu()
    return CamPanel(title or loaded.name, clip_frames(clip, loaded.recipe), result, loaded.class_names)


def write_cam_outputs(
    panels: Sequence[CamPanel],
    out_dir: str | Path,
    stem: str,
    fps: int = 4,
    alpha: float = 0.5,
    min_height: int = 192,
) -> dict[str, Path]:
    """``STEM_cam.png`` (the strip), ``STEM_cam.gif`` and ``STEM_cam.mp4`` (frames | overlay of each panel).

    The GIF and MP4 are enlarged by a whole factor (nearest pixel) to at least ``min_height`` pixels.
    """
    out = Path(out_dir)
    files = {"png": save_figure(cam_strip(panels, alpha=alpha), out / f"{stem}_cam.png")}
    video = enlarge(
        side_by_side([panels[0].frames] + [overlay(p.frames, p.result.cam, alpha) for p in panels]), min_height
    )
    files["gif"] = write_gif(video, out / f"{stem}_cam.gif", fps)
    files["mp4"] = write_mp4(video, out / f"{stem}_cam.mp4", fps)
    return files
