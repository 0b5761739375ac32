"""Frame samplers: which frames of a video make a clip (apart from how they are decoded).

A sampler maps a video's frame count to an int64 index array of shape ``(views * frames_per_view,)``, view-major,
following MMAction2's ``SampleFrames`` conventions so that lists, configs and results carry over:

* :class:`TSNSampler` (``type: tsn``): ``num_frames`` equal segments, one frame each; random inside each segment
  for training (``SampleFrames`` train rule), the segment centre for test (truncated to int). ``twice_sample``
  adds the segment starts as a second view; ``num_clips > 1`` test views sit at ``(k + 0.5) / num_clips`` of each
  segment (one view: the centre). ``segment_frames: 5`` (TDN) widens each sampled frame into the 5 consecutive
  frames centred on it (centre ±2, clamped to the video), segment by segment.
* :class:`UniformSampler` (``type: uniform``): TPS / SlowFast Something-Something rule, one frame per segment of
  ``(total - 1) / num_frames`` with rounded bounds; random in segment for training, segment middle for test.
* :class:`DenseSampler` (``type: dense``): ``clip_len`` frames ``frame_interval`` apart (e.g. 32×2); training takes
  random starts, test spreads ``num_clips`` starts evenly over ``[0, total - clip_len * frame_interval]``.

Videos shorter than a clip: indices past the end wrap around (``out_of_bound: loop``, MMAction2's default) or
repeat the view's last valid frame (``repeat_last``); the uniform rule repeats frames by construction.
``start_index`` is added last (1 for raw-frame folders starting at ``img_00001.jpg``, 0 for videos).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

OUT_OF_BOUND = ("loop", "repeat_last")


def _fit(frames: np.ndarray, total_frames: int, out_of_bound: str) -> np.ndarray:
    """Map ``(views, frames)`` indices into ``[0, total_frames)``."""
    if out_of_bound == "loop":
        return np.mod(frames, total_frames)
    valid = frames < total_frames
    last = np.where(valid, frames, -1).max(axis=1, keepdims=True).clip(min=0)
    return np.where(valid, frames, last)


@dataclass(frozen=True)
class FrameSampler:
    """Base: validates settings, handles out-of-bound indices and the start index.

    Subclasses implement :meth:`views`, returning ``(num_views, frames_per_view)`` raw indices.
    """

    test_mode: bool = False
    out_of_bound: str = "loop"

    def __post_init__(self) -> None:
        if self.out_of_bound not in OUT_OF_BOUND:
            raise ValueError(f"out_of_bound must be one of {OUT_OF_BOUND}, got {self.out_of_bound!r}")
        for name in ("num_frames", "clip_len", "frame_interval", "num_clips"):
            value = getattr(self, name, 1)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")

    @property
    def num_views(self) -> int:
        """Views (clips) one call returns."""
        return 1

    @property
    def frames_per_view(self) -> int:
        """Frames in one view: the clip length T a model sees."""
        raise NotImplementedError

    def views(self, total_frames: int, rng: np.random.Generator) -> np.ndarray:
        """``(num_views, frames_per_view)`` indices, possibly past the end (handled by ``out_of_bound``)."""
        raise NotImplementedError

    def __call__(
        self, total_frames: int, *, start_index: int = 0, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Indices ``(num_views * frames_per_view,)`` int64 for a video of ``total_frames`` frames."""
        if int(total_frames) < 1:
            raise ValueError(f"total_frames must be >= 1, got {total_frames}")
        rng = np.random.default_rng() if rng is None else rng
        frames = _fit(
            np.asarray(self.views(int(total_frames), rng), dtype=np.int64), int(total_frames), self.out_of_bound
        )
        return frames.reshape(-1) + int(start_index)


@dataclass(frozen=True)
class TSNSampler(FrameSampler):
    """TSN/TSM segment sampling: ``num_frames`` segments, ``clip_len`` consecutive frames from each."""

    num_frames: int = 8
    clip_len: int = 1
    frame_interval: int = 1
    num_clips: int = 1
    twice_sample: bool = False
    segment_frames: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if (
            not isinstance(self.segment_frames, int | np.integer)
            or self.segment_frames < 1
            or self.segment_frames % 2 == 0
        ):
            raise ValueError(f"segment_frames must be an odd int >= 1, got {self.segment_frames!r}")
        if self.segment_frames > 1 and self.clip_len != 1:
            raise ValueError(f"segment_frames={self.segment_frames} widens one frame per segment; clip_len must be 1")

    @property
    def frames_per_view(self) -> int:
        return self.num_frames * self.clip_len * self.segment_frames

    @property
    def num_views(self) -> int:
        return (self.num_clips + self.twice_sample) if self.test_mode else 1

    def _starts(self, total_frames: int, rng: np.random.Generator) -> np.ndarray:
        """``(views, segments)`` start frames."""
        n = self.num_frames
        if self.test_mode:
            segment = total_frames / n
            base = np.arange(n) * segment
            positions = [base + segment * (k + 0.5) / self.num_clips for k in range(self.num_clips)]
            return np.stack(positions + [base] * self.twice_sample).astype(np.int64)
        span = self.clip_len * self.frame_interval
        segment = (total_frames - span + 1) // n
        if segment > 0:
            starts = np.arange(n) * segment + rng.integers(segment, size=n)
        elif total_frames > max(n, span):
            starts = np.sort(rng.integers(total_frames - span + 1, size=n))
        elif segment == 0:
            starts = np.around(np.arange(n) * (total_frames - span + 1.0) / n)
        else:
            starts = np.zeros(n)
        return starts.astype(np.int64)[None, :]

    def views(self, total_frames: int, rng: np.random.Generator) -> np.ndarray:
        starts = self._starts(total_frames, rng)  # (V, S)
        if self.segment_frames > 1:  # the segment's frame as centre of segment_frames consecutive ones, clamped
            half = self.segment_frames // 2
            return np.clip(starts[:, :, None] + np.arange(-half, half + 1), 0, total_frames - 1).reshape(
                len(starts), -1
            )
        steps = np.arange(self.clip_len) * self.frame_interval  # (L,)
        return (starts[:, :, None] + steps).reshape(starts.shape[0], -1)  # (V, S * L)


@dataclass(frozen=True)
class UniformSampler(FrameSampler):
    """One frame from each of ``num_frames`` segments of ``(total - 1) / num_frames`` (TPS, SlowFast SSv2)."""

    num_frames: int = 8

    @property
    def frames_per_view(self) -> int:
        return self.num_frames

    def views(self, total_frames: int, rng: np.random.Generator) -> np.ndarray:
        bounds = np.round((total_frames - 1) / self.num_frames * np.arange(self.num_frames + 1)).astype(np.int64)
        start, end = bounds[:-1], bounds[1:]
        if self.test_mode:
            return ((start + end) // 2)[None, :]
        return (start + rng.integers(0, end - start + 1))[None, :]


@dataclass(frozen=True)
class DenseSampler(FrameSampler):
    """``num_clips`` clips of ``clip_len`` frames, ``frame_interval`` apart (3D models)."""

    clip_len: int = 32
    frame_interval: int = 2
    num_clips: int = 1

    @property
    def frames_per_view(self) -> int:
        return self.clip_len

    @property
    def num_views(self) -> int:
        return self.num_clips

    def views(self, total_frames: int, rng: np.random.Generator) -> np.ndarray:
        max_offset = max(total_frames - self.clip_len * self.frame_interval, 0)
        if not self.test_mode:
            starts = np.sort(rng.integers(max_offset + 1, size=self.num_clips))
        elif self.num_clips == 1:
            starts = np.array([max_offset // 2])
        else:
            starts = np.round(np.arange(self.num_clips) * (max_offset / (self.num_clips - 1)))
        return starts.astype(np.int64)[:, None] + np.arange(self.clip_len) * self.frame_interval


SAMPLERS: dict[str, type[FrameSampler]] = {"tsn": TSNSampler, "uniform": UniformSampler, "dense": DenseSampler}
DEFAULT_SAMPLER = "tsn"  # the type of a sampling section that names none


def build_sampler(cfg: Mapping[str, Any], *, test_mode: bool) -> FrameSampler:
    """A sampler from a ``sampling`` / ``test_sampling`` config section.

    ``type`` picks the class; the other keys are its fields (``num_frames``, ``clip_len``, ``frame_interval``,
    ``num_clips``, ``twice_sample``, ``out_of_bound``). For ``dense``, ``num_frames`` is accepted as ``clip_len``.
    """
    cfg = dict(cfg)
    kind = cfg.pop("type", DEFAULT_SAMPLER)
    if kind not in SAMPLERS:
        raise ValueError(f"sampling type must be one of {sorted(SAMPLERS)}, got {kind!r}")
    if kind == "dense" and "num_frames" in cfg:
        cfg.setdefault("clip_len", cfg.pop("num_frames"))
    if kind == "uniform" and cfg.get("num_clips", 1) == 1:
        cfg.pop("num_clips", None)
    cls = SAMPLERS[kind]
    unknown = sorted(set(cfg) - set(cls.__dataclass_fields__) - {"test_mode"})
    if unknown:
        raise ValueError(f"unknown keys for sampling type {kind!r}: {unknown}")
    return cls(**cfg, test_mode=test_mode)
