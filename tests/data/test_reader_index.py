"""The reader's bookkeeping by hand: the timestamp index, keyframe lookup, decoding runs, raw-frame folders, and
that the default reader really seeks and skips (the outputs would be equal without; only the time would not)."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from videoshift.data import readers
from videoshift.data.readers import FrameIndex, PyAVReader, RawFrameReader, VideoReadError, frame_index, get_reader

# Keyframes 0, 12, 24 of 36 frames; seek targets are decode timestamps (2 before each pts, as B-frames make them).
INDEX = FrameIndex(
    pts=np.arange(36, dtype=np.int64),
    keyframes=np.array([0, 12, 24]),
    seek_targets=np.array([-2, 10, 22]),
    num_frames=36,
)


def test_keyframe_before_by_hand():
    assert [INDEX.keyframe_before(f) for f in (0, 1, 11, 12, 13, 23, 24, 35)] == [0, 0, 0, 12, 12, 12, 24, 24]
    late = FrameIndex(np.arange(20), np.array([3, 12]), np.array([3, 12]), 20)  # first keyframe after frame 0
    assert [late.keyframe_before(f) for f in (0, 2, 3, 11, 12, 19)] == [0, 0, 3, 3, 12, 12]


def test_seek_target_by_hand():
    assert [INDEX.seek_target(k) for k in (0, 12, 24)] == [-2, 10, 22]
    assert INDEX.seek_target(5) == 5 and INDEX.seek_target(30) == 30  # not a keyframe: its own pts


def test_decoding_runs_by_hand():
    runs = readers._spans(INDEX, np.array([1, 2, 13, 30, 31]), seek=True)
    assert [(start, frames.tolist()) for start, frames in runs] == [(0, [1, 2]), (12, [13]), (24, [30, 31])]
    # Frame 12's keyframe is 12, right after wanted frame 11: decoding on is cheaper than seeking.
    runs = readers._spans(INDEX, np.array([11, 12, 13, 25]), seek=True)
    assert [(start, frames.tolist()) for start, frames in runs] == [(0, [11, 12, 13]), (24, [25])]
    # Frame 12 two frames after wanted frame 10: seeking to keyframe 12 beats decoding frame 11.
    runs = readers._spans(INDEX, np.array([10, 12]), seek=True)
    assert [(start, frames.tolist()) for start, frames in runs] == [(0, [10]), (12, [12])]
    runs = readers._spans(INDEX, np.array([1, 30]), seek=False)
    assert [(start, frames.tolist()) for start, frames in runs] == [(0, [1, 30])]


def test_timestamp_index_by_hand():
    # Decode order with B-frames: (pts, dts, keyframe) per packet.
    entries = [(0, -2, True), (3, -1, False), (1, 0, False), (2, 1, False), (4, 2, True), (6, 3, False), (5, 4, False)]
    index = readers._timestamp_index(entries, seek_by_dts=False)
    assert index.pts.tolist() == list(range(7)) and index.num_frames == 7
    assert index.keyframes.tolist() == [0, 4] and index.seek_targets.tolist() == [0, 4]
    by_dts = readers._timestamp_index(entries, seek_by_dts=True)
    assert by_dts.keyframes.tolist() == [0, 4] and by_dts.seek_targets.tolist() == [-2, 2]
    no_dts = readers._timestamp_index([(0, None, True), (1, 0, False), (2, 1, True)], seek_by_dts=True)
    assert no_dts.seek_targets.tolist() == [0, 1]  # a keyframe without dts is sought by its pts
    assert readers._timestamp_index([(0, 0, True), (None, 1, False)], seek_by_dts=False) is None
    assert readers._timestamp_index([(0, 0, True), (1, 1, False), (1, 2, False)], seek_by_dts=False) is None


def test_reader_defaults():
    """Decoder threads chosen by FFmpeg, seeking on; raw frames named as MMAction2 extracts them, from 1."""
    reader = PyAVReader()
    assert (reader.threads, reader.thread_type, reader.seek) == (0, "AUTO", True)
    raw = RawFrameReader()
    assert (raw.filename_tmpl, raw.start_index) == ("img_{:05d}.jpg", 1)


def _frame_folder(folder, numbers, size=(8, 6)):
    folder.mkdir()
    for number in numbers:
        Image.new("RGB", size, (number, 0, 0)).save(folder / f"img_{number:05d}.png")
    return folder


def test_rawframe_counting_by_hand(real_data, tmp_path):
    assert RawFrameReader().count_frames(real_data / "rawframes/imgs") == 10
    reader = RawFrameReader("img_{:05d}.png")
    assert reader.count_frames(_frame_folder(tmp_path / "one", [1])) == 1
    assert reader.count_frames(_frame_folder(tmp_path / "three", [1, 2, 3, 5])) == 3  # stops at the first gap
    assert RawFrameReader("img_{:05d}.png", start_index=0).count_frames(_frame_folder(tmp_path / "zero", [0, 1])) == 2
    late = _frame_folder(tmp_path / "late", [2, 3])
    with pytest.raises(VideoReadError, match=r"late: no frame img_00001.png"):
        reader.count_frames(late)


def test_rawframes_of_different_sizes_are_named(tmp_path):
    folder = _frame_folder(tmp_path / "mixed", [1])
    Image.new("RGB", (4, 4)).save(folder / "img_00002.png")
    with pytest.raises(VideoReadError, match=r"mixed: frames differ in size"):
        RawFrameReader("img_{:05d}.png").read(folder, [1, 2])
    assert RawFrameReader("img_{:05d}.png").read(folder, [1, 1]).shape == (2, 6, 8, 3)


class _CountingLookup(dict):
    """A pts → frame map that counts lookups: one per frame the decoder outputs."""

    lookups = 0

    def __contains__(self, pts) -> bool:
        self.lookups += 1
        return super().__contains__(pts)


@pytest.fixture
def watch(monkeypatch):
    """Records, per read: where each seek started (keyframe, first packet pts), the skip flag of each decoding
    pass, frames converted to RGB and whether the reader fell back to counting frames."""
    seen = {"starts": [], "passes": [], "converted": 0, "counting": 0}
    packets_from, decode_timestamped = readers._packets_from, PyAVReader._decode_timestamped
    read_counting, to_rgb = PyAVReader._read_counting, readers.to_rgb

    def spy_packets(container, stream, index, keyframe):
        packets = packets_from(container, stream, index, keyframe)
        first = next(packets)
        seen["starts"].append((keyframe, first.pts))
        yield first
        yield from packets

    def spy_pass(self, path, index, wanted, skip):
        seen["passes"].append(skip)
        return decode_timestamped(self, path, index, wanted, skip)

    def spy_counting(self, path, wanted):
        seen["counting"] += 1
        return read_counting(self, path, wanted)

    def spy_rgb(frame):
        seen["converted"] += 1
        return to_rgb(frame)

    monkeypatch.setattr(readers, "_packets_from", spy_packets)
    monkeypatch.setattr(PyAVReader, "_decode_timestamped", spy_pass)
    monkeypatch.setattr(PyAVReader, "_read_counting", spy_counting)
    monkeypatch.setattr(readers, "to_rgb", spy_rgb)
    return seen


def test_default_reader_seeks_to_the_keyframe_and_skips_first(lossless_video, watch):
    """Frame 59 of 60 (keyframes every 8) is read from the keyframe before it, in one skipping pass."""
    path, frames = lossless_video
    index = frame_index(path)
    assert np.array_equal(PyAVReader().read(path, [59, 59]).numpy(), frames[[59, 59]])
    keyframe = index.keyframe_before(59)
    assert keyframe > 0 and watch["starts"] == [(keyframe, int(index.pts[keyframe]))] and watch["passes"] == [True]
    assert watch["converted"] == 1 and watch["counting"] == 0  # only the wanted frame becomes RGB


@pytest.mark.parametrize("seek", [True, False])
def test_skipping_pass_decodes_fewer_frames(tmp_path, monkeypatch, watch, seek):
    """Unwanted non-reference frames (B-frames) are not decoded in the first pass; wanted ones, B-frames too, are."""
    from media import decode_all, encode_video, moving_frames

    options = {"bf": "2", "g": "8", "keyint_min": "8", "sc_threshold": "0", "x264-params": "b-pyramid=none"}
    path = encode_video(tmp_path / "b-frames.mp4", moving_frames(40), "libx264", options=options)
    reference, index = decode_all(path), frame_index(path)
    lookup = _CountingLookup(index.frame_of_pts)
    monkeypatch.setitem(index.__dict__, "frame_of_pts", lookup)
    import av

    with av.open(str(path)) as container:
        b_frame = next(
            i for i, f in enumerate(container.decode(video=0)) if f.pict_type == av.video.frame.PictureType.B
        )
    wanted = [b_frame, 13, 26, 39]  # a wanted B-frame must not be skipped
    reader = PyAVReader(seek=seek)
    assert np.array_equal(reader.read(path, wanted).numpy(), reference[wanted])
    assert watch["passes"] == [True]  # no wanted frame was skipped: one pass
    skipping, lookup.lookups = lookup.lookups, 0
    unskipped = reader._decode_timestamped(path, index, np.array(wanted), False)
    assert np.array_equal(unskipped[39], reference[39])
    assert skipping < lookup.lookups  # every frame of each run decoded without skipping
    if not seek:
        assert lookup.lookups == 40 and skipping < 30  # a third of the frames up to 39 are non-reference


def test_frames_the_index_does_not_know_are_numbered_by_counting(lossless_video, monkeypatch, watch):
    """A decoded frame whose timestamp is not in the packet index: the read falls back to counting frames."""
    path, frames = lossless_video
    index = frame_index(path)
    shifted = FrameIndex(index.pts + 10_000, index.keyframes, index.seek_targets, index.num_frames)
    monkeypatch.setattr(readers, "frame_index", lambda p: shifted)
    assert np.array_equal(PyAVReader(seek=False).read(path, [3, 1]).numpy(), frames[[3, 1]])
    assert watch["counting"] == 1


def test_frames_still_missing_after_both_passes_are_listed(lossless_video, monkeypatch):
    path, _ = lossless_video
    monkeypatch.setattr(PyAVReader, "_decode_timestamped", lambda self, path, index, wanted, skip: {})
    expected = (
        r"x264rgb.mp4: frames \[0, 1, 2, 3, 4, 5, 6, 7\] could not be decoded \(stream ends early or is corrupt\)$"
    )
    with pytest.raises(VideoReadError, match=expected):
        PyAVReader().read(path, list(range(10)))

    def failing(self, path, index, wanted, skip):
        raise VideoReadError("decoder said no")

    monkeypatch.setattr(PyAVReader, "_decode_timestamped", failing)
    with pytest.raises(VideoReadError, match=r"x264rgb.mp4: frames \[4\] could not be decoded \(decoder said no\)$"):
        PyAVReader().read(path, [4])


class _Packet:
    def __init__(self, pts, is_keyframe):
        self.pts, self.is_keyframe = pts, is_keyframe


class _Container:
    """Lands a seek on given packets and records how it was asked."""

    def __init__(self, packets):
        self.packets, self.calls = packets, []

    def seek(self, target, **options):
        self.calls.append(("seek", target, options))

    def demux(self, stream):
        self.calls.append(("demux", stream))
        return iter(self.packets)


@pytest.mark.parametrize(
    "landing, lands",
    [
        ([_Packet(12, True), _Packet(15, False)], True),  # on the keyframe
        ([_Packet(0, True), _Packet(3, False)], True),  # on an earlier keyframe: decoding on reaches it
        ([_Packet(13, False), _Packet(14, False)], False),  # one packet late (MPEG-TS searched by pts)
        ([_Packet(10, False)], False),  # on a B-frame before it: not decodable on its own
        ([_Packet(24, True)], False),  # on a later keyframe
        ([_Packet(None, True)], False),
        ([], False),
    ],
)
def test_seek_lands_on_a_keyframe_at_or_before_or_falls_back(landing, lands):
    container, stream = _Container(landing), object()
    packets = readers._packets_from(container, stream, INDEX, 12)
    if lands:
        assert [p.pts for p in packets] == [p.pts for p in landing]
    else:
        with pytest.raises(readers._SeekOvershot):
            list(packets)
    (_, target, options), demux = container.calls
    assert target == 10 and options["stream"] is stream and demux == ("demux", stream)  # the video stream only
    assert options.get("backward", True) and not options.get("any_frame", False)  # a keyframe at or before


def test_rgb_conversion_keeps_one_single_threaded_converter_per_thread(lossless_video):
    import av

    path, frames = lossless_video
    with av.open(str(path)) as container:
        decoded = [frame for _, frame in zip(range(2), container.decode(video=0), strict=False)]
    first = readers.to_rgb(decoded[0])
    converter = readers._CONVERTERS.reformatter
    calls = []

    class Recording:
        def reformat(self, frame, **options):
            calls.append(options)
            return converter.reformat(frame, **options)

    readers._CONVERTERS.reformatter = Recording()
    try:
        assert np.array_equal(readers.to_rgb(decoded[1]), frames[1]) and np.array_equal(first, frames[0])
    finally:
        readers._CONVERTERS.reformatter = converter
    single = {"threads": 1} if int(av.__version__.split(".")[0]) >= 17 else {}
    assert calls == [{"format": "rgb24", **single}]
    readers.to_rgb(decoded[0])
    assert readers._CONVERTERS.reformatter is converter  # reused, not rebuilt per frame


def _video_with_audio(path, frames):
    """Lossless FFV1 video after a PCM audio track (stream 0), packets interleaved as cameras write them."""
    import av

    with av.open(str(path), "w") as container:
        audio = container.add_stream("pcm_s16le", rate=8000, layout="mono")
        video = container.add_stream("ffv1", rate=25)
        video.pix_fmt, (video.height, video.width) = "bgr0", frames.shape[1:3]
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 320), np.int16), format="s16", layout="mono")
        samples.sample_rate = 8000
        for i, image in enumerate(frames):
            samples.pts = i * 320
            container.mux(audio.encode(samples))
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(audio.encode())
        container.mux(video.encode())
    return path


def test_timestamped_video_with_an_audio_track(tmp_path, watch):
    """Matroska stores timestamps: frames of the video stream only are indexed, sought and decoded."""
    from media import moving_frames

    frames = moving_frames(20)
    path = _video_with_audio(tmp_path / "with_audio.mkv", frames)
    assert frame_index(path).num_frames == len(frames) == readers.count_frames(path)
    for indices in ([19, 0, 10], list(range(len(frames)))):
        assert np.array_equal(readers.read_frames(path, indices).numpy(), frames[indices])
    assert np.array_equal(PyAVReader(seek=False).read(path, [0, 19]).numpy(), frames[[0, 19]])
    assert watch["counting"] == 0 and len(watch["starts"]) > 1  # timestamps and seeking served every read


def test_counted_video_with_an_audio_track(tmp_path):
    """AVI stores no timestamps: frames are numbered by decoding the video stream, never the audio."""
    from media import moving_frames

    frames = moving_frames(20)
    path = _video_with_audio(tmp_path / "with_audio.avi", frames)
    assert frame_index(path) is None and readers.count_frames(path) == 20
    assert np.array_equal(readers.read_frames(path, [19, 0, 7]).numpy(), frames[[19, 0, 7]])
    with pytest.raises(VideoReadError, match=r"with_audio.avi: frame indices \[20\] outside \[0, 20\)"):
        readers.read_frames(path, [20])


def test_bad_indices_are_named(real_data):
    path = real_data / "videos/part_0.mp4"
    with pytest.raises(VideoReadError, match=r"part_0.mp4: frame indices \[3, -1\] include negative ones$"):
        readers.read_frames(path, [3, -1])
    for indices in ([1.5], [[0, 1]], np.array([], dtype=np.int64)):
        with pytest.raises(ValueError, match=r"^indices must be a non-empty 1-D sequence of ints, got array"):
            readers.read_frames(path, indices)


def test_a_folder_is_not_a_video(tmp_path):
    with pytest.raises(VideoReadError, match=rf"{tmp_path}: not a file"):
        readers.read_frames(tmp_path, [0])


def test_backend_default_and_load_errors(monkeypatch):
    assert isinstance(get_reader(), PyAVReader)

    class Unloadable(PyAVReader):
        def __init__(self):
            raise OSError("libavcodec.so: cannot open shared object file")

    monkeypatch.setattr(readers, "available_backends", lambda: ["pyav"])
    with pytest.raises(ValueError, match=r"^backend 'decord' needs the 'decord' package, which is not installed$"):
        get_reader("decord")
    monkeypatch.setitem(readers.BACKENDS, "pyav", (Unloadable, "av"))
    with pytest.raises(ValueError, match=r"backend 'pyav' cannot be loaded \(libavcodec.so: cannot open"):
        get_reader("pyav")


def test_torchcodec_gets_every_setting(lossless_video, monkeypatch):
    """Exact seeking, frames as (T, H, W, C), and the reader's threads and device reach the decoder."""
    try:
        reader = get_reader("torchcodec")
    except ValueError as error:
        pytest.skip(str(error))
    assert (reader.threads, reader.device) == (0, "cpu")
    path, _ = lossless_video
    with pytest.raises(VideoReadError, match=r"x264rgb.mp4: decoding failed"):
        reader.read(path, [10_000])
    calls = []
    monkeypatch.setattr(reader, "_decoder_cls", lambda source, **options: calls.append((source, options)))
    reader.threads, reader.device = 3, "cuda:1"
    reader._open(path)
    expected = {"seek_mode": "exact", "num_ffmpeg_threads": 3, "device": "cuda:1", "dimension_order": "NHWC"}
    assert calls == [(str(path), expected)]


def test_decord_gets_every_setting(lossless_video, monkeypatch):
    try:
        reader = get_reader("decord")
    except ValueError as error:
        pytest.skip(str(error))
    assert reader.threads == 0
    path, frames = lossless_video
    assert np.array_equal(reader.read(path, [5, 1]).numpy(), frames[[5, 1]])
    with pytest.raises(VideoReadError, match=r"x264rgb.mp4: decoding failed"):
        reader.read(path, [10_000])
    calls = []
    monkeypatch.setattr(reader, "_decord", SimpleNamespace(VideoReader=lambda *a, **k: calls.append((a, k))))
    reader.threads = 3
    reader._open(path)
    assert calls == [((str(path),), {"num_threads": 3})]


@pytest.mark.parametrize("backend", ["torchcodec", "decord"])
def test_optional_backends_name_missing_and_empty_files(tmp_path, backend):
    try:
        reader = get_reader(backend)
    except ValueError as error:
        pytest.skip(str(error))
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name in ("missing.mp4", "empty.mp4"):
        with pytest.raises(VideoReadError, match=rf"{name}: missing or empty file"):
            reader.read(tmp_path / name, [0])
        with pytest.raises(VideoReadError, match=rf"{name}: missing or empty file"):
            reader.count_frames(tmp_path / name)
    shutil.copy(__file__, tmp_path / "text.mp4")
    with pytest.raises(VideoReadError, match=r"text.mp4: cannot open"):
        reader.read(tmp_path / "text.mp4", [0])
