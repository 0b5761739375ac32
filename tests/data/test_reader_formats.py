"""The PyAV reader is frame-exact on every common format: frame i is the i-th frame of a plain sequential decode.

Each video is written here by PyAV (small frames, short clips) and every frame the reader returns is compared with
``container.decode(video=0)`` of the same file, for index sets that read everything, seek across keyframes, repeat
and reorder frames, and the cases that failed in user reports.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media import decode_all, encode_video, moving_frames, write_packed_mpeg4_avi

from videoshift.data import readers
from videoshift.data.readers import PyAVReader, VideoReadError, count_frames, frame_index, get_reader, read_frames

GOP = {"g": "12"}
X264 = {"bf": "3", "g": "12", "keyint_min": "12", "sc_threshold": "0"}
X265 = {"x265-params": "keyint=12:min-keyint=12:bframes=3:log-level=none"}
ODD = (47, 63)  # height, width


def _frames(count: int = 40, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return moving_frames(count, *size)


def _encoded(codec: str, pix_fmt: str = "yuv420p", options=None, count: int = 40, size=(48, 64), **kwargs):
    """A writer of ``codec`` into the file it is given (container from the suffix)."""
    return [codec], lambda path: encode_video(path, _frames(count, size), codec, pix_fmt, options, **kwargs)


def _av1(path: Path) -> Path:
    """AV1 with the first AV1 encoder this FFmpeg has."""
    codec = next(name for name in AV1_ENCODERS if _has_encoder(name))
    options = {"preset": "12"} if codec == "libsvtav1" else {"cpu-used": "8"} if codec == "libaom-av1" else {}
    return encode_video(path, _frames(), codec, "yuv420p", {**GOP, **options})


AV1_ENCODERS = ["libsvtav1", "libaom-av1", "librav1e"]

# name -> (encoders needed (any one of them), writer); the suffix picks the container
FORMATS: dict[str, tuple[list[str], Callable[[Path], Path]]] = {
    # UCF101/HMDB51 style: MPEG-4 Part 2 in AVI with B-frames, unpacked and DivX-packed (170 frames: user indices)
    "mpeg4-bf2.avi": _encoded("mpeg4", options={"bf": "2", **GOP}, count=170),
    "mpeg4-packed.avi": (["mpeg4"], lambda path: write_packed_mpeg4_avi(path, _frames(170))),
    "h264-bf3.avi": _encoded("libx264", options=X264),
    "mjpeg-odd.avi": _encoded("mjpeg", "yuvj420p", size=ODD),
    "h264-open-gop.mp4": _encoded("libx264", options={**X264, "x264-params": "open-gop=1"}),
    "h264-bf3.mov": _encoded("libx264", options=X264),
    "h264-rotated.mp4": _encoded("libx264", options=X264, rotation=90),
    "h264-vfr.mp4": _encoded(
        "libx264",
        options=X264,
        pts=np.cumsum(np.random.default_rng(1).integers(15, 90, 40)),
        time_base=Fraction(1, 1000),
    ),
    "h264-offset-pts.mp4": _encoded("libx264", options=X264, pts=np.arange(40) + 250_000),
    # frames before pts 0 are cut by an edit list: FFmpeg marks their packets discarded and drops their frames
    "h264-edit-list.mp4": _encoded("libx264", options=X264, pts=np.arange(40) - 5),
    "h264-yuv420p10le.mp4": _encoded("libx264", "yuv420p10le", X264),
    "h264-yuv444p-odd.mkv": _encoded("libx264", "yuv444p", X264, size=ODD),
    "hevc-bf3.mp4": _encoded("libx265", options=X265),
    "hevc-yuv420p10le.mp4": _encoded("libx265", "yuv420p10le", X265),
    "vp8-alt-ref.mkv": _encoded("libvpx", options={**GOP, "auto-alt-ref": "1", "lag-in-frames": "10"}),
    "vp9.webm": _encoded("libvpx-vp9", options={**GOP, "lag-in-frames": "10"}),
    "vp9-yuv444p-odd.webm": _encoded("libvpx-vp9", "yuv444p", GOP, size=ODD),
    "av1.mkv": (AV1_ENCODERS, _av1),
    "mpeg2-bf2.ts": _encoded("mpeg2video", options={"bf": "2", **GOP}),
    "h264-bf3.ts": _encoded("libx264", options=X264),
    "animated.gif": _encoded("gif", "rgb8"),
}
TIMESTAMPED = (".mp4", ".mov", ".mkv", ".webm", ".ts")
# Where torchcodec 0.17 (measured with Debian's FFmpeg 5.1) does not return the frames of a sequential decode.
AVI_NUMBERING = "numbers frames by timestamps, which AVI does not store: other frames, or an error near the end"
OTHER_RGB = "the same frames, converted to RGB with other rounding"
TORCHCODEC_DIFFERS = {
    "mpeg4-bf2.avi": AVI_NUMBERING,
    "mpeg4-packed.avi": AVI_NUMBERING,
    "h264-bf3.avi": AVI_NUMBERING,
    "mjpeg-odd.avi": f"full-range YUV: {OTHER_RGB}",
    "h264-open-gop.mp4": "fails on the last frames (no more frames left to decode)",
    "h264-rotated.mp4": "returns the frames rotated for display",
    "h264-yuv420p10le.mp4": f"10-bit: {OTHER_RGB}",
    "hevc-yuv420p10le.mp4": f"10-bit: {OTHER_RGB}",
    "mpeg2-bf2.ts": "MPEG-TS: other frames, or an error",
    "h264-bf3.ts": "MPEG-TS: other frames, or an error",
}


def _has_encoder(name: str) -> bool:
    try:
        return av.codec.Codec(name, "w").type == "video"
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False


@pytest.fixture(scope="session")
def format_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("formats")


@pytest.fixture(scope="session")
def videos(format_dir) -> Callable[[str], tuple[Path, np.ndarray]]:
    """``videos(name)``: the written file and its sequential decode (written once per session)."""
    cache: dict[str, tuple[Path, np.ndarray]] = {}

    def get(name: str) -> tuple[Path, np.ndarray]:
        encoders, write = FORMATS[name]
        if not any(_has_encoder(encoder) for encoder in encoders):
            pytest.skip(f"this FFmpeg has no {' / '.join(encoders)} encoder")
        if "rotated" in name and not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
            pytest.skip(f"PyAV {av.__version__} cannot write display rotation (newer PyAV has set_display_rotation)")
        if name not in cache:
            path = write(format_dir / name)
            cache[name] = path, decode_all(path)
        return cache[name]

    return get


def index_sets(count: int) -> list[np.ndarray]:
    """All frames, sparse sorted sets across keyframes (every 12 frames), unsorted with repeats, the last frame,
    and the indices of the user reports (``count`` is at least 34)."""
    rng = np.random.default_rng(count)
    sets = [np.arange(count), np.array([0, 13, 26, count - 2]), np.array([11, 12, 33, count - 1])]
    sets += [np.sort(rng.choice(count, 6, replace=False)) for _ in range(2)]
    sets += [rng.integers(0, count, 10), np.array([count - 1, 0, 5, 5]), np.array([count - 1]), np.array([1, 20, 30])]
    if count > 163:
        sets.append(np.array([0, 1, 54, 82, 162, 163]))
    return sets


@pytest.mark.parametrize("name", FORMATS)
def test_every_frame_matches_sequential_decoding(videos, name):
    path, reference = videos(name)
    assert count_frames(path) == len(reference)
    for indices in index_sets(len(reference)):
        out = read_frames(path, indices).numpy()
        assert out.shape == (len(indices), *reference.shape[1:]) and np.array_equal(out, reference[indices]), indices
    unseeking = PyAVReader(seek=False, thread_type="NONE")
    indices = index_sets(len(reference))[-1]
    assert np.array_equal(unseeking.read(path, indices).numpy(), reference[indices])


@pytest.mark.parametrize("name", FORMATS)
def test_timestamps_are_used_only_where_containers_store_them(videos, name):
    path, _ = videos(name)
    assert (frame_index(path) is not None) == name.endswith(TIMESTAMPED)


def test_generated_files_have_the_properties_under_test(videos):
    """The writers produce what the format cases claim: packed placeholders, edit-list discards, rotation."""
    path, _ = videos("mpeg4-packed.avi")
    with av.open(str(path)) as container:
        assert sum(packet.size == 6 for packet in container.demux(video=0)) > 50  # N-VOP placeholders
    path, reference = videos("h264-edit-list.mp4")
    with av.open(str(path)) as container:
        assert sum(packet.is_discard for packet in container.demux(video=0)) == 5 and len(reference) == 35
    path, _ = videos("h264-rotated.mp4")
    with av.open(str(path)) as container:
        assert next(container.decode(video=0)).rotation != 0


def test_frames_lost_to_skipping_are_decoded_again(videos, monkeypatch):
    """A decoder that drops wanted frames while skipping costs a second pass, never a frame."""
    path, reference = videos("h264-open-gop.mp4")
    decode_run = readers._decode_run

    def lossy(stream, packets, index, start, run, skip):
        frames = decode_run(stream, packets, index, start, run, skip)
        return {frame: image for frame, image in frames.items() if not skip or frame % 2}

    monkeypatch.setattr(readers, "_decode_run", lossy)
    indices = np.array([2, 3, 20, 33])
    assert np.array_equal(read_frames(path, indices).numpy(), reference[indices])


def test_seek_landing_past_its_keyframe_falls_back_to_decoding_from_the_start(videos, monkeypatch):
    path, reference = videos("h264-bf3.ts")
    monkeypatch.setattr(readers.FrameIndex, "seek_target", lambda self, keyframe: int(self.pts[-1]))
    indices = np.array([30, 1, 20])
    assert np.array_equal(read_frames(path, indices).numpy(), reference[indices])


@pytest.mark.parametrize("name", FORMATS)
def test_torchcodec_is_frame_exact_outside_its_known_differences(videos, name):
    """The same check for the torchcodec reader; the formats where it is known to differ fail expectedly."""
    try:
        reader = get_reader("torchcodec")
    except ValueError as error:
        pytest.skip(str(error))
    path, reference = videos(name)
    try:
        exact = reader.count_frames(path) == len(reference) and all(
            np.array_equal(reader.read(path, indices).numpy(), reference[indices])
            for indices in index_sets(len(reference))
        )
    except VideoReadError:
        exact = False
    if not exact and name in TORCHCODEC_DIFFERS:
        pytest.xfail(TORCHCODEC_DIFFERS[name])
    assert exact
