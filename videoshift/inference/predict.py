"""Reading videos the way a loaded model's recipe says, and its top-k classes for each.

:func:`read_clip` gives the one clip (first view) a model sees of a video, for Grad-CAM and the demo, and
:func:`clip_extent` which part of the video it covers;
:func:`predict_videos` batches whole files through every view of the recipe, as ``videoshift predict`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from videoshift.data.completeness import describe
from videoshift.inference.recipe import Recipe
from videoshift.inference.sources import LoadedModel


def video_dataset(videos: Sequence[str | Path], recipe: Recipe) -> Dataset:
    """The test-mode dataset of ``videos`` (files given one by one) read with ``recipe``: items hold every view."""
    from videoshift.data import build_dataset
    from videoshift.data.annotations import Sample

    samples = [Sample(str(Path(video).resolve()), (0,)) for video in videos]
    return build_dataset(recipe.data_config(), "test", samples=samples)


def _first_view(video: str | Path, recipe: Recipe) -> Dataset:
    path = Path(video)
    if not path.is_file():
        raise ValueError(f"video not found: {path}")
    return video_dataset([path], recipe.with_views("1x1"))


def read_clip(video: str | Path, recipe: Recipe) -> torch.Tensor:
    """The clip ``(C, T, H, W)`` a model sees of ``video``: its recipe's sampling, first clip, centre crop."""
    clip = _first_view(video, recipe)[0]["clip"]
    return clip.reshape(-1, *clip.shape[-4:])[0]  # (views, C, T, H, W) -> the first view


def clip_extent(video: str | Path, recipe: Recipe) -> dict[str, Any]:
    """Whether ``video`` is whole and which seconds the clip of :func:`read_clip` covers
    (:func:`~videoshift.data.completeness.describe`), from the reader's cached index: nothing is decoded."""
    dataset = _first_view(video, recipe)
    return describe(dataset.extent(0).row(dataset.frames(0)))


@dataclass
class VideoPrediction:
    """The top-k ``(class name, probability)`` of one video, or the one-line reason it could not be read.

    ``clip`` says how the video was read (:meth:`~videoshift.inference.recipe.Recipe.summary`); ``extent`` whether
    the file is whole and which seconds the views cover (:func:`~videoshift.data.completeness.describe`).
    """

    video: str
    top: list[tuple[str, float]] | None
    error: str | None = None
    clip: dict[str, Any] = field(default_factory=dict)
    extent: dict[str, Any] = field(default_factory=dict)


class _Tolerant(Dataset):
    """Items of a dataset, with an unreadable file's error in place of its item."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        try:
            return self.dataset[index]
        except (OSError, ValueError, RuntimeError) as error:  # decoding failures of one file
            return {"error": f"{type(error).__name__}: {error}".splitlines()[0], "index": index}


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    good = [item for item in items if "error" not in item]
    batch = default_collate(good) if good else {}
    batch["errors"] = [(item["index"], item["error"]) for item in items if "error" in item]
    return batch


def top_classes(probs: torch.Tensor, names: Sequence[str] | None, k: int) -> list[tuple[str, float]]:
    """The ``k`` most probable ``(class name, probability)`` of one score row, best first (ids without names)."""
    values, classes = probs.topk(min(k, probs.numel()))
    names = list(names or [])
    return [(names[c] if c < len(names) else str(c), p) for p, c in zip(values.tolist(), classes.tolist(), strict=True)]


def predict_videos(
    videos: Sequence[str | Path],
    loaded: LoadedModel,
    top_k: int = 5,
    *,
    batch_size: int = 4,
    num_workers: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[VideoPrediction]:
    """Top-``k`` classes of each video with every view of the loaded model's recipe.

    A file that cannot be read gets its one-line error instead of a result and the others carry on. A
    multi-label recipe gives each class its own sigmoid probability. ``progress(done, total)`` follows each batch.
    """
    from videoshift.engine.metrics import average_views

    recipe, model = loaded.recipe, loaded.model
    summary = recipe.summary()
    results = [VideoPrediction(str(v), None, "not run") for v in videos]
    loader = DataLoader(
        _Tolerant(video_dataset(videos, recipe)), batch_size=batch_size, num_workers=num_workers, collate_fn=_collate
    )
    done = 0
    with torch.no_grad():
        for batch in loader:
            for index, error in batch["errors"]:
                results[index] = VideoPrediction(str(videos[index]), None, error)
            count = 0
            if "clip" in batch:
                clips = batch["clip"].to(loaded.device)  # (B, V, C, T, H, W)
                count, views = clips.shape[:2]
                logits = model(clips.flatten(0, 1)).reshape(count, views, -1)
                probs = average_views(logits, recipe.average, multi_label=recipe.multi_label)
                for index, row, extent in zip(batch["index"].tolist(), probs.cpu(), batch["extent"], strict=True):
                    top = top_classes(row, recipe.class_names, top_k)
                    results[index] = VideoPrediction(
                        str(videos[index]), top, clip=dict(summary), extent=describe(extent)
                    )
            done += len(batch["errors"]) + count
            if progress is not None:
                progress(done, len(videos))
    return results
