"""Check an annotation list: open every entry and try to decode it, reporting broken entries by line number."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videoshift.data.annotations import Sample, parse_lines
from videoshift.data.readers import RawFrameReader, VideoReader, get_reader
from videoshift.data.samplers import TSNSampler


@dataclass(frozen=True)
class Problem:
    """A list line that cannot be used: malformed, a label out of range, or an entry that cannot be read."""

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
    num_classes: int | None = None,
) -> Iterator[tuple[int, Problem | None]]:
    """Yield ``(line, problem or None)`` per non-blank line, every broken one included.

    A malformed line, or one with a label ``>= num_classes``, is a problem of its own (``path`` is its first
    field). Every other entry is opened and its frames counted, then the first and
    last frame and the centres of ``num_frames`` segments are decoded (``full``: every frame, which also finds
    damage between those frames).
    """
    root = Path(root) if root is not None else Path(list_path).parent
    reader: VideoReader = RawFrameReader(filename_tmpl, start_index) if rawframes else get_reader(backend)
    entries = parse_lines(list_path, rawframes=rawframes, with_offset=with_offset, num_classes=num_classes)
    for line, text, entry in entries:
        if isinstance(entry, ValueError):  # its message starts with "<list>:<line>: ", which the report prints
            reason = str(entry).removeprefix(f"{Path(list_path)}:{line}: ")
            yield line, Problem(line, text.split()[0], reason)
            continue
        yield line, _check_entry(entry, root / entry.path, reader, rawframes, start_index, num_frames, full)


def _check_entry(
    sample: Sample, path: Path, reader: VideoReader, rawframes: bool, start_index: int, num_frames: int, full: bool
) -> Problem | None:
    """Open ``path`` and decode the frames :func:`check_list` says; the problem, or ``None`` when it reads."""
    base = start_index if rawframes else 0
    try:
        total = sample.total_frames if rawframes else reader.count_frames(path)
        if full:
            indices = np.arange(total)
        else:
            centres = TSNSampler(num_frames=num_frames, test_mode=True)(total)
            indices = np.unique(np.concatenate([[0, total - 1], centres]))
        reader.read(path, indices + base + sample.offset)
    except ValueError as error:  # VideoReadError, or an entry that cannot be sampled (0 frames)
        return Problem(sample.line, sample.path, str(error))
    return None
