"""Test videos written here: lossless encodes of generated frames, whose decoded frames are known exactly."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np


def write_video(
    path: Path, frames: np.ndarray, codec: str = "libx264rgb", fps: int = 25, gop: int = 8, fmt: str | None = None
) -> Path:
    """Write uint8 ``(T, H, W, 3)`` frames losslessly: RGB H.264 at qp 0 with B-frames and a keyframe every
    ``gop`` frames (so that seeking matters), or FFV1. ``fmt`` forces a container format (e.g. raw "h264")."""
    import av

    with av.open(str(path), "w", format=fmt) as container:
        if codec == "libx264rgb":
            options = {"qp": "0", "g": str(gop), "keyint_min": str(gop), "bf": "2", "sc_threshold": "0"}
            stream = container.add_stream(codec, rate=fps, options=options)
            stream.pix_fmt = "rgb24"
        else:
            stream = container.add_stream(codec, rate=fps)
            stream.pix_fmt = "bgr0"
        stream.height, stream.width = frames.shape[1:3]
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def decode_all(path: Path) -> np.ndarray:
    """The reference of the readers' tests: PyAV's plain sequential decode of every frame, as RGB."""
    import av

    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def moving_frames(num_frames: int, height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """Smooth frames with a moving gradient and a square, plus a little noise (compressible, distinct frames)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    frames = []
    for t in range(num_frames):
        image = np.stack([(xx * 3 + t * 5) % 256, (yy * 4 + t * 3) % 256, np.full_like(xx, (t * 17) % 256)], -1)
        image[10 + t % 20 : 20 + t % 20, 5 + t : 15 + t] = 255
        frames.append(image + rng.integers(0, 3, size=image.shape))
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def encode_video(
    path: Path,
    frames: np.ndarray,
    codec: str,
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
    fmt: str | None = None,
    pts: Sequence[int] | None = None,
    time_base: Fraction = Fraction(1, 25),
    rotation: int = 0,
) -> Path:
    """Encode uint8 ``(T, H, W, 3)`` frames with any FFmpeg encoder into any container (lossy: compare with a
    sequential decode, not with ``frames``). ``pts`` sets each frame's timestamp in ``time_base`` (irregular or
    offset timestamps); by default frame ``i`` has pts ``i``. ``rotation`` writes a display matrix (degrees)."""
    import av

    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=1 / time_base, options=options or {})
        stream.pix_fmt = pix_fmt
        stream.height, stream.width = frames.shape[1:3]
        stream.codec_context.time_base = time_base
        if rotation:
            stream.set_display_rotation(rotation)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i if pts is None else int(pts[i])
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


VOP_START = b"\x00\x00\x01\xb6"
# A P-VOP header with vop_coded = 0: type 01, modulo_time_base 0, marker, 5-bit time increment (25 fps), marker,
# vop_coded 0, then stuffing bits 0111 1.
N_VOP = VOP_START + bytes([0b01010000, 0b01001111])


def write_packed_mpeg4_avi(path: Path, frames: np.ndarray, gop: int = 12) -> Path:
    """An MPEG-4 Part 2 AVI in DivX "packed bitstream" form, as old DivX/Xvid encoders wrote it (UCF101, HMDB51).

    FFmpeg's encoder cannot pack, so its packets (one B-frame between references) are packed here: each reference
    frame shares a packet with the B-frame after it in decode order, and a 6-byte "not coded" placeholder (N-VOP)
    follows; a "DivX503b1393p" user-data header tells the decoder the stream is packed.
    """
    import av

    packets = _mpeg4_packets(frames, gop)
    packed = _pack_b_frames(packets)
    header_end = packed[0].index(VOP_START)
    packed[0] = packed[0][:header_end] + b"\x00\x00\x01\xb2DivX503b1393p" + packed[0][header_end:]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for number, data in enumerate(packed):
            packet = av.Packet(data)
            packet.pts = packet.dts = number
            packet.time_base = Fraction(1, 25)
            packet.is_keyframe = _vop_type(data) == 0
            packet.stream = stream
            container.mux(packet)
    return path


def _vop_type(data: bytes) -> int:
    """Coding type of the first VOP in ``data``: 0 I, 1 P, 2 B."""
    return data[data.index(VOP_START) + 4] >> 6


def _mpeg4_packets(frames: np.ndarray, gop: int) -> list[bytes]:
    """FFmpeg ``mpeg4`` encoder output (decode order, one B-frame between references) for ``frames``."""
    import av

    encoder = av.CodecContext.create("mpeg4", "w")
    encoder.height, encoder.width = frames.shape[1:3]
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, 25)
    encoder.framerate = 25
    encoder.options = {"bf": "1", "g": str(gop)}
    packets: list[bytes] = []
    for number, image in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = number
        packets += [bytes(packet) for packet in encoder.encode(frame)]
    return packets + [bytes(packet) for packet in encoder.encode(None)]


def _pack_b_frames(packets: list[bytes]) -> list[bytes]:
    """Each reference packet followed by a B-frame becomes ``reference + B``, then an N-VOP placeholder."""
    packed: list[bytes] = []
    position = 0
    while position < len(packets):
        if position + 1 < len(packets) and _vop_type(packets[position + 1]) == 2:
            packed += [packets[position] + packets[position + 1], N_VOP]
            position += 2
        else:
            packed.append(packets[position])
            position += 1
    return packed


def cut_short(source: Path, path: Path, fraction: float = 0.4) -> Path:
    """A partial download of ``source``: the MP4 with its index (``moov``) moved to the front, as
    ``movflags=faststart`` writes it, then only the first ``fraction`` of the bytes kept. The header still promises
    every frame; only those whose data arrived can be read."""
    data = faststart(source.read_bytes())
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _atoms(data: bytes | bytearray, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """``(type, offset, size)`` of the MP4 atoms between ``start`` and ``end``."""
    position, end = start, len(data) if end is None else end
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        size = struct.unpack(">Q", data[position + 8 : position + 16])[0] if size == 1 else size or end - position
        yield kind, position, size
        position += size


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, shift: int) -> None:
    """Add ``shift`` to every chunk offset (``stco``, ``co64``) in the atoms of ``moov[start:end]``."""
    for kind, offset, size in _atoms(moov, start, end):
        if kind in (b"trak", b"mdia", b"minf", b"stbl"):
            _shift_chunk_offsets(moov, offset + 8, offset + size, shift)
        elif kind in (b"stco", b"co64"):
            width, form = (4, ">I") if kind == b"stco" else (8, ">Q")
            (count,) = struct.unpack(">I", moov[offset + 12 : offset + 16])
            for entry in range(offset + 16, offset + 16 + count * width, width):
                (value,) = struct.unpack(form, moov[entry : entry + width])
                moov[entry : entry + width] = struct.pack(form, value + shift)


def faststart(data: bytes) -> bytes:
    """The MP4 ``data`` with ``moov`` moved before ``mdat`` and the chunk offsets moved with the data, what
    ``movflags=faststart`` does (PyAV 14 cannot remux a stream into a new file, so the tests do it on the bytes)."""
    atoms = list(_atoms(data))
    (moov_at, moov_size) = next((offset, size) for kind, offset, size in atoms if kind == b"moov")
    mdat_at = next(offset for kind, offset, _ in atoms if kind == b"mdat")
    if moov_at < mdat_at:
        return data
    moov = bytearray(data[moov_at : moov_at + moov_size])
    _shift_chunk_offsets(moov, 8, len(moov), moov_size)
    pieces = [bytes(moov) + data[offset : offset + size] if kind == b"mdat" else data[offset : offset + size]
              for kind, offset, size in atoms if kind != b"moov"]  # fmt: skip
    return b"".join(pieces)
