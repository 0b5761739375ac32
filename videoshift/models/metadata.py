"""Paper settings kept apart from architecture, so tests and benchmarks can hold models to the tables.

Each registered model may carry a :class:`PaperSetting` describing how the papers run it
(frames, sampling, test views) and what they report (parameters, multiply-adds, top-1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PaperSetting:
    """How a paper runs a model and what it reports; ``None`` where a paper gives no number.

    ``gmacs`` are giga multiply-adds, which is what both papers call "FLOPs".
    """

    num_frames: int
    input_size: int = 224
    sampling: str = "tsn"  # "tsn" (segment-based) or "dense" (clip_len x interval)
    frame_interval: int = 1
    test_views: tuple[int, int] = (1, 1)  # (clips, crops)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    params_m: float | None = None
    gmacs: float | None = None
    top1: dict[str, float] = field(default_factory=dict)  # dataset -> reported top-1
    source: str = ""  # table of the paper the numbers come from


_SETTINGS: dict[str, PaperSetting] = {}


def register_setting(model_name: str, setting: PaperSetting) -> None:
    """Attach the paper setting of ``model_name``; raises if one is attached already."""
    if model_name in _SETTINGS:
        raise ValueError(f"paper setting for {model_name!r} is already registered")
    _SETTINGS[model_name] = setting


def paper_setting(model_name: str) -> PaperSetting | None:
    """The paper setting of a registered model, or ``None`` if the papers do not run it."""
    return _SETTINGS.get(model_name)
