"""``videoshift bench data``: which video reader is exact and fastest, and whether loading keeps up with the model.

Everything runs on the same videos and, per sampling (TSN 8 segments, dense 32×2), the same random training clips:

* ``read`` rows, per video: each reader's frames are first held to PyAV's plain sequential decode (``exact``:
  the same pixels; ``same_frames``: every frame is nearest to the frame asked for, so at most the RGB conversion
  differs), then the readers are timed one clip at a time, taking turns (so that other load on the machine affects
  them alike), with each reader's speed relative to the first one (``x_first``).
* ``loader`` rows: the training pipeline end to end, a :class:`~videoshift.data.datasets.ListDataset` over all the
  videos (decode, sample, transforms) in a ``DataLoader`` (collate, ``workers`` processes, ``batch`` clips).
* ``train`` row: one training step of ``model`` (forward, backward, SGD) on a batch of clips of the same frames and
  size, as clips/s; its ``bound`` says which one bounds training, data loading or the model.

Readers: ``pyav`` (:class:`~videoshift.data.readers.PyAVReader`: keyframe seeks, unwanted non-reference frames
skipped, only wanted frames converted), ``pyav-sequential`` (the same without seeking), ``full`` (the naive
loader: every frame decoded and converted, then indexed), ``torchcodec`` (CPU) and ``torchcodec-cuda`` (decoding
on the GPU). A reader that cannot run here gets a row whose ``note`` says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from videoshift.bench.choices import READERS
from videoshift.bench.common import time_in_turns
from videoshift.data.readers import PyAVReader, VideoReader, VideoReadError, count_frames, get_reader, to_rgb
from videoshift.data.samplers import DenseSampler, FrameSampler, TSNSampler

SAMPLINGS: dict[str, FrameSampler] = {
    "tsn8": TSNSampler(num_frames=8),
    "dense32x2": DenseSampler(clip_len=32, frame_interval=2),
}
LOADER_READERS = ("pyav", "torchcodec")  # the readers a dataset is built with
COLUMNS = (
    "case",
    "kind",
    "reader",
    "exact",
    "same_frames",
    "max_diff",
    "median_ms",
    "clips_per_s",
    "x_first",
    "bound",
    "note",
)
IDENTITY_WINDOW = 4  # frames on each side of a wanted one that a returned frame is compared with


class FullDecodeReader(VideoReader):
    """The naive loader: decode every frame and convert it to RGB, then index."""

    name = "full"

    def count_frames(self, path: str | Path) -> int:
        return count_frames(path)

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(stream)])
        return torch.from_numpy(frames[np.asarray(indices)])


def make_reader(name: str) -> VideoReader:
    """The reader called ``name`` (one of :data:`READERS`); ``ValueError`` says why it cannot run here."""
    if name == "pyav":
        return PyAVReader()
    if name == "pyav-sequential":
        return PyAVReader(seek=False)
    if name == "full":
        return FullDecodeReader()
    if name == "torchcodec":
        return get_reader("torchcodec")
    if name == "torchcodec-cuda":
        if not torch.cuda.is_available():
            raise ValueError("no CUDA device")
        return get_reader("torchcodec", device="cuda")
    raise ValueError(f"reader must be one of {READERS}, got {name!r}")


def sequential_frames(path: Path, keep: Iterable[int]) -> dict[int, np.ndarray]:
    """The reference: frames ``keep`` of PyAV's plain sequential decode of ``path``, as RGB."""
    import av

    wanted = set(keep)
    frames = {}
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number in wanted:
                frames[number] = to_rgb(frame)
            if len(frames) == len(wanted):
                break
    return frames


def _nearest_is_wanted(image: np.ndarray, wanted: int, reference: dict[int, np.ndarray]) -> bool:
    """Whether no reference frame near ``wanted`` is closer to ``image`` (mean absolute difference) than it."""
    distances = {
        number: np.abs(image.astype(np.int16) - reference[number]).mean()
        for number in range(wanted - IDENTITY_WINDOW, wanted + IDENTITY_WINDOW + 1)
        if number in reference and reference[number].shape == image.shape
    }
    return wanted in distances and distances[wanted] <= min(distances.values())


def check_frames(read: Callable[[Path, np.ndarray], torch.Tensor], path: Path, clips, reference) -> dict[str, Any]:
    """``exact``, ``same_frames`` ("yes"/"no") and ``max_diff`` (largest pixel difference) of a reader's
    ``clips`` against the sequential ``reference``; a reader that fails gets a ``note`` instead of ``max_diff``."""
    exact = same = True
    max_diff = 0
    for indices in clips:
        try:
            frames = read(path, indices).cpu().numpy()
        except VideoReadError as error:
            return {"exact": "no", "same_frames": "no", "note": str(error)[:120]}
        expected = [reference[int(i)] for i in indices]
        if frames.shape != (len(indices), *expected[0].shape):
            return {"exact": "no", "same_frames": "no", "note": f"frames of shape {tuple(frames.shape[1:])}"}
        for image, wanted, target in zip(frames, indices, expected, strict=True):
            if not np.array_equal(image, target):
                exact = False
                max_diff = max(max_diff, int(np.abs(image.astype(np.int16) - target).max()))
                same = same and _nearest_is_wanted(image, int(wanted), reference)
    return {"exact": _yes_no(exact), "same_frames": _yes_no(same), "max_diff": max_diff}


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _reading(read: Callable[[Path, np.ndarray], torch.Tensor], path: Path, clips) -> Callable[[], Any]:
    """A call that reads the next of ``clips`` each time it is called (and waits for a GPU reader)."""
    next_clip = iter(clips).__next__

    def call() -> Any:
        frames = read(path, next_clip())
        if frames.is_cuda:
            torch.cuda.synchronize(frames.device)
        return frames

    return call


def read_rows(
    path: Path, sampling: str, readers: dict[str, VideoReader | str], *, repeats: int, seed: int = 0
) -> list[dict[str, Any]]:
    """``read`` rows of one video and sampling: exactness first, then speed in turns (same clips for all).

    ``readers`` maps names to readers, or to the reason a reader cannot run here.
    """
    total = count_frames(path)
    rng = np.random.default_rng(seed)
    clips = [SAMPLINGS[sampling](total, rng=rng) for _ in range(repeats + 1)]
    near = {int(i) + d for clip in clips for i in clip for d in range(-IDENTITY_WINDOW, IDENTITY_WINDOW + 1)}
    reference = sequential_frames(path, (i for i in near if 0 <= i < total))
    case = f"{path.name} {sampling}"
    rows = []
    for name, reader in readers.items():
        row = {"case": case, "kind": "read", "reader": name}
        if isinstance(reader, str):
            row["note"] = f"skipped: {reader}"
        else:
            row |= check_frames(reader.read, path, clips, reference)
        rows.append(row)
    timed = [(row, readers[row["reader"]]) for row in rows if "note" not in row]
    # The readers take turns clip by clip; every reader reads the same clips, the first in the untimed warm-up.
    timings = time_in_turns([_reading(r.read, path, clips) for _, r in timed], warmup=1, repeats=repeats)
    for (row, _), timing in zip(timed, timings, strict=True):
        row |= {"median_ms": timing.median_ms, "clips_per_s": 1e3 / timing.median_ms}
        row["x_first"] = timings[0].median_ms / timing.median_ms
    return rows


@dataclass(frozen=True)
class LoaderSettings:
    """The training pipeline measured end to end.

    Attributes:
        batch: clips per batch.
        workers: DataLoader worker processes (0: load in the main process).
        batches: timed batches, after ``max(1, workers)`` untimed ones (worker start-up, first files).
        size: crop size of the transform (and of the model's input).
        short_side: the frames' short side after resizing, before cropping.
        rounds: loader runs per reader, the readers taking turns (the median counts).
    """

    batch: int = 4
    workers: int = 2
    batches: int = 4
    size: int = 224
    short_side: int = 256
    rounds: int = 3


def loader_clips_per_s(videos: Sequence[Path], reader: VideoReader, sampling: str, settings: LoaderSettings) -> float:
    """Clips/s of a training ``ListDataset`` over ``videos`` (decode, sample, transform) through a DataLoader."""
    from videoshift.data.annotations import Sample
    from videoshift.data.datasets import ListDataset
    from videoshift.data.settings import TransformConfig
    from videoshift.data.transforms import ClipTransform

    warmup = max(1, settings.workers)
    count = settings.batch * (warmup + settings.batches)
    samples = [Sample(str(videos[i % len(videos)].resolve()), (0,)) for i in range(count)]
    transform = ClipTransform(TransformConfig(input_size=settings.size, short_side=settings.short_side), train=True)
    dataset = ListDataset(samples, Path("/"), reader, SAMPLINGS[sampling], transform, num_classes=1)
    loader = iter(DataLoader(dataset, batch_size=settings.batch, num_workers=settings.workers))
    for _ in range(warmup):
        next(loader)
    start = time.perf_counter()
    for _ in range(settings.batches):
        next(loader)
    return settings.batch * settings.batches / (time.perf_counter() - start)


def _loader_case(videos: Sequence[Path], sampling: str, settings: LoaderSettings) -> str:
    return f"{len(videos)} videos {sampling}, batch {settings.batch}"


def loader_rows_in_turns(
    videos: Sequence[Path], sampling: str, readers: dict[str, VideoReader | str], settings: LoaderSettings
) -> list[dict[str, Any]]:
    """``loader`` rows: the readers' loaders run in turns, ``settings.rounds`` times; the median of each reader."""
    case = _loader_case(videos, sampling, settings)
    rows = {name: {"case": case, "kind": "loader", "reader": f"{name}, {settings.workers} workers"} for name in readers}
    speeds: dict[str, list[float]] = {name: [] for name in readers}
    for name, reader in readers.items():
        if isinstance(reader, str):
            rows[name]["note"] = f"skipped: {reader}"
    for _ in range(settings.rounds):
        for name, reader in readers.items():
            if "note" in rows[name]:
                continue
            try:
                speeds[name].append(loader_clips_per_s(videos, reader, sampling, settings))
            except VideoReadError as error:  # a file this reader cannot read
                rows[name]["note"] = str(error)[:120]
    first = None
    for name, values in speeds.items():
        if values and "note" not in rows[name]:
            speed = float(np.median(values))
            first = first or speed
            rows[name] |= {"clips_per_s": speed, "median_ms": settings.batch * 1e3 / speed, "x_first": speed / first}
    return list(rows.values())


def train_clips_per_s(model: str, frames: int, settings: LoaderSettings, *, device: str, repeats: int) -> float:
    """Clips/s that training steps of ``model`` (forward, backward, SGD) consume at the loader's batch and size."""
    from videoshift.bench.specs import ModelSpec, RunSettings, build_model, make_clip, training_step

    spec, run = ModelSpec(model, model, frames=frames, size=settings.size), RunSettings(device=device)
    network = build_model(spec, run).train()
    optimizer = torch.optim.SGD(network.parameters(), lr=1e-3, momentum=0.9)
    clip = make_clip(spec, run, settings.batch)
    timing = time_in_turns([lambda: training_step(network, clip, optimizer)], warmup=1, repeats=repeats, device=device)
    return settings.batch * 1e3 / timing[0].median_ms


def clip_frames(sampling: str) -> int:
    """Frames of one clip of ``sampling``."""
    return len(SAMPLINGS[sampling](10_000, rng=np.random.default_rng(0)))


def benchmark(
    videos: Sequence[Path],
    *,
    readers: Sequence[str] = READERS,
    samplings: Sequence[str] = tuple(SAMPLINGS),
    repeats: int = 10,
    loader: LoaderSettings | None = None,
    model: str | None = None,
    device: str = "cpu",
    train_repeats: int = 3,
) -> list[dict[str, Any]]:
    """Rows (see the module docstring) of every sampling: ``read`` rows per video, then with ``loader`` the
    ``loader`` rows of the dataset readers among ``readers``, then with ``model`` its ``train`` row."""
    available: dict[str, VideoReader | str] = {}
    for name in readers:
        try:
            available[name] = make_reader(name)
        except ValueError as error:
            available[name] = str(error)
    rows = []
    for sampling in samplings:
        for path in videos:
            rows += read_rows(path, sampling, available, repeats=repeats)
        if loader is None:
            continue
        case = _loader_case(videos, sampling, loader)
        loader_rows = loader_rows_in_turns(
            videos, sampling, {n: available[n] for n in readers if n in LOADER_READERS}, loader
        )
        rows += loader_rows
        if model is not None:
            frames = clip_frames(sampling)
            speed = train_clips_per_s(model, frames, loader, device=device, repeats=train_repeats)
            row = {"case": case, "kind": "train", "reader": f"{model} {frames}x{loader.size}² on {device}"}
            row |= {"clips_per_s": speed, "median_ms": loader.batch * 1e3 / speed}
            fastest = max((r["clips_per_s"] for r in loader_rows if "clips_per_s" in r), default=None)
            if fastest is not None:
                row["bound"] = "data loading" if fastest < speed else "model"
            rows.append(row)
    return rows


def verdicts(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One sentence per ``train`` row: which of data loading and the model bounds training, by how much."""
    lines = []
    for train in (r for r in rows if r["kind"] == "train" and "bound" in r):
        loaders = [r for r in rows if r["kind"] == "loader" and r["case"] == train["case"] and "clips_per_s" in r]
        best = max(loaders, key=lambda r: r["clips_per_s"])
        ratio = best["clips_per_s"] / train["clips_per_s"]
        lines.append(
            f"{train['case']}: {train['bound']} bounds training — the loader ({best['reader']}) gives "
            f"{best['clips_per_s']:.3g} clips/s, {train['reader']} trains {train['clips_per_s']:.3g} clips/s "
            f"(loader/model = {ratio:.2f})"
        )
    return lines
