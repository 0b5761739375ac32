import json

import pytest

from videoshift.cli import main
from videoshift.data.annotations import read_list
from videoshift.data.converters import convert_diving48, convert_kinetics400, convert_ssv1, convert_ssv2
from videoshift.data.label_maps import read_label_map


def write_json(path, value):
    path.write_text(json.dumps(value))
    return path


@pytest.fixture
def ssv2_files(tmp_path):
    labels = write_json(
        tmp_path / "labels.json", {"Pushing something from left to right": "1", "Holding something": "0"}
    )
    train = write_json(
        tmp_path / "train.json",
        [
            {"id": "78687", "label": "holding a cup", "template": "Holding [something]", "placeholders": ["a cup"]},
            {"id": "42", "label": "pushing pen", "template": "Pushing [something] from left to right"},
        ],
    )
    val = write_json(tmp_path / "validation.json", [{"id": "7", "template": "Holding [something]"}])
    return labels, train, val


def test_ssv2(tmp_path, ssv2_files):
    labels, train, val = ssv2_files
    out = convert_ssv2(labels, {"train": train, "val": val}, tmp_path / "out")
    assert out["train_list"].name == "sthv2_train_list_videos.txt"
    assert out["train_list"].read_text() == "78687.webm 0\n42.webm 1\n"
    assert out["val_list"].read_text() == "7.webm 0\n"
    assert read_label_map(out["label_map"]) == ["Holding something", "Pushing something from left to right"]


def test_ssv2_label_map_follows_the_json_indices_not_the_alphabet(tmp_path):
    # index order Pushing, Moving, Holding: the reverse of the alphabetical order, so a sort by name shows
    classes = {"Holding something": "2", "Pushing something from left to right": "0", "Moving something up": "1"}
    labels = write_json(tmp_path / "labels.json", classes)
    train = write_json(
        tmp_path / "train.json",
        [{"id": "5", "template": "Moving [something] up"}, {"id": "6", "template": "Holding [something]"}],
    )
    out = convert_ssv2(labels, {"train": train}, tmp_path / "out")
    names = read_label_map(out["label_map"])
    assert names == ["Pushing something from left to right", "Moving something up", "Holding something"]
    assert out["train_list"].read_text() == "5.webm 1\n6.webm 2\n"
    assert [names[label] for label in (1, 2)] == ["Moving something up", "Holding something"]  # list and map agree


def test_ssv2_errors(tmp_path, ssv2_files):
    labels = ssv2_files[0]
    bad = write_json(tmp_path / "bad.json", [{"id": "1", "template": "Holding [something]"}, {"id": "2"}])
    with pytest.raises(ValueError, match=r"bad.json: entry 1 has no 'template'"):
        convert_ssv2(labels, {"train": bad}, tmp_path / "o")
    unknown = write_json(tmp_path / "unknown.json", [{"id": "1", "template": "Dancing"}])
    with pytest.raises(ValueError, match=r"unknown.json: entry 0: unknown class 'Dancing'"):
        convert_ssv2(labels, {"train": unknown}, tmp_path / "o")
    (tmp_path / "broken.json").write_text('[{"id": 1,\n oops]')
    with pytest.raises(ValueError, match=r"broken.json:2: invalid JSON"):
        convert_ssv2(labels, {"train": tmp_path / "broken.json"}, tmp_path / "o")


def test_ssv1(tmp_path):
    (tmp_path / "labels.csv").write_text("Holding something\nTurning the camera left while filming something\n")
    (tmp_path / "train.csv").write_text("100218;Turning the camera left while filming something\n5;Holding something\n")
    (tmp_path / "val.csv").write_text("5;Holding something\n")
    for name, count in (("100218", 3), ("5", 2)):
        (tmp_path / "frames" / name).mkdir(parents=True)
        for i in range(1, count + 1):
            (tmp_path / "frames" / name / f"{i:05d}.jpg").write_bytes(b"")
    splits = {"train": tmp_path / "train.csv", "val": tmp_path / "val.csv"}
    out = convert_ssv1(tmp_path / "labels.csv", splits, tmp_path / "frames", tmp_path / "out")
    assert out["train_list"].name == "sthv1_train_list_rawframes.txt"
    assert out["train_list"].read_text() == "100218 3 1\n5 2 0\n"
    samples = read_list(out["val_list"], rawframes=True)
    assert samples[0].total_frames == 2 and samples[0].labels == (0,)
    (tmp_path / "bad.csv").write_text("5;Holding something\n6;Juggling\n")
    with pytest.raises(ValueError, match=r"bad.csv:2: expected 'id;class name'"):
        convert_ssv1(tmp_path / "labels.csv", {"train": tmp_path / "bad.csv"}, tmp_path / "frames", tmp_path / "o")
    (tmp_path / "nofr.csv").write_text("9;Holding something\n")
    with pytest.raises(ValueError, match=r"nofr.csv:1: no frames"):
        convert_ssv1(tmp_path / "labels.csv", {"train": tmp_path / "nofr.csv"}, tmp_path / "frames", tmp_path / "o")


def test_kinetics400(tmp_path, real_data):
    header = "label,youtube_id,time_start,time_end,split,is_cc\n"
    (tmp_path / "train.csv").write_text(header + "arm wrestling,abc,5,15,train,0\nabseiling,xyz,0,10,train,0\n")
    (tmp_path / "val.csv").write_text(header + "abseiling,qqq,12,22,val,0\n")
    splits = {"train": tmp_path / "train.csv", "val": tmp_path / "val.csv"}
    out = convert_kinetics400(splits, tmp_path / "out")
    assert out["train_list"].read_text() == "arm_wrestling/abc_000005_000015.mp4 1\nabseiling/xyz_000000_000010.mp4 0\n"
    # with the official 400-class map the label indices follow it
    k400 = convert_kinetics400(splits, tmp_path / "out400", real_data / "label_maps/kinetics400_label_map.txt")
    assert k400["train_list"].read_text().splitlines()[0].endswith(" 6")  # arm wrestling is class 6
    (tmp_path / "bad.csv").write_text(header + "abseiling,xyz,0,10,train,0\nabseiling,xyz,zero,10,train,0\n")
    with pytest.raises(ValueError, match=r"bad.csv:3: bad time_start"):
        convert_kinetics400({"train": tmp_path / "bad.csv"}, tmp_path / "o")
    (tmp_path / "nohead.csv").write_text("youtube_id,split\nabc,train\n")
    with pytest.raises(ValueError, match=r"nohead.csv:1: header lacks"):
        convert_kinetics400({"train": tmp_path / "nohead.csv"}, tmp_path / "o")


def test_diving48(tmp_path, real_data):
    vocab = write_json(
        tmp_path / "vocab.json", [["Back", "15som", "05Twis", "FREE"], ["Inward", "25som", "NoTwis", "PIKE"]]
    )
    train = write_json(
        tmp_path / "train.json", [{"vid_name": "-mmq0PT-u8k_0", "label": 1, "start_frame": 0, "end_frame": 84}]
    )
    val = write_json(tmp_path / "val.json", [{"vid_name": "a_1", "label": 0, "start_frame": 3, "end_frame": 50}])
    out = convert_diving48(vocab, {"train": train, "val": val}, tmp_path / "out")
    assert out["train_list"].read_text() == "-mmq0PT-u8k_0.mp4 1\n"
    names = read_label_map(out["label_map"])
    assert names == ["Back+15som+05Twis+FREE", "Inward+25som+NoTwis+PIKE"]
    assert names[0] in read_label_map(real_data / "label_maps/diving48_label_map.txt")  # the same naming
    bad = write_json(tmp_path / "bad.json", [{"vid_name": "a", "label": 7}])
    with pytest.raises(ValueError, match=r"bad.json: entry 0: label 7 not in \[0, 2\)"):
        convert_diving48(vocab, {"train": bad}, tmp_path / "o")


def test_cli_convert(tmp_path, ssv2_files, capsys):
    labels, train, val = ssv2_files
    args = ["data", "convert", "ssv2", "--labels", str(labels), "--train", str(train), "--val", str(val)]
    assert main([*args, "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli/sthv2_val_list_videos.txt").read_text() == "7.webm 0\n"
    assert "train_list" in capsys.readouterr().out
