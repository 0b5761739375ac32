"""Check an annotation list: open every entry and try to decode it, reporting broken entries by line number."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videoshift.data.annotations import read_list
from videoshift.data.readers import RawFrameReader, VideoReader, get_reader
from videoshift.data.samplers import TSNSampler


@dataclass(frozen=True)
class Problem:
    """A list entry that could not be read."""

    line: int
    path: str
    error: str


def check_list(
    list_path: str | Path,
    root: str | Path | None = None,
    *,
    rawframes: bool = False,
    with_offset: bool = False,
    filename_tmpl: str = "img_{:05d}.jpg",
    start_index: int = 1,
    backend: str = "pyav",
    num_frames: int = 8,
    full: bool = False,
) -> Iterator[tuple[int, Problem | None]]:
    """Yield ``(line, problem or None)`` per entry.

    Each entry is opened and its frames counted, then the first and last frame and the centres of ``num_frames``
    segments are decoded (``full``: every frame, which also finds damage between those frames).
    """
    root = Path(root) if root is not None else Path(list_path).parent
    samples = read_list(list_path, rawframes=rawframes, with_offset=with_offset)
    reader: VideoReader = RawFrameReader(filename_tmpl, start_index) if rawframes else get_reader(backend)
    base = start_index if rawframes else 0
    for sample in samples:
        path = root / sample.path
        try:
            total = sample.total_frames if rawframes else reader.count_frames(path)
            if full:
                indices = np.arange(total)
            else:
                centres = TSNSampler(num_frames=num_frames, test_mode=True)(total)
                indices = np.unique(np.concatenate([[0, total - 1], centres]))
            reader.read(path, indices + base + sample.offset)
            yield sample.line, None
        except ValueError as error:  # VideoReadError, or an entry that cannot be sampled (0 frames)
            yield sample.line, Problem(sample.line, sample.path, str(error))
