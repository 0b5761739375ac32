"""Grad-CAM of a video file: load a model (training checkpoint, or config + weights), read the clip it was
trained to see, explain it, and write the PNG strip, the GIF and the MP4."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

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


@dataclass
class LoadedModel:
    """A recognizer in eval mode with what it takes to read its clips and name its classes."""

    model: nn.Module
    data_cfg: dict[str, Any]  # a ``dataset: video`` data section with the model's test-time sampling and transform
    class_names: list[str] | None
    name: str

    @property
    def num_classes(self) -> int:
        return int(self.data_cfg["num_classes"])


def _class_names(data_cfg: Mapping[str, Any]) -> list[str] | None:
    from videoshift.data.label_maps import read_label_map

    path = data_cfg.get("label_map")
    return read_label_map(path) if path and Path(path).is_file() else None


def _sample_like_training(train_data: Mapping[str, Any], data_cfg: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    """Video sampling for a model trained on the in-memory synthetic clips, which are rendered, not sampled.

    Without a sampling section the video reader would take 8 frames at 224 pixels; a synthetic run's model wants
    its ``num_frames`` (TDN: segments of ``segment_frames``) at the rendered size, which is what
    ``videoshift data synth`` writes.
    """
    if train_data.get("dataset") != "synthetic":
        return data_cfg
    out = dict(data_cfg)
    if "sampling" not in out and "test_sampling" not in out:
        segment = int(getattr(model, "segment_frames", 1))
        out["test_sampling"] = {
            "type": "tsn",
            "num_frames": int(model.num_frames) // segment,
            "segment_frames": segment,
        }
    size = int({"size": 64, **train_data.get("synthetic", {})}["size"])
    out["transform"] = {"input_size": size, "short_side": size, **dict(out.get("transform") or {})}
    return out


def load_model(checkpoint: str | Path, config: str | Path | None = None, device: str = "cpu") -> LoadedModel:
    """A trained model: a videoshift training checkpoint alone, or a config (file or built-in name) and weights.

    With a config, the model is the config's ``model`` section with ``data.num_classes`` classes and the test
    sampling's frames, and every weight, classifier included, must come from ``checkpoint``.

    Raises:
        ValueError: a checkpoint that is not a training checkpoint (without a config), weights of another model
            (missing, unexpected or mis-shaped keys), or weights without the classifier.
    """
    from videoshift.engine.runner import load_trained, prediction_data_config

    if config is None:
        model, ckpt = load_trained(checkpoint, device)
        num_classes = int(ckpt["model_args"]["kwargs"]["num_classes"])
        data_cfg = _sample_like_training(
            ckpt["config"]["data"], prediction_data_config(ckpt["config"]["data"], num_classes), model
        )
        names = list(ckpt.get("class_names") or []) or None
        return LoadedModel(model, data_cfg, names, str(ckpt["model_args"]["name"]))

    from videoshift.data.datasets import _classes, eval_sampling
    from videoshift.data.samplers import build_sampler
    from videoshift.engine.config import load_config
    from videoshift.engine.train import build_model, model_arguments
    from videoshift.models import load_checkpoint
    from videoshift.models.checkpoint import CheckpointError

    cfg = load_config(config)
    data = cfg["data"]
    names = _class_names(data)  # the label map's names when its file is here (a config may name one elsewhere)
    num_classes, _ = _classes({**data, "label_map": data.get("label_map") if names is not None else None})
    frames = build_sampler(eval_sampling(data), test_mode=True).frames_per_view
    cfg = copy.deepcopy(cfg)
    cfg["model"]["pretrained"] = False
    model = build_model(model_arguments(cfg, num_classes, frames))
    try:
        report = load_checkpoint(model, checkpoint)
    except CheckpointError as error:  # its message lists every key; one screen line says enough here
        text = str(error)
        short = text if len(text) <= 240 else text[:240] + " …"
        raise ValueError(f"{checkpoint} is not a {cfg['model']['name']} of config {config}: {short}") from error
    if report.skipped_head:
        raise ValueError(
            f"{checkpoint} has no classifier for this config's {num_classes} classes "
            f"({', '.join(report.skipped_head)}); Grad-CAM needs the trained classifier"
        )
    return LoadedModel(model.to(device).eval(), prediction_data_config(data, num_classes), names, cfg["model"]["name"])


def read_clip(video: str | Path, data_cfg: Mapping[str, Any]) -> torch.Tensor:
    """The clip ``(C, T, H, W)`` a model sees of ``video``: its test sampling, one clip, one centre crop."""
    from videoshift.data import build_dataset
    from videoshift.data.annotations import Sample
    from videoshift.engine.runner import with_views

    path = Path(video)
    if not path.is_file():
        raise ValueError(f"video not found: {path}")
    cfg = {**with_views(data_cfg, "1x1"), "label_map": None}
    clip = build_dataset(cfg, "test", samples=[Sample(str(path.resolve()), (0,))])[0]["clip"]
    return clip.reshape(-1, *clip.shape[-4:])[0]  # (views, C, T, H, W) -> the first view


def clip_frames(clip: torch.Tensor, data_cfg: Mapping[str, Any]) -> np.ndarray:
    """De-normalised ``uint8 (T, H, W, 3)`` frames of a clip read with ``data_cfg``'s transform."""
    from videoshift.data.settings import TransformConfig

    transform = TransformConfig.from_mapping(data_cfg.get("transform"))
    return denormalise(clip, transform.mean, transform.std)


def explain_video(
    video: str | Path, loaded: LoadedModel, target: str | int | None = None, title: str | None = None
) -> CamPanel:
    """Grad-CAM of ``target`` (class name or id; default: top-1) on the clip ``loaded.model`` sees of ``video``."""
    clip = read_clip(video, loaded.data_cfg)
    device = next(loaded.model.parameters()).device
    result = explain(loaded.model, clip.to(device), class_index(target, loaded.class_names, loaded.num_classes))
    result.cam, result.raw, result.probs = result.cam.cpu(), result.raw.cpu(), result.probs.cpu()
    return CamPanel(title or loaded.name, clip_frames(clip, loaded.data_cfg), result, loaded.class_names)


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
