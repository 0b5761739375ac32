"""Check videos before they are used: open every entry, count and decode frames, report the broken ones by line.

:func:`check_samples` checks list entries wherever they come from (``videoshift finetune`` screens a class-folder
tree with it); :func:`check_list` checks an annotation list file (``videoshift data check``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


def check_samples(
    samples: Iterable[Sample],
    root: str | Path,
    reader: VideoReader,
    *,
    base: int = 0,
    num_frames: int = 8,
    min_frames: int = 1,
    full: bool = False,
) -> Iterator[tuple[Sample, Problem | None]]:
    """Yield ``(sample, problem or None)`` per entry.

    Each entry is opened and its frames counted (an entry of fewer than ``min_frames`` frames is a problem), then
    the first and last frame and the centres of ``num_frames`` segments are decoded (``full``: every frame, which
    also finds damage between those frames). ``base`` is the number of the first frame (frame folders).
    """
    root = Path(root)
    for sample in samples:
        path = root / sample.path
        try:
            total = sample.total_frames if sample.total_frames is not None else reader.count_frames(path)
            if 0 < total < min_frames:
                yield sample, Problem(sample.line, sample.path, f"{total} frames, fewer than the {min_frames} needed")
                continue
            if full:
                indices = np.arange(total)
            else:
                centres = TSNSampler(num_frames=num_frames, test_mode=True)(total)
                indices = np.unique(np.concatenate([[0, total - 1], centres]))
            reader.read(path, indices + base + sample.offset)
            yield sample, None
        except ValueError as error:  # VideoReadError, or an entry that cannot be sampled (0 frames)
            yield sample, Problem(sample.line, sample.path, " ".join(str(error).splitlines()))


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
    field); every other entry is checked by :func:`check_samples`.
    """
    root = Path(root) if root is not None else Path(list_path).parent
    reader: VideoReader = RawFrameReader(filename_tmpl, start_index) if rawframes else get_reader(backend)
    entries = parse_lines(list_path, rawframes=rawframes, with_offset=with_offset, num_classes=num_classes)
    base = start_index if rawframes else 0
    for line, text, entry in entries:
        if isinstance(entry, ValueError):  # its message starts with "<list>:<line>: ", which the report prints
            reason = str(entry).removeprefix(f"{Path(list_path)}:{line}: ")
            yield line, Problem(line, text.split()[0], reason)
            continue
        ((_, problem),) = check_samples([entry], root, reader, base=base, num_frames=num_frames, full=full)
        yield line, problem
