"""How much of a video its file holds, and which part of it a clip covers.

A file cut short (a partial download, a copy that stopped) whose index sits at the front still opens: its header
promises every frame, but only the frames whose data arrived can be read, and a sampler spreads its clip over those
alone. Such a file is *incomplete* when the frames present fall short of the header's count by more than
``TOLERANCE_FRAMES`` frames or ``TOLERANCE_FRACTION`` of the count, whichever is larger: headers of whole files
may count a frame or two that FFmpeg discards (edit lists) or that packed B-frames hide, and those are no reason to
doubt an answer. A header that states no frame count (WebM, MPEG-TS, frame folders) makes no promise to check.

:class:`Extent` is what a reader knows without decoding (frames promised and present, each frame's time);
:meth:`Extent.row` packs it with the span of the sampled frames into a tensor that DataLoaders collate and ranks
gather; :func:`describe` turns a row back into the record commands print.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

TOLERANCE_FRAMES = 2
TOLERANCE_FRACTION = 0.02
ROW_FIELDS = ("frames_promised", "frames_decodable", "duration_s", "clip_start_s", "clip_end_s")


def is_complete(promised: int | None, present: int) -> bool:
    """Whether ``present`` frames are all of the ``promised`` ones, within the tolerance (``None``: no promise)."""
    if promised is None:
        return True
    return promised - present <= max(TOLERANCE_FRAMES, TOLERANCE_FRACTION * promised)


@dataclass(frozen=True)
class Extent:
    """What a reader knows of a video's completeness without decoding it.

    Attributes:
        promised: frames the container header announces (``None`` when it announces none).
        decodable: frames whose data the file holds (the frames a sampler chooses from).
        duration: seconds the header announces (``None`` when unknown).
        seconds: time of each present frame from the first one, ``(decodable,)`` (``None`` when unknown).
    """

    promised: int | None
    decodable: int
    duration: float | None = None
    seconds: np.ndarray | None = None

    @property
    def complete(self) -> bool:
        return is_complete(self.promised, self.decodable)

    def row(self, indices: Sequence[int] | np.ndarray) -> torch.Tensor:
        """``(5,)`` float64 of :data:`ROW_FIELDS` for a clip of frames ``indices`` (NaN where unknown)."""
        unknown = math.nan
        start = end = unknown
        if self.seconds is not None and len(indices):
            chosen = np.clip(np.asarray(indices, dtype=np.int64), 0, len(self.seconds) - 1)
            start, end = float(self.seconds[chosen.min()]), float(self.seconds[chosen.max()])
        promised = unknown if self.promised is None else float(self.promised)
        duration = unknown if self.duration is None else self.duration
        return torch.tensor([promised, float(self.decodable), duration, start, end], dtype=torch.float64)


def describe(row: torch.Tensor | Sequence[float]) -> dict[str, Any]:
    """The record of an :meth:`Extent.row`: ``complete``, frames promised and decodable, the header's duration and
    the times of the first and last sampled frames in seconds (``None`` where unknown)."""
    values = [None if math.isnan(v) else v for v in torch.as_tensor(row, dtype=torch.float64).tolist()]
    promised, decodable, duration, start, end = values
    return {
        "complete": is_complete(None if promised is None else int(promised), int(decodable)),
        "frames_promised": None if promised is None else int(promised),
        "frames_decodable": int(decodable),
        "duration_s": None if duration is None else round(duration, 3),
        "clip_start_s": None if start is None else round(start, 3),
        "clip_end_s": None if end is None else round(end, 3),
    }


def summary_line(record: dict[str, Any]) -> str:
    """One line saying which part of the video the clip covers and, for an incomplete file, how much is missing."""
    span = ""
    if record.get("clip_start_s") is not None:
        span = f"the clip covers {record['clip_start_s']:.2f}-{record['clip_end_s']:.2f} s"
        if record.get("duration_s") is not None:
            span += f" of {record['duration_s']:.2f} s"
    if record["complete"]:
        return span
    short = (
        f"INCOMPLETE: the header promises {record['frames_promised']} frames, "
        f"the file holds {record['frames_decodable']}"
    )
    return f"{short}; {span}" if span else short
