"""MMAction2-style annotation lists: one sample per line, whitespace separated.

Video lists hold ``path label [label ...]``; raw-frame lists hold ``frame_dir total_frames label [label ...]``,
or ``frame_dir offset total_frames label [label ...]`` when ``with_offset`` is set. Several labels on a line make a
multi-label sample. Paths are relative to a data root that the dataset prepends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """One annotated entry of a list file.

    Attributes:
        path: video file or frame folder, as written in the list (relative to the data root).
        labels: class indices (one for single-label data).
        total_frames: frame count from a raw-frame list; ``None`` for videos (counted when read).
        offset: first frame number of a raw-frame clip inside its folder (``with_offset`` lists), else 0.
        line: 1-based line number in the list file, for error messages.
    """

    path: str
    labels: tuple[int, ...]
    total_frames: int | None = None
    offset: int = 0
    line: int = 0


def _ints(fields: Sequence[str], what: str, where: str) -> list[int]:
    try:
        values = [int(f) for f in fields]
    except ValueError:
        raise ValueError(f"{where}: {what} must be integers, got {' '.join(fields)!r}") from None
    if any(v < 0 for v in values):
        raise ValueError(f"{where}: {what} must be >= 0, got {' '.join(fields)!r}")
    return values


def parse_line(
    text: str, *, rawframes: bool, with_offset: bool = False, source: str = "<string>", line: int = 0
) -> Sample:
    """Parse one non-empty list line; ``source`` and ``line`` name it in the ``ValueError`` for bad lines."""
    where = f"{source}:{line}"
    fields = text.split()
    head = 1 + (2 if with_offset else 1) * rawframes  # fields before the labels
    if len(fields) < head + 1:
        layout = "frame_dir [offset] total_frames label..." if rawframes else "path label..."
        raise ValueError(f"{where}: expected '{layout}', got {text.strip()!r}")
    numbers = _ints(fields[1:head], "offset/total_frames", where) if rawframes else []
    labels = tuple(_ints(fields[head:], "labels", where))
    offset = numbers[0] if with_offset else 0
    total = numbers[-1] if rawframes else None
    return Sample(path=fields[0], labels=labels, total_frames=total, offset=offset, line=line)


def read_list(
    path: str | Path, *, rawframes: bool = False, with_offset: bool = False, num_classes: int | None = None
) -> list[Sample]:
    """Read a list file; blank lines are skipped.

    Raises:
        ValueError: naming the file and line of the first malformed line, or of a label ``>= num_classes``.
    """
    samples = []
    for _, _, entry in parse_lines(path, rawframes=rawframes, with_offset=with_offset, num_classes=num_classes):
        if isinstance(entry, ValueError):
            raise entry
        samples.append(entry)
    return samples


def parse_lines(
    path: str | Path, *, rawframes: bool = False, with_offset: bool = False, num_classes: int | None = None
) -> Iterator[tuple[int, str, Sample | ValueError]]:
    """``(line number, text, entry)`` per non-blank line of a list file: the entry is its :class:`Sample`, or the
    ``ValueError`` naming the file and line that makes it unusable (malformed, or a label ``>= num_classes``), so
    that a checker can report every broken line and a reader stop at the first."""
    path = Path(path)
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
        try:
            sample = parse_line(text, rawframes=rawframes, with_offset=with_offset, source=str(path), line=number)
        except ValueError as error:
            yield number, text, error
            continue
        if num_classes is not None and max(sample.labels) >= num_classes:
            message = f"{path}:{number}: label {max(sample.labels)} out of range for num_classes={num_classes}"
            yield number, text, ValueError(message)
        else:
            yield number, text, sample


def format_line(sample: Sample, *, rawframes: bool = False, with_offset: bool = False) -> str:
    """The list-file line of ``sample`` (inverse of :func:`parse_line`)."""
    fields = [sample.path]
    if rawframes:
        if sample.total_frames is None:
            raise ValueError(f"raw-frame sample {sample.path!r} needs total_frames")
        fields += [str(sample.offset)] * with_offset + [str(sample.total_frames)]
    fields += [str(label) for label in sample.labels]
    return " ".join(fields)


def write_list(
    path: str | Path, samples: Iterable[Sample], *, rawframes: bool = False, with_offset: bool = False
) -> Path:
    """Write ``samples`` as a list file (parent folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [format_line(s, rawframes=rawframes, with_offset=with_offset) for s in samples]
    path.write_text("".join(line + "\n" for line in lines))
    return path
