"""Online recognition: a causal model's running top-k while a video file or a camera plays, frame by frame.

Frames get the recipe's test-time resize, centre crop and normalisation, one at a time, through the model's
streaming step (:class:`~videoshift.deploy.stream.Stream`), which keeps each shift's cached channels as state.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videoshift.inference.predict import top_classes
from videoshift.inference.sources import LoadedModel


@dataclass
class StreamUpdate:
    """The running top-k after frame ``number`` (at ``seconds`` into the video, ``None`` where unknown)."""

    number: int
    seconds: float | None
    top: list[tuple[str, float]]


def camera_or_file(source: str) -> tuple[str, dict[str, Any]]:
    """``av.open`` arguments of a video file, a camera device (``/dev/video0``) or a camera number (``0``)."""
    if source.isdigit():
        source = f"/dev/video{source}"
    if source.startswith("/dev/video"):
        if not Path(source).exists():
            raise ValueError(f"no camera device {source} on this machine")
        return source, {"format": "v4l2"}
    if not Path(source).exists():
        raise ValueError(f"no such video: {source}")
    return source, {}


def decoded_frames(source: str) -> Iterator[tuple[Any, float | None]]:
    """``(RGB frame (H, W, 3) uint8, seconds)`` of a video file or camera, as they are decoded."""
    import av

    from videoshift.data.readers import to_rgb

    path, options = camera_or_file(source)
    with av.open(path, **options) as container:
        for frame in container.decode(video=0):
            yield to_rgb(frame), (float(frame.time) if frame.time is not None else None)


def stream_predictions(
    source: str, loaded: LoadedModel, top_k: int = 5, window: int = 8, every: int = 1
) -> Iterator[StreamUpdate]:
    """The running top-k while ``source`` plays: the mean of the last ``window`` frame scores, every ``every``
    frames. The model must stream (a causal shift CNN, or TSN); others are refused with the reason."""
    from videoshift.data.transforms import ClipTransform, TransformConfig
    from videoshift.deploy.stream import Stream

    config = TransformConfig.from_mapping({**loaded.recipe.transform, "test_crops": 1})
    transform = ClipTransform(config, train=False)
    stream = Stream(loaded.model, config.input_size)  # raises ValueError with the reason for models that cannot
    state = stream.init_state(1)
    scores: collections.deque[torch.Tensor] = collections.deque(maxlen=window)
    label = torch.tensor(0)
    with torch.no_grad():
        for number, (frame, seconds) in enumerate(decoded_frames(source)):
            clip, _ = transform(torch.from_numpy(frame)[None], label)  # (1 view, C, 1, H, W)
            logits, state = stream.step(clip, state)
            scores.append(logits[0, -1].softmax(-1))
            if number % every == 0:
                mean = torch.stack(list(scores)).mean(0)
                yield StreamUpdate(number, seconds, top_classes(mean, loaded.recipe.class_names, top_k))
