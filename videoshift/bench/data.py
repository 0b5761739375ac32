"""``videoshift bench data``: clips/s of video reading, seek-aware vs decoding every frame.

Readers compared on each video, for TSN 8-segment sampling and dense 32×2 clips (training-mode random indices,
fresh per call):

* ``seek``: :class:`~videoshift.data.readers.PyAVReader` (keyframe seeks, non-reference frames skipped, only
  wanted frames converted to RGB);
* ``sequential``: the same reader without seeking (decodes from the first frame, converts only wanted frames);
* ``full``: the naive loader, every frame decoded and converted to RGB, then indexed.

Single-process rows time one clip at a time, the methods taking turns on the same random clips (so that other
load on the machine affects them alike); ``loader`` rows run a ``DataLoader`` with ``--workers`` processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from videoshift.bench.common import time_in_turns
from videoshift.data.readers import PyAVReader, count_frames
from videoshift.data.samplers import DenseSampler, FrameSampler, TSNSampler

SAMPLINGS: dict[str, FrameSampler] = {
    "tsn8": TSNSampler(num_frames=8),
    "dense32x2": DenseSampler(clip_len=32, frame_interval=2),
}


def read_full(path: str | Path, indices: np.ndarray) -> torch.Tensor:
    """Decode every frame to RGB, then index: what a loader without seeking does."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(stream)])
    return torch.from_numpy(frames[indices])


Reader = Callable[[str | Path, np.ndarray], torch.Tensor]


def _readers() -> dict[str, Reader]:
    return {"seek": PyAVReader().read, "sequential": PyAVReader(seek=False).read, "full": read_full}


class _ClipSource(Dataset):
    """``length`` random clips of one video, read by one method (a DataLoader workload)."""

    def __init__(self, path: Path, sampler: FrameSampler, method: str, length: int) -> None:
        self.path, self.sampler, self.method, self.length = path, sampler, method, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng(int(torch.randint(2**62, ())))
        return _readers()[self.method](self.path, self.sampler(count_frames(self.path), rng=rng))


def _loader_clips_per_s(path: Path, sampler: FrameSampler, method: str, workers: int, clips: int) -> float:
    loader = DataLoader(_ClipSource(path, sampler, method, clips), batch_size=1, num_workers=workers)
    start = time.perf_counter()
    for _ in loader:
        pass
    return clips / (time.perf_counter() - start)


def _reading(read: Reader, path: Path, clips: Sequence[np.ndarray]) -> Callable[[], torch.Tensor]:
    """A call that reads the next of ``clips`` each time it is called."""
    next_clip = iter(clips).__next__
    return lambda: read(path, next_clip())


def _measure(
    path: Path, sampling: str, sampler: FrameSampler, *, repeats: int, workers: int, loader_clips: int
) -> list[dict]:
    """Rows of one video × sampling case, one per reading method (all methods read the same random clips)."""
    total = count_frames(path)
    rng = np.random.default_rng(0)
    clips = [sampler(total, rng=rng) for _ in range(repeats + 1)]
    readers = _readers()
    # The readers take turns clip by clip, so that other load on the machine affects them alike; every reader
    # reads the same clips, the first one in the untimed warm-up round.
    timings = time_in_turns([_reading(read, path, clips) for read in readers.values()], warmup=1, repeats=repeats)
    times = dict(zip(readers, timings, strict=True))
    full = times["full"].median_ms
    rows = []
    for method, timing in times.items():
        median = timing.median_ms
        row = {"case": f"{path.name} {sampling}", "method": method, "frames": total, "median_ms": median}
        row |= {"min_ms": timing.min_ms, "clips_per_s": 1e3 / median, "speedup_vs_full": full / median}
        if workers > 0 and method != "sequential":
            row["loader_clips_per_s"] = _loader_clips_per_s(path, sampler, method, workers, loader_clips)
        rows.append(row)
    return rows


COLUMNS = ("case", "method", "frames", "median_ms", "min_ms", "clips_per_s", "speedup_vs_full", "loader_clips_per_s")


def benchmark(videos: Sequence[Path], *, repeats: int = 10, workers: int = 2, loader_clips: int = 16) -> list[dict]:
    """Rows of every video × sampling (:data:`SAMPLINGS`), one per reading method.

    ``repeats`` clips are timed per reader and case; with ``workers`` > 0, ``loader_clips`` clips are also read
    through a ``DataLoader`` with that many worker processes (``loader_clips_per_s``).
    """
    return [
        row
        for path in videos
        for name, sampler in SAMPLINGS.items()
        for row in _measure(path, name, sampler, repeats=repeats, workers=workers, loader_clips=loader_clips)
    ]
