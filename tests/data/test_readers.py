import av
import numpy as np
import pytest
import torch
from media import decode_all, moving_frames, write_video

from videoshift.data.readers import (
    BACKENDS,
    PyAVReader,
    RawFrameReader,
    VideoReadError,
    available_backends,
    count_frames,
    get_reader,
    read_frames,
)

REAL_VIDEOS = ["videos/demo.mp4", "videos/test.mp4", "videos/part_0.mp4", "videos_derived/demo_3s_vp9.webm"]


@pytest.fixture(scope="module")
def references(real_data):
    return {name: decode_all(real_data / name) for name in REAL_VIDEOS}


@pytest.mark.parametrize("name", REAL_VIDEOS)
def test_real_videos_match_sequential_decoding(real_data, references, name):
    reference = references[name]
    path = real_data / name
    assert count_frames(path) == len(reference)
    rng = np.random.default_rng(0)
    cases = [np.arange(len(reference)), np.array([len(reference) - 1, 0, 5, 5])]
    cases += [np.sort(rng.integers(0, len(reference), size=8)) for _ in range(4)]
    cases += [rng.integers(0, len(reference), size=8)]  # unsorted, repeats allowed
    for indices in cases:
        out = read_frames(path, indices)
        assert out.dtype == torch.uint8 and out.shape == (len(indices), *reference.shape[1:])
        assert np.array_equal(out.numpy(), reference[indices]), indices


def test_webm_frame_count_does_not_trust_header(real_data):
    path = real_data / "videos_derived/demo_3s_vp9.webm"
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 0  # the header says nothing
    assert count_frames(path) == 84


def test_lossless_video_decodes_to_written_frames(lossless_video):
    path, frames = lossless_video
    with av.open(str(path)) as container:
        keyframes = sum(p.is_keyframe for p in container.demux(video=0) if p.size)
    assert 1 < keyframes < len(frames)  # seeking has real keyframes to use and frames between them
    assert count_frames(path) == len(frames)
    rng = np.random.default_rng(3)
    for indices in [np.arange(len(frames)), np.array([59]), np.array([7, 8, 9, 40]), rng.integers(0, 60, 8)]:
        assert np.array_equal(read_frames(path, indices).numpy(), frames[indices])


@pytest.mark.parametrize("seek", [True, False])
@pytest.mark.parametrize("thread_type", ["AUTO", "NONE"])
def test_reader_settings_give_same_frames(lossless_video, seek, thread_type):
    path, frames = lossless_video
    reader = PyAVReader(thread_type=thread_type, seek=seek)
    indices = np.array([3, 17, 18, 33, 50, 58])
    assert np.array_equal(reader.read(path, indices).numpy(), frames[indices])


def test_ffv1_mkv_lossless(tmp_path):
    frames = moving_frames(12, seed=1)
    path = write_video(tmp_path / "v.mkv", frames, codec="ffv1")
    assert count_frames(path) == 12
    assert np.array_equal(read_frames(path, [11, 0, 6]).numpy(), frames[[11, 0, 6]])


def test_stream_without_timestamps_is_numbered_by_decoding(tmp_path):
    frames = moving_frames(20, seed=2)
    path = write_video(tmp_path / "raw.h264", frames, fmt="h264")  # Annex B elementary stream: no pts at all
    with av.open(str(path)) as container:
        assert all(p.pts is None for p in container.demux(video=0))
    assert count_frames(path) == 20
    assert np.array_equal(read_frames(path, [19, 3, 0, 3]).numpy(), frames[[19, 3, 0, 3]])


def _zero_frame_video(folder):
    """An MP4 whose encoder never received a frame (FFmpeg then writes no video track)."""
    path = folder / "zero.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 32
        container.start_encoding()
    return path


def _write(folder, name, data: bytes):
    (folder / name).write_bytes(data)
    return folder / name


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d, s: s / "videos_derived/demo_truncated40.mp4", "cannot open"),
        (lambda d, s: d / "missing.mp4", "no such file"),
        (lambda d, s: _write(d, "empty.mp4", b""), "empty file"),
        (lambda d, s: _write(d, "text.mp4", b"not a video"), "cannot open"),
        (lambda d, s: _zero_frame_video(d), "no video stream"),
    ],
    ids=["truncated", "missing", "empty", "not-video", "zero-frames"],
)
def test_bad_files_raise_one_error_type(real_data, tmp_path, make, message):
    path = make(tmp_path, real_data)
    with pytest.raises(VideoReadError, match=message) as info:
        read_frames(path, [0])
    assert str(path) in str(info.value)
    with pytest.raises(VideoReadError):
        count_frames(path)


def test_corrupt_mdat_fails_inside_damage_only(real_data, references):
    path = real_data / "videos_derived/demo_corrupt_mdat.mp4"
    assert count_frames(path) == 280  # packets are all there, the data of some is zeroed
    # before the damage, and from the next keyframe (187) on, frames decode exactly like the intact file
    intact = references["videos/demo.mp4"]
    assert np.array_equal(read_frames(path, [0, 100, 129]).numpy(), intact[[0, 100, 129]])
    assert np.array_equal(read_frames(path, [200, 279]).numpy(), intact[[200, 279]])
    # both passes fail: the message names the file, the frames and FFmpeg's error
    expected = r"demo_corrupt_mdat.mp4: frames \[150\] could not be decoded \(.*: decoding failed \(.*Invalid data"
    with pytest.raises(VideoReadError, match=expected):
        read_frames(path, [150])
    assert isinstance(VideoReadError("x"), ValueError)


def test_out_of_range_indices(real_data):
    with pytest.raises(VideoReadError, match=r"outside \[0, 32\)"):
        read_frames(real_data / "videos/part_0.mp4", [0, 32])
    with pytest.raises(ValueError, match=r"indices"):
        read_frames(real_data / "videos/part_0.mp4", [])


def test_rawframe_reader(real_data):
    from PIL import Image

    folder = real_data / "rawframes/imgs"
    reader = RawFrameReader("img_{:05d}.jpg", start_index=1)
    assert reader.count_frames(folder) == 10
    out = reader.read(folder, [1, 10, 4])
    for row, number in zip(out, [1, 10, 4], strict=True):
        expected = np.asarray(Image.open(folder / f"img_{number:05d}.jpg").convert("RGB"))
        assert np.array_equal(row.numpy(), expected)
    assert out.shape == (3, 240, 320, 3)
    grey = RawFrameReader("x_{:05d}.jpg").read(folder, [1])  # 1-channel flow image comes out as RGB
    assert grey.shape == (1, 240, 320, 3) and torch.equal(grey[..., 0], grey[..., 2])
    with pytest.raises(VideoReadError, match=r"img_00011.jpg"):
        reader.read(folder, [11])
    with pytest.raises(VideoReadError, match=r"no such frame folder"):
        reader.count_frames(folder / "nope")


def test_backend_selection():
    assert "pyav" in available_backends()
    assert set(available_backends()) <= set(BACKENDS)
    with pytest.raises(ValueError, match=r"backend must be one of"):
        get_reader("opencv")
    for name in set(BACKENDS) - set(available_backends()):
        with pytest.raises(ValueError, match=r"not installed"):
            get_reader(name)


@pytest.mark.parametrize("backend", sorted(set(BACKENDS) - {"pyav"}))
def test_optional_backends_agree_with_pyav(lossless_video, backend):
    if backend not in available_backends():
        pytest.skip(f"{backend} is not installed")
    path, frames = lossless_video
    reader = get_reader(backend)
    assert reader.count_frames(path) == len(frames)
    assert np.array_equal(reader.read(path, [0, 9, 33]).numpy(), frames[[0, 9, 33]])


@pytest.mark.parametrize("name", REAL_VIDEOS)
def test_torchcodec_matches_sequential_decoding_on_real_videos(real_data, references, name):
    try:
        reader = get_reader("torchcodec")
    except ValueError as error:
        pytest.skip(str(error))
    reference, path = references[name], real_data / name
    assert reader.count_frames(path) == len(reference)
    rng = np.random.default_rng(1)
    for indices in [np.arange(len(reference)), rng.integers(0, len(reference), size=8)]:
        assert np.array_equal(reader.read(path, indices).numpy(), reference[indices]), indices
