import pytest

from videoshift.data.annotations import Sample, parse_line, read_list, write_list
from videoshift.data.label_maps import (
    SSV1_FLIP_PAIRS,
    SSV2_FLIP_PAIRS,
    flip_label_map,
    flip_pairs_from_names,
    read_label_map,
)


def test_shared_lists(real_data):
    ann = real_data / "annotations"
    assert [(s.path, s.labels, s.line) for s in read_list(ann / "video_test_list.txt")] == [
        ("test.mp4", (0,), 1),
        ("test.mp4", (0,), 2),
    ]
    assert [s.labels for s in read_list(ann / "video_test_list_multi_label.txt")] == [(0, 3), (0, 2, 4)]
    raw = read_list(ann / "rawframe_test_list.txt", rawframes=True)
    assert raw[0] == Sample("imgs", (127,), total_frames=5, offset=0, line=1)
    assert [s.labels for s in read_list(ann / "rawframe_test_list_multi_label.txt", rawframes=True)] == [(1,), (3, 5)]
    offset = read_list(ann / "rawframe_test_list_with_offset.txt", rawframes=True, with_offset=True)
    assert offset[1] == Sample("imgs", (127,), total_frames=5, offset=2, line=2)


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("clip.mp4", {}, "expected 'path label...'"),
        ("clip.mp4 x", {}, "labels must be integers"),
        ("clip.mp4 -1", {}, "must be >= 0"),
        ("imgs 5", {"rawframes": True}, "expected 'frame_dir"),
        ("imgs five 3", {"rawframes": True}, "offset/total_frames must be integers"),
        ("imgs 5 3", {"rawframes": True, "with_offset": True}, "expected 'frame_dir"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, text, kwargs, message):
    path = tmp_path / "list.txt"
    path.write_text(f"good.mp4 1\n\n{text}\n") if not kwargs else path.write_text(f"imgs 1 2 3 4\n\n{text}\n")
    with pytest.raises(ValueError, match=f"{path}:3: .*{message}"):
        read_list(path, **kwargs)


def test_label_range_and_round_trip(tmp_path):
    samples = [Sample("a/b.mp4", (3,)), Sample("c.mp4", (0, 2))]
    path = write_list(tmp_path / "sub/list.txt", samples)
    assert path.read_text() == "a/b.mp4 3\nc.mp4 0 2\n"
    assert [s.labels for s in read_list(path)] == [(3,), (0, 2)]
    with pytest.raises(ValueError, match=r"list.txt:1: label 3 out of range for num_classes=3"):
        read_list(path, num_classes=3)
    frames = [Sample("imgs", (4,), total_frames=9, offset=2)]
    path = write_list(tmp_path / "raw.txt", frames, rawframes=True, with_offset=True)
    assert path.read_text() == "imgs 2 9 4\n"
    assert read_list(path, rawframes=True, with_offset=True)[0].offset == 2
    assert parse_line("x 7", rawframes=False).labels == (7,)


def test_shared_label_maps(real_data):
    maps = real_data / "label_maps"
    sizes = {"kinetics400": 400, "sthv1": 174, "sthv2": 174, "diving48": 48, "ucf101": 101, "hmdb51": 51}
    for name, size in sizes.items():
        assert len(read_label_map(maps / f"{name}_label_map.txt")) == size
    assert read_label_map(maps / "kinetics400_label_map.txt")[6] == "arm wrestling"
    assert read_label_map(maps / "sthv2_label_map.txt")[0] == "Approaching something with your camera"
    assert read_label_map(maps / "sthv1_label_map.txt")[0] == "Holding something"


def test_flip_pairs_from_names_match_mmaction2(real_data):
    # the names alone give MMAction2's hard-coded flip_label_map of both Something-Something versions
    v2 = read_label_map(real_data / "label_maps/sthv2_label_map.txt")
    v1 = read_label_map(real_data / "label_maps/sthv1_label_map.txt")
    assert flip_pairs_from_names(v2) == SSV2_FLIP_PAIRS == ((86, 87), (93, 94), (166, 167))
    assert flip_pairs_from_names(v1) == SSV1_FLIP_PAIRS == ((2, 4), (30, 41), (52, 66))
    assert (
        v2[86] == "Pulling something from left to right" and v1[4] == "Turning the camera right while filming something"
    )
    assert {v1.index(v2[i]) for pair in SSV2_FLIP_PAIRS for i in pair} == {i for p in SSV1_FLIP_PAIRS for i in p}
    assert flip_pairs_from_names(read_label_map(real_data / "label_maps/kinetics400_label_map.txt")) == ()
    # Jester: "Swiping Left"/"Swiping Right", "... Fingers Left/Right", "Turning Hand Clockwise/Counterclockwise"
    assert flip_pairs_from_names(read_label_map(real_data / "label_maps/jester_label_map.txt")) == (
        (0, 1),
        (6, 7),
        (14, 15),
    )


def test_flip_label_map():
    assert flip_label_map([(1, 2)]) == {1: 2, 2: 1}
    assert flip_label_map({86: 87, 87: 86}) == {86: 87, 87: 86}
    assert flip_label_map(None) == {}
    with pytest.raises(ValueError, match=r"paired with both"):
        flip_label_map([(1, 2), (1, 3)])


def test_label_map_errors(tmp_path):
    (tmp_path / "m.txt").write_text("a\n\nb\n")
    with pytest.raises(ValueError, match=r"m.txt:2: empty class name"):
        read_label_map(tmp_path / "m.txt")
    (tmp_path / "d.txt").write_text("a\na\n")
    with pytest.raises(ValueError, match=r"duplicate"):
        read_label_map(tmp_path / "d.txt")
