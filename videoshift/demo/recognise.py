"""What the demo page does, without the page: the models one can choose, the checks an upload must pass, and one
recognition (top-5, Grad-CAM of the top class, the sampled frames, GMACs and the latency of the call).

The work is the library's: :func:`~videoshift.inference.load_model` loads every kind of model source with its
recipe, :func:`~videoshift.viz.cam_video.explain_video` reads the clip that recipe takes (one view, one centre
crop) and explains it, :func:`~videoshift.models.complexity.count_macs` counts the cost.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videoshift.inference import LoadedModel, load_model

MEGABYTE = 1_000_000


class UploadError(ValueError):
    """An upload the demo cannot recognise; the message is for the person who uploaded it."""


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model menu: a training checkpoint (with an optional config), a weights package or file, or
    registered weights."""

    label: str
    checkpoint: Path | None = None
    config: str | None = None
    weights: str | None = None
    on_disk: bool = True  # False for registered weights that choosing it downloads


def model_choices(
    checkpoints: Sequence[str | Path] = (), config: str | None = None, weights: Sequence[str] | None = None
) -> list[ModelChoice]:
    """The menu: each checkpoint (read with ``config`` when given), each weights package or file named, then the
    named registered weights, those in the cache first; the others say that choosing them downloads them.
    ``weights=None`` names none when there are checkpoints and every registered weights when there are none.

    Raises:
        ValueError: a checkpoint that does not exist, an unknown weights tag, or ``config`` without a checkpoint.
    """
    from videoshift.models.hub import cached_path
    from videoshift.models.weights import get_weights, list_weights

    if config is not None and not checkpoints:
        raise ValueError("--config says how to read the weights of --checkpoint; give --checkpoint too")
    choices = []
    for checkpoint in checkpoints:
        path = Path(checkpoint)
        if not path.is_file():
            raise ValueError(f"checkpoint not found: {path}")
        choices.append(ModelChoice(f"checkpoint {path}", checkpoint=path, config=config))
    named = weights if weights is not None else ([] if checkpoints else [spec.tag for spec in list_weights()])
    registered = []
    for name in named:
        if Path(name).exists():  # a weights package folder or file
            choices.append(ModelChoice(f"weights {name}", weights=str(name)))
            continue
        spec = get_weights(name)
        here = cached_path(spec).is_file()
        note = "" if here else " (not downloaded yet: fetched when chosen)"
        registered.append(ModelChoice(f"{spec.tag}{note}", weights=spec.tag, on_disk=here))
    choices += sorted(registered, key=lambda choice: not choice.on_disk)  # stable: the cached ones first
    if not choices:
        raise ValueError("no model to offer: give --checkpoint or --weights")
    return choices


def load_choice(choice: ModelChoice, device: str = "cpu") -> LoadedModel:
    """The model of a menu entry, in eval mode, with its recipe (the one loader every command uses)."""
    return load_model(weights=choice.weights, checkpoint=choice.checkpoint, config=choice.config, device=device)


class ModelCache:
    """Loads menu entries on first use and keeps the ``keep`` most recently used ones (models are large).

    Not thread-safe: the page runs one recognition at a time.
    """

    def __init__(self, choices: Sequence[ModelChoice], device: str = "cpu", keep: int = 2) -> None:
        self.choices = {choice.label: choice for choice in choices}
        self.device = device
        self.keep = keep
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()
        self._gmacs: dict[tuple[str, tuple[int, ...]], float] = {}

    def get(self, label: str) -> LoadedModel:
        """The loaded model of the entry ``label``; ``ValueError`` names an unknown one."""
        if label not in self.choices:
            raise ValueError(f"unknown model {label!r}; choose one of: {', '.join(self.choices)}")
        if label not in self._loaded:
            self._loaded[label] = load_choice(self.choices[label], self.device)
            while len(self._loaded) > self.keep:
                self._loaded.popitem(last=False)
        self._loaded.move_to_end(label)
        return self._loaded[label]

    def gmacs(self, label: str, clip_shape: tuple[int, ...]) -> float:
        """Multiply-adds (10⁹) of one forward pass of the entry's model on a clip of ``clip_shape`` (counted once)."""
        from videoshift.models.complexity import count_macs

        key = (label, tuple(clip_shape))
        if key not in self._gmacs:
            model = self.get(label).model
            clip = torch.zeros(1, *clip_shape, device=next(model.parameters()).device)
            with torch.no_grad():
                self._gmacs[key] = count_macs(model, clip) / 1e9
        return self._gmacs[key]


def frames_needed(loaded: LoadedModel) -> int:
    """Frames one view of the model's recipe reads: a video needs at least this many different frames."""
    return loaded.recipe.frames_per_view


def _reason(error: Exception, path: Path) -> str:
    """A reader's message without the upload's temporary path (the page names the file)."""
    return str(error).replace(f"{path}: ", "").replace(str(path), path.name)


def check_upload(video: str | Path | None, loaded: LoadedModel, max_bytes: int) -> Path:
    """The upload's path, once it exists, is within ``max_bytes``, opens as a video and is long enough.

    Raises:
        UploadError: saying which of these failed, for the page.
    """
    from videoshift.data.readers import VideoReadError, get_reader

    if video is None:
        raise UploadError("No video yet: upload a file or record one with the webcam.")
    path = Path(video)
    if not path.is_file():
        raise UploadError(f"The upload of {path.name} did not arrive (cancelled?): please upload it again.")
    size = path.stat().st_size
    if size > max_bytes:
        raise UploadError(
            f"{path.name} is {size / MEGABYTE:.1f} MB, over this demo's limit of {max_bytes / MEGABYTE:g} MB."
        )
    try:
        frames = get_reader(loaded.recipe.backend).count_frames(path)
    except VideoReadError as error:
        raise UploadError(f"{path.name} is not a video this demo can read: {_reason(error, path)}.") from error
    needed = frames_needed(loaded)
    if frames < needed:
        raise UploadError(f"{path.name} has {frames} frames; {loaded.name} needs at least {needed} frames.")
    return path


@dataclass
class Recognition:
    """What the page shows of one clip.

    Attributes:
        top: the five most probable ``(class name, probability)``, best first.
        target: the explained (top-1) class name.
        frames: the sampled frames, ``uint8 (T, H, W, 3)``, de-normalised from what the model read.
        overlay: Grad-CAM of ``target`` over ``frames``, ``uint8 (T, H, W, 3)``.
        gmacs: multiply-adds (10⁹) of one forward pass on this clip.
        latency_ms: the call: decoding and sampling, the forward pass and Grad-CAM's backward pass.
        extent: whether the file is whole and which seconds the clip covers
            (:func:`~videoshift.inference.predict.clip_extent`).
    """

    top: list[tuple[str, float]]
    target: str
    frames: np.ndarray
    overlay: np.ndarray
    gmacs: float
    latency_ms: float
    extent: dict[str, Any]


def recognise(video: str | Path | None, cache: ModelCache, label: str, max_bytes: int) -> Recognition:
    """Check the upload, then the top-5 classes of ``video`` and the Grad-CAM of the top one with model ``label``.

    Raises:
        UploadError: for an upload that cannot be recognised (see :func:`check_upload`) or that fails to decode.
    """
    from videoshift.data.readers import VideoReadError
    from videoshift.inference.predict import clip_extent
    from videoshift.viz.cam_video import explain_video
    from videoshift.viz.figures import overlay

    loaded = cache.get(label)
    path = check_upload(video, loaded, max_bytes)
    start = time.perf_counter()
    try:
        panel = explain_video(path, loaded)
    except VideoReadError as error:
        raise UploadError(
            f"{path.name} could not be decoded (corrupt or cut short?): {_reason(error, path)}."
        ) from error
    latency_ms = (time.perf_counter() - start) * 1e3
    frames = panel.frames
    top = [(panel.class_name(c), p) for c, p in panel.result.top(5)]
    clip_shape = (frames.shape[3], *frames.shape[:3])  # (C, T, H, W)
    return Recognition(
        top=top,
        target=panel.class_name(panel.result.target),
        frames=frames,
        overlay=overlay(frames, panel.result.cam),
        gmacs=cache.gmacs(label, clip_shape),
        latency_ms=latency_ms,
        extent=clip_extent(path, loaded.recipe),
    )
