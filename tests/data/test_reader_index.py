"""The reader's bookkeeping by hand: the timestamp index, keyframe lookup, decoding runs, raw-frame folders, and
that the default reader really seeks and skips (the outputs would be equal without; only the time would not)."""

from __future__ import annotations

import shutil

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


def test_default_reader_seeks_to_the_keyframe_and_skips_first(lossless_video, monkeypatch):
    """Frame 59 of 60 (keyframes every 8) is read from the keyframe before it, in one skipping pass."""
    path, frames = lossless_video
    index = frame_index(path)
    starts, passes = [], []
    packets_from, decode_timestamped = readers._packets_from, PyAVReader._decode_timestamped

    def spy_packets(container, stream, index, keyframe):
        packets = packets_from(container, stream, index, keyframe)
        first = next(packets)
        starts.append((keyframe, first.pts))
        yield first
        yield from packets

    def spy_pass(self, path, index, wanted, skip):
        passes.append(skip)
        return decode_timestamped(self, path, index, wanted, skip)

    monkeypatch.setattr(readers, "_packets_from", spy_packets)
    monkeypatch.setattr(PyAVReader, "_decode_timestamped", spy_pass)
    assert np.array_equal(PyAVReader().read(path, [59]).numpy(), frames[[59]])
    keyframe = index.keyframe_before(59)
    assert keyframe > 0 and starts == [(keyframe, int(index.pts[keyframe]))] and passes == [True]


def test_timestamped_video_with_an_audio_track(lossless_video, tmp_path):
    """Copying the lossless video's packets next to an audio track: the reader reads the video stream only."""
    import av

    source, frames = lossless_video
    path = tmp_path / "with_audio.mkv"
    with av.open(str(source)) as src, av.open(str(path), "w") as dst:
        audio = dst.add_stream("pcm_s16le", rate=8000, layout="mono")
        video = dst.add_stream_from_template(src.streams.video[0])
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 320), np.int16), format="s16", layout="mono")
        samples.sample_rate = 8000
        for i, packet in enumerate(src.demux(video=0)):
            if packet.size:
                samples.pts = i * 320
                dst.mux(audio.encode(samples))
                packet.stream = video
                dst.mux(packet)
        dst.mux(audio.encode())
    assert frame_index(path).num_frames == len(frames) == readers.count_frames(path)
    for indices in ([59, 0, 30], list(range(len(frames)))):
        assert np.array_equal(readers.read_frames(path, indices).numpy(), frames[indices])
    assert np.array_equal(PyAVReader(seek=False).read(path, [59]).numpy(), frames[[59]])


def test_counted_video_with_an_audio_track(tmp_path):
    """A container without timestamps (AVI) numbers frames by decoding the video stream, never the audio."""
    import av
    from media import moving_frames

    frames = moving_frames(20)
    path = tmp_path / "with_audio.avi"
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
    assert frame_index(path) is None and readers.count_frames(path) == 20
    assert np.array_equal(readers.read_frames(path, [19, 0, 7]).numpy(), frames[[19, 0, 7]])
    with pytest.raises(VideoReadError, match=r"with_audio.avi: frame indices \[20\] outside \[0, 20\)"):
        readers.read_frames(path, [20])


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
