"""Frame-exact video reading: decode only the frames a sampler asked for.

Frame ``i`` of a video is the ``i``-th frame the decoder outputs (presentation order), whatever the backend. The
PyAV backend builds that map from the container's packets (their timestamps sorted; no decoding), because header
frame counts are 0 in WebM/MKV and can be wrong elsewhere. To read frames it seeks to the keyframe at or before
the first wanted frame, decodes forward keeping only the wanted frames (only those are converted to RGB), and
seeks again when the next wanted frame lies beyond a later keyframe. Frames nobody references (B-frames between
wanted ones) are skipped by the decoder. Raw-frame folders read one image per index.

Every failure (missing, empty, truncated or corrupt file, no video stream, index beyond the decodable frames)
raises :class:`VideoReadError`, a ``ValueError`` naming the file and what failed.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


class VideoReadError(ValueError):
    """A video or frame folder could not be read; the message names the file and what failed."""


@dataclass(frozen=True)
class FrameIndex:
    """Packet timestamps of a video stream, in presentation order.

    Attributes:
        pts: presentation timestamp of frame i, or ``None`` when the container has no timestamps (then reading
            decodes sequentially and counts).
        keyframes: frame numbers of keyframes, ascending.
        num_frames: frames in the stream (one per packet with data).
    """

    pts: np.ndarray | None
    keyframes: np.ndarray
    num_frames: int

    def keyframe_before(self, frame: int) -> int:
        """The last keyframe at or before ``frame`` (0 when none is marked)."""
        pos = np.searchsorted(self.keyframes, frame, side="right") - 1
        return int(self.keyframes[pos]) if pos >= 0 else 0


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


class PyAVReader(VideoReader):
    """PyAV (FFmpeg) backend with seek-aware, frame-exact decoding.

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
        return frame_index(path).num_frames

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        import av

        order = _indices(indices)
        index = frame_index(path)
        if order.min() < 0 or order.max() >= index.num_frames:
            raise VideoReadError(f"{path}: frame indices {order.tolist()} outside [0, {index.num_frames})")
        wanted = np.unique(order)
        container = _open_container(path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = self.thread_type
            stream.thread_count = self.threads
            if index.pts is None:
                frames = _decode_counting(container, stream, wanted)
            else:
                frames = self._decode_seeking(container, stream, index, wanted)
        except av.FFmpegError as error:
            raise VideoReadError(f"{path}: decoding frames {wanted.tolist()} failed ({error})") from error
        finally:
            container.close()
        missing = [int(i) for i in wanted if int(i) not in frames]
        if missing:
            raise VideoReadError(f"{path}: frames {missing[:8]} could not be decoded (stream ends early or is corrupt)")
        return torch.from_numpy(np.stack([frames[int(i)] for i in order]))

    def _decode_seeking(self, container, stream, index: FrameIndex, wanted: np.ndarray) -> dict[int, np.ndarray]:
        """Decode the sorted, unique ``wanted`` frames, seeking to keyframes; ``{frame: (H, W, 3) uint8}``."""
        pts_to_frame = {int(p): i for i, p in enumerate(index.pts)}
        wanted_set = {int(i) for i in wanted}
        wanted_pts = {int(index.pts[i]) for i in wanted}
        context = stream.codec_context
        frames: dict[int, np.ndarray] = {}
        pos = 0  # wanted[pos] is the next frame to find
        while pos < len(wanted):
            start = index.keyframe_before(int(wanted[pos])) if self.seek else 0
            container.seek(int(index.pts[start]), stream=stream, backward=True, any_frame=False)
            last = start - 1
            ended = True
            for packet in container.demux(stream):
                # frames that no other frame references are dropped by the decoder unless wanted
                context.skip_frame = "DEFAULT" if packet.pts is None or packet.pts in wanted_pts else "NONREF"
                for frame in packet.decode():
                    current = pts_to_frame.get(frame.pts, -1)
                    if current < start:  # before the seek point (open GOP leading frames) or unknown
                        continue
                    last = max(last, current)
                    if current in wanted_set:
                        frames[current] = frame.to_ndarray(format="rgb24")
                while pos < len(wanted) and int(wanted[pos]) <= last:
                    pos += 1
                if pos == len(wanted) or (self.seek and index.keyframe_before(int(wanted[pos])) > last + 1):
                    ended = False
                    break
            if ended:
                break
        return frames


def _decode_counting(container, stream, wanted: np.ndarray) -> dict[int, np.ndarray]:
    """Without timestamps: decode from the start and number the frames as they come."""
    frames: dict[int, np.ndarray] = {}
    wanted_set = {int(i) for i in wanted}
    for i, frame in enumerate(container.decode(stream)):
        if i in wanted_set:
            frames[i] = frame.to_ndarray(format="rgb24")
        if i >= wanted[-1]:
            break
    return frames


def _open_container(path: str | Path):
    import av

    path = Path(path)
    if not path.is_file():
        raise VideoReadError(f"{path}: no such file")
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


def frame_index(path: str | Path) -> FrameIndex:
    """The packet index of a video file, cached per file version (path, size, modification time)."""
    try:
        stat = os.stat(path)
    except OSError as error:
        raise VideoReadError(f"{path}: no such file") from error
    return _cached_index(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _cached_index(path: str, size: int, mtime_ns: int) -> FrameIndex:
    import av

    container = _open_container(path)
    try:
        stream = container.streams.video[0]
        entries = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size > 0]
    except av.FFmpegError as error:
        raise VideoReadError(f"{path}: cannot read packets ({error})") from error
    finally:
        container.close()
    if not entries:
        raise VideoReadError(f"{path}: video stream has no frames")
    pts = [p for p, _ in entries]
    if None in pts or len(set(pts)) != len(pts):  # no usable timestamps: number frames by decoding
        return FrameIndex(pts=None, keyframes=np.zeros(1, dtype=np.int64), num_frames=len(entries))
    entries.sort()
    keyframes = np.flatnonzero([key for _, key in entries]).astype(np.int64)
    return FrameIndex(
        pts=np.array([p for p, _ in entries], dtype=np.int64), keyframes=keyframes, num_frames=len(entries)
    )


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
    """torchcodec backend (optional dependency), exact-seek mode."""

    name = "torchcodec"

    def __init__(self) -> None:
        from torchcodec.decoders import VideoDecoder

        self._decoder_cls = VideoDecoder

    def _open(self, path: str | Path):
        if not Path(path).is_file() or Path(path).stat().st_size == 0:
            raise VideoReadError(f"{path}: missing or empty file")
        try:
            return self._decoder_cls(str(path), seek_mode="exact")
        except (RuntimeError, ValueError) as error:
            raise VideoReadError(f"{path}: cannot open ({error})") from error

    def count_frames(self, path: str | Path) -> int:
        return int(self._open(path).metadata.num_frames)

    def read(self, path: str | Path, indices: Sequence[int]) -> torch.Tensor:
        decoder = self._open(path)
        try:
            return decoder.get_frames_at(_indices(indices).tolist()).data.permute(0, 2, 3, 1).contiguous()
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
    return BACKENDS[backend][0](**kwargs)


def read_frames(path: str | Path, indices: Sequence[int], backend: str = "pyav") -> torch.Tensor:
    """Frames ``indices`` of a video as uint8 ``(T, H, W, 3)`` RGB (frame-exact, see the module docstring)."""
    return _default_reader(backend).read(path, indices)


def count_frames(path: str | Path, backend: str = "pyav") -> int:
    """Number of frames of a video (from its packets, not the header)."""
    return _default_reader(backend).count_frames(path)


@functools.cache
def _default_reader(backend: str) -> VideoReader:
    return get_reader(backend)
