"""Frame-exact video reading: decode only the frames a sampler asked for.

Frame ``i`` of a video is the ``i``-th frame that a plain sequential ``container.decode(video=0)`` outputs, whatever
the backend, format or codec. The PyAV backend keeps that definition with two rules:

* Timestamps name frames only in containers that store a presentation timestamp per frame (MP4/MOV,
  Matroska/WebM, MPEG-TS), and only when every packet has one and none repeats. There the frame map comes from
  the packets (no decoding; packets FFmpeg discards, e.g. cut by an edit list, are no frames), decoded frames are
  identified by their own timestamps, and reading seeks to the keyframe at or before a wanted frame (seeking again
  when the next one lies beyond a later keyframe). A seek that lands past its keyframe, or a decoded frame with an
  unknown timestamp, falls back to decoding from the start, or to counting.
* Everywhere else (AVI, GIF, raw streams, ...) packet timestamps are decode-order counters or guesses: one AVI
  packet can even hold two frames (DivX packed B-frames). Frames are numbered by decoding from the start and
  counting; ``count_frames`` is a full sequential decode (cached per file version like the packet index).

Only wanted frames are converted to RGB (by :func:`to_rgb`, which keeps one scaler per thread). Unwanted
non-reference frames are skipped by the decoder only where a packet's own timestamp says which frame it holds;
frames still missing after that pass are decoded again without any skipping before the file is declared broken.
Raw-frame folders read one image per index.

Every failure (missing, empty, truncated or corrupt file, no video stream, index beyond the decodable frames)
raises :class:`VideoReadError`, a ``ValueError`` naming the file and what failed.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from videoshift.data.completeness import Extent


class VideoReadError(ValueError):
    """A video or frame folder could not be read; the message names the file and what failed."""


# Containers that store a presentation timestamp for every frame (FFmpeg format names). Elsewhere (AVI, GIF, raw
# streams, ...) the timestamps PyAV reports are decode-order counters or guesses, so frames are numbered by counting.
TIMESTAMPED_FORMATS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mpegts"})
# Demuxers that seek by searching decode timestamps (seeking to a keyframe's pts lands on the packet after it).
SEEK_BY_DTS_FORMATS = frozenset({"mpegts"})


@dataclass(frozen=True)
class FrameIndex:
    """Frames of a video stream located by the presentation timestamps its container stores.

    Attributes:
        pts: presentation timestamp of frame i, ascending and unique.
        keyframes: frame numbers of keyframes, ascending.
        seek_targets: per keyframe, the timestamp to seek to (its pts, or its dts where the demuxer searches
            decode timestamps).
        num_frames: frames in the stream (packets with data that FFmpeg does not discard).
    """

    pts: np.ndarray
    keyframes: np.ndarray
    seek_targets: np.ndarray
    num_frames: int

    def keyframe_before(self, frame: int) -> int:
        """The last keyframe at or before ``frame`` (0 when none is marked)."""
        pos = np.searchsorted(self.keyframes, frame, side="right") - 1
        return int(self.keyframes[pos]) if pos >= 0 else 0

    @functools.cached_property
    def frame_of_pts(self) -> dict[int, int]:
        """Frame number of each presentation timestamp."""
        return {int(p): i for i, p in enumerate(self.pts)}

    def seek_target(self, keyframe: int) -> int:
        """The timestamp that makes the demuxer land on ``keyframe`` (a keyframe number)."""
        pos = int(np.searchsorted(self.keyframes, keyframe))
        if pos < len(self.keyframes) and self.keyframes[pos] == keyframe:
            return int(self.seek_targets[pos])
        return int(self.pts[keyframe])


def _indices(indices: Sequence[int] | np.ndarray | torch.Tensor) -> np.ndarray:
    array = np.asarray(indices.cpu() if isinstance(indices, torch.Tensor) else indices)
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"indices must be a non-empty 1-D sequence of ints, got {array!r}")
    return array.astype(np.int64)


class VideoReader:
    """A decoding backend. ``read(path, indices)`` → uint8 ``(T, H, W, 3)`` RGB; ``count_frames(path)``."""

    name = "base"

    def count_frames(self, path: str | Path) -> int:
        """Number of frames of ``path``; raises :class:`VideoReadError` when it cannot be opened."""
        raise NotImplementedError

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        """Frames ``indices`` (any order, repeats allowed) as uint8 ``(len(indices), H, W, 3)`` RGB."""
        raise NotImplementedError

    def extent(self, path: str | Path) -> Extent:
        """How much of ``path`` can be read (:class:`~videoshift.data.completeness.Extent`); a backend that reads
        no header promise reports its frame count alone."""
        return Extent(None, self.count_frames(path))


T = TypeVar("T")


class _TimestampsUnusable(Exception):
    """A decoded frame carries a timestamp that the packet index does not know: number frames by counting."""


class _SeekOvershot(Exception):
    """The demuxer landed after the keyframe it was asked for: decode from the start instead of seeking."""


class PyAVReader(VideoReader):
    """PyAV (FFmpeg) backend with frame-exact decoding (seeking and frame skipping only where they are exact).

    Args:
        threads: decoder threads (0: FFmpeg chooses).
        thread_type: FFmpeg threading, ``"AUTO"``, ``"FRAME"``, ``"SLICE"`` or ``"NONE"``.
        seek: seek to keyframes (False: always decode from the start, still converting only wanted frames).
    """

    name = "pyav"

    def __init__(self, threads: int = 0, thread_type: str = "AUTO", seek: bool = True) -> None:
        import av  # noqa: F401  (fail at construction when PyAV is missing)

        self.threads = threads
        self.thread_type = thread_type
        self.seek = seek

    def count_frames(self, path: str | Path) -> int:
        index = frame_index(path)
        return index.num_frames if index is not None else _cached_decoded_count(*_file_version(path))

    def extent(self, path: str | Path) -> Extent:
        """The header's frame count and duration beside the frames present: the packet index where timestamps
        name frames (no decoding), else the decoded count that :meth:`count_frames` caches."""
        probe = _cached_probe(*_file_version(path))
        if probe.index is not None:
            pts = probe.index.pts
            return Extent(probe.promised, probe.index.num_frames, probe.duration, (pts - pts[0]) * probe.time_base)
        count = self.count_frames(path)
        seconds = np.arange(count) / probe.fps if probe.fps else None
        return Extent(probe.promised, count, probe.duration, seconds)

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        order = _indices(indices)
        if order.min() < 0:
            raise VideoReadError(f"{path}: frame indices {order.tolist()} include negative ones")
        wanted = np.unique(order)
        index = frame_index(path)
        if index is None:
            frames = self._read_counting(path, wanted)
        else:
            if order.max() >= index.num_frames:
                raise VideoReadError(f"{path}: frame indices {order.tolist()} outside [0, {index.num_frames})")
            frames = self._read_timestamped(path, index, wanted)
        return torch.from_numpy(np.stack([frames[int(i)] for i in order]))

    def _read_counting(self, path: str | Path, wanted: np.ndarray) -> dict[int, np.ndarray]:
        """Frames numbered by sequential decoding from the start (no seeking, no skipping: both lose count)."""
        frames, decoded = self._attempt(path, lambda container, stream: _decode_counting(container, stream, wanted))
        if len(frames) < len(wanted):
            raise VideoReadError(f"{path}: frame indices {wanted.tolist()} outside [0, {decoded})")
        return frames

    def _read_timestamped(self, path: str | Path, index: FrameIndex, wanted: np.ndarray) -> dict[int, np.ndarray]:
        """Frames identified by their timestamps: first with skipping of unwanted non-reference frames, then the
        frames still missing without any skipping (a decoder quirk costs time, never a sample)."""
        frames: dict[int, np.ndarray] = {}
        failure: Exception | None = None
        for skip in (True, False):
            missing = np.array([i for i in wanted if int(i) not in frames], dtype=np.int64)
            if missing.size == 0:
                break
            try:
                frames.update(self._decode_timestamped(path, index, missing, skip))
            except _TimestampsUnusable:
                return self._read_counting(path, wanted)
            except VideoReadError as error:
                failure = error
        missing_list = [int(i) for i in wanted if int(i) not in frames]
        if missing_list:
            reason = f" ({failure})" if failure else " (stream ends early or is corrupt)"
            raise VideoReadError(f"{path}: frames {missing_list[:8]} could not be decoded{reason}")
        return frames

    def _decode_timestamped(
        self, path: str | Path, index: FrameIndex, wanted: np.ndarray, skip: bool
    ) -> dict[int, np.ndarray]:
        """One decoding pass over ``wanted``, seeking when allowed and decoding from the start if seeking is not
        exact in this file."""
        if self.seek:
            try:
                return self._attempt(path, lambda c, s: _decode_spans(c, s, index, wanted, skip, seek=True))
            except _SeekOvershot:
                pass
        return self._attempt(path, lambda c, s: _decode_spans(c, s, index, wanted, skip, seek=False))

    def _attempt(self, path: str | Path, decode: Callable[..., T]) -> T:
        """Open ``path``, configure decoder threads and run ``decode(container, stream)``; FFmpeg errors become
        :class:`VideoReadError`."""
        import av

        container = _open_container(path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = self.thread_type
            stream.thread_count = self.threads
            return decode(container, stream)
        except av.FFmpegError as error:
            raise VideoReadError(f"{path}: decoding failed ({error})") from error
        finally:
            # Frame-threaded decoders of FFmpeg 7 can deadlock when freed with frames still in flight after
            # skip_frame changed: drop the in-flight frames and restore the default first.
            stream.codec_context.skip_frame = "DEFAULT"
            stream.codec_context.flush_buffers()
            container.close()


def _spans(index: FrameIndex, wanted: np.ndarray, seek: bool) -> list[tuple[int, np.ndarray]]:
    """Group sorted ``wanted`` frames into decoding runs ``(start keyframe, frames)``: a new run (a seek) starts
    when a keyframe lies beyond the previous wanted frame's successor; without seeking, one run from frame 0."""
    if not seek:
        return [(0, wanted)]
    spans: list[tuple[int, list[int]]] = []
    for frame in (int(i) for i in wanted):
        keyframe = index.keyframe_before(frame)
        if spans and keyframe <= spans[-1][1][-1] + 1:
            spans[-1][1].append(frame)
        else:
            spans.append((keyframe, [frame]))
    return [(start, np.array(frames, dtype=np.int64)) for start, frames in spans]


def _decode_spans(
    container, stream, index: FrameIndex, wanted: np.ndarray, skip: bool, seek: bool
) -> dict[int, np.ndarray]:
    """Decode the sorted ``wanted`` frames run by run; ``{frame: (H, W, 3) uint8}``."""
    frames: dict[int, np.ndarray] = {}
    for start, run in _spans(index, wanted, seek):
        packets = _packets_from(container, stream, index, start) if seek else container.demux(stream)
        frames.update(_decode_run(stream, packets, index, start, run, skip))
    return frames


def _packets_from(container, stream, index: FrameIndex, keyframe: int) -> Iterator:
    """Packets from ``keyframe`` on; raises :class:`_SeekOvershot` unless the demuxer lands on a keyframe at or
    before it (MPEG-TS seeks by searching, and may land one packet late)."""
    container.seek(index.seek_target(keyframe), stream=stream, backward=True, any_frame=False)
    packets = container.demux(stream)
    first = next(packets, None)
    if first is None or first.pts is None or not first.is_keyframe or first.pts > index.pts[keyframe]:
        raise _SeekOvershot
    yield first
    yield from packets


def _decode_run(
    stream, packets: Iterable, index: FrameIndex, start: int, run: np.ndarray, skip: bool
) -> dict[int, np.ndarray]:
    """Decode ``packets`` until the frames of ``run`` are out (frames leave the decoder in presentation order).

    With ``skip``, packets whose own timestamp is not wanted are decoded with ``skip_frame="NONREF"``: a container
    that stores timestamps gives each packet the timestamp of the frame it holds, so a wanted frame is never skipped.
    """
    context = stream.codec_context
    pts_to_frame = index.frame_of_pts
    wanted_set = {int(i) for i in run}
    wanted_pts = {int(index.pts[i]) for i in run}
    last_wanted = int(run[-1])
    frames: dict[int, np.ndarray] = {}
    for packet in packets:
        wanted_packet = packet.pts is None or packet.pts in wanted_pts
        context.skip_frame = "NONREF" if skip and not wanted_packet else "DEFAULT"
        for frame in packet.decode():
            if frame.pts is None or frame.pts not in pts_to_frame:
                raise _TimestampsUnusable
            current = pts_to_frame[frame.pts]
            if current in wanted_set and current >= start:
                frames[current] = to_rgb(frame)
            if current >= last_wanted:
                return frames
    return frames


def _decode_counting(container, stream, wanted: np.ndarray) -> tuple[dict[int, np.ndarray], int]:
    """Decode from the start and number the frames as they come; returns the wanted frames and frames decoded."""
    frames: dict[int, np.ndarray] = {}
    wanted_set = {int(i) for i in wanted}
    decoded = 0
    for frame in container.decode(stream):
        if decoded in wanted_set:
            frames[decoded] = to_rgb(frame)
        decoded += 1
        if decoded > wanted[-1]:
            break
    return frames, decoded


_CONVERTERS = threading.local()


def to_rgb(frame) -> np.ndarray:
    """A decoded ``av.VideoFrame`` as uint8 ``(H, W, 3)`` RGB, the pixels of ``frame.to_ndarray(format="rgb24")``.

    Faster than that call: one ``VideoReformatter`` per thread keeps its scaler context from frame to frame (a
    fresh one per frame rebuilds it), and the conversion runs on the calling thread (PyAV 17 and later start
    scaler threads for each frame by default, which on a few cores also compete with the decoder's threads).
    """
    from av.video.reformatter import VideoReformatter

    converter = getattr(_CONVERTERS, "reformatter", None)
    if converter is None:
        converter = _CONVERTERS.reformatter = VideoReformatter()
    return converter.reformat(frame, format="rgb24", **_single_threaded()).to_ndarray()


@functools.cache
def _single_threaded() -> dict[str, int]:
    """The ``reformat`` option that keeps scaling on the calling thread (before PyAV 17 there is none: it always
    scales there)."""
    import av

    return {"threads": 1} if int(av.__version__.split(".")[0]) >= 17 else {}


def _open_container(path: str | Path):
    import av

    path = Path(path)
    if not path.is_file():
        raise VideoReadError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise VideoReadError(f"{path}: empty file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise VideoReadError(f"{path}: cannot open container ({error})") from error
    if not container.streams.video:
        container.close()
        raise VideoReadError(f"{path}: no video stream")
    return container


@dataclass(frozen=True)
class _Probe:
    """What one pass over a file's packets tells: its timestamp index (``None``: frames are numbered by decoding),
    the header's frame count and duration (``None`` where it states none), the stream's time base and frame rate."""

    index: FrameIndex | None
    promised: int | None
    duration: float | None
    time_base: float
    fps: float | None


def frame_index(path: str | Path) -> FrameIndex | None:
    """The timestamp index of a video file, or ``None`` when its frames can only be numbered by decoding; cached
    per file version (path, size, modification time)."""
    return _cached_probe(*_file_version(path)).index


def _file_version(path: str | Path) -> tuple[str, int, int]:
    """``(path, size, modification time)``: the cache key of what is known about a file."""
    try:
        stat = os.stat(path)
    except OSError as error:
        raise VideoReadError(f"{path}: no such file") from error
    return str(path), stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=4096)
def _cached_probe(path: str, size: int, mtime_ns: int) -> _Probe:
    import av

    container = _open_container(path)
    try:
        format_name = container.format.name
        stream = container.streams.video[0]
        header = _header(container, stream)
        entries = [(p.pts, p.dts, p.is_keyframe) for p in container.demux(stream) if p.size > 0 and not p.is_discard]
    except av.FFmpegError as error:
        raise VideoReadError(f"{path}: cannot read packets ({error})") from error
    finally:
        container.close()
    if not entries:
        raise VideoReadError(f"{path}: video stream has no frames")
    index = None
    if format_name in TIMESTAMPED_FORMATS:
        index = _timestamp_index(entries, seek_by_dts=format_name in SEEK_BY_DTS_FORMATS)
    return _Probe(index, *header)


def _header(container, stream) -> tuple[int | None, float | None, float, float | None]:
    """The header's frame count and duration in seconds (``None`` where it states none), the stream's time base and
    average frame rate."""
    time_base = float(stream.time_base) if stream.time_base else 0.0
    if stream.duration is not None and time_base:
        duration = stream.duration * time_base
    else:
        duration = container.duration / 1e6 if container.duration else None
    fps = float(stream.average_rate) if stream.average_rate else None
    return (stream.frames or None), duration, time_base, fps


def _timestamp_index(entries: list[tuple[int | None, int | None, bool]], seek_by_dts: bool) -> FrameIndex | None:
    """A :class:`FrameIndex` from ``(pts, dts, keyframe)`` packets, or ``None`` when the timestamps are missing or
    repeat (then they cannot name frames)."""
    pts = [p for p, _, _ in entries]
    if None in pts or len(set(pts)) != len(pts):
        return None
    keys = [(p, d if seek_by_dts and d is not None else p) for p, d, key in entries if key]
    order = sorted(pts)
    position = {p: i for i, p in enumerate(order)}
    keys.sort()
    return FrameIndex(
        pts=np.array(order, dtype=np.int64),
        keyframes=np.array([position[p] for p, _ in keys], dtype=np.int64),
        seek_targets=np.array([target for _, target in keys], dtype=np.int64),
        num_frames=len(order),
    )


@functools.lru_cache(maxsize=4096)
def _cached_decoded_count(path: str, size: int, mtime_ns: int) -> int:
    """Frames of a file without usable timestamps: a full sequential decode, counted."""
    import av

    container = _open_container(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = sum(1 for _ in container.decode(stream))
    except av.FFmpegError as error:
        raise VideoReadError(f"{path}: decoding failed while counting frames ({error})") from error
    finally:
        container.close()
    if count == 0:
        raise VideoReadError(f"{path}: video stream has no frames")
    return count


class RawFrameReader(VideoReader):
    """Frame folders: frame number ``i`` is the image ``folder / filename_tmpl.format(i)``.

    Indices are file numbers (the sampler adds ``start_index``; datasets add a list's ``offset``).
    ``count_frames`` counts consecutive files from ``start_index``.
    """

    name = "rawframes"

    def __init__(self, filename_tmpl: str = "img_{:05d}.jpg", start_index: int = 1) -> None:
        self.filename_tmpl = filename_tmpl
        self.start_index = start_index

    def count_frames(self, path: str | Path) -> int:
        folder = Path(path)
        if not folder.is_dir():
            raise VideoReadError(f"{folder}: no such frame folder")
        count = 0
        while (folder / self.filename_tmpl.format(self.start_index + count)).is_file():
            count += 1
        if count == 0:
            raise VideoReadError(f"{folder}: no frame {self.filename_tmpl.format(self.start_index)}")
        return count

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        from PIL import Image

        folder = Path(path)
        images = {}
        for i in np.unique(_indices(indices)):
            file = folder / self.filename_tmpl.format(int(i))
            try:
                with Image.open(file) as image:
                    images[int(i)] = torch.from_numpy(np.array(image.convert("RGB")))
            except OSError as error:  # missing, truncated or not an image (PIL.UnidentifiedImageError)
                raise VideoReadError(f"{file}: cannot read frame {int(i)} ({error})") from error
        try:
            return torch.stack([images[int(i)] for i in _indices(indices)])
        except RuntimeError as error:
            raise VideoReadError(f"{folder}: frames differ in size ({error})") from error


class DecordReader(VideoReader):
    """decord backend (optional dependency); decord numbers frames in decode order like PyAV."""

    name = "decord"

    def __init__(self, threads: int = 0) -> None:
        import decord

        self._decord = decord
        self.threads = threads

    def _open(self, path: str | Path):
        if not Path(path).is_file() or Path(path).stat().st_size == 0:
            raise VideoReadError(f"{path}: missing or empty file")
        try:
            return self._decord.VideoReader(str(path), num_threads=self.threads)
        except Exception as error:  # decord raises its own DECORDError
            raise VideoReadError(f"{path}: cannot open ({error})") from error

    def count_frames(self, path: str | Path) -> int:
        return len(self._open(path))

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        reader = self._open(path)
        try:
            return torch.from_numpy(reader.get_batch(_indices(indices).tolist()).asnumpy())
        except Exception as error:
            raise VideoReadError(f"{path}: decoding failed ({error})") from error


class TorchCodecReader(VideoReader):
    """torchcodec backend (optional dependency), exact-seek mode, on the CPU or decoding on a CUDA device.

    Not frame-exact everywhere: torchcodec 0.17 numbers frames by timestamps in every container, so in AVI with
    B-frames and in MPEG-TS it returns other frames than a sequential decode (or fails near the end), an open-GOP
    MP4 fails on its last frames, frames of rotated videos come rotated, and 10-bit or full-range (MJPEG) frames are
    converted to RGB with other rounding. ``videoshift bench data`` checks it against PyAV on your files.

    Args:
        threads: FFmpeg decoder threads on the CPU (0: FFmpeg chooses).
        device: ``"cpu"`` or a CUDA device (then frames come back on that device).
    """

    name = "torchcodec"

    def __init__(self, threads: int = 0, device: str = "cpu") -> None:
        from torchcodec.decoders import VideoDecoder

        self._decoder_cls = VideoDecoder
        self.threads = threads
        self.device = device

    def _open(self, path: str | Path):
        if not Path(path).is_file() or Path(path).stat().st_size == 0:
            raise VideoReadError(f"{path}: missing or empty file")
        try:
            return self._decoder_cls(
                str(path),
                seek_mode="exact",
                num_ffmpeg_threads=self.threads,
                device=self.device,
                dimension_order="NHWC",
            )
        except (RuntimeError, ValueError) as error:
            raise VideoReadError(f"{path}: cannot open ({error})") from error

    def count_frames(self, path: str | Path) -> int:
        return int(self._open(path).metadata.num_frames)

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        decoder = self._open(path)
        try:
            return decoder.get_frames_at(_indices(indices).tolist()).data
        except (RuntimeError, IndexError) as error:
            raise VideoReadError(f"{path}: decoding failed ({error})") from error


BACKENDS: dict[str, tuple[type[VideoReader], str]] = {
    "pyav": (PyAVReader, "av"),
    "decord": (DecordReader, "decord"),
    "torchcodec": (TorchCodecReader, "torchcodec"),
}


def available_backends() -> list[str]:
    """Video backends whose library is installed."""
    return [name for name, (_, module) in BACKENDS.items() if importlib.util.find_spec(module) is not None]


def get_reader(backend: str = "pyav", **kwargs) -> VideoReader:
    """A video reader by backend name; raises ``ValueError`` for unknown or uninstalled backends."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {backend!r}")
    if backend not in available_backends():
        raise ValueError(f"backend {backend!r} needs the {BACKENDS[backend][1]!r} package, which is not installed")
    try:
        return BACKENDS[backend][0](**kwargs)
    except (ImportError, OSError, RuntimeError) as error:  # e.g. torchcodec without the FFmpeg libraries it needs
        raise ValueError(f"backend {backend!r} cannot be loaded ({error})") from error


def read_frames(path: str | Path, indices: Sequence[int], backend: str = "pyav") -> torch.Tensor:
    """Frames ``indices`` of a video as uint8 ``(T, H, W, 3)`` RGB (frame-exact, see the module docstring)."""
    return _default_reader(backend).read(path, indices)


def count_frames(path: str | Path, backend: str = "pyav") -> int:
    """Number of frames of a video (from its packets, not the header)."""
    return _default_reader(backend).count_frames(path)


@functools.cache
def _default_reader(backend: str) -> VideoReader:
    return get_reader(backend)
