from videoshift.cli import main


def test_check_reports_broken_entries(real_data, tmp_path, capsys):
    for name, folder in (("demo.mp4", "videos"), ("demo_corrupt_mdat.mp4", "videos_derived"), ("a.webm", None)):
        source = real_data / "videos_derived/demo_3s_vp9.webm" if folder is None else real_data / folder / name
        (tmp_path / name).symlink_to(source)
    (tmp_path / "list.txt").write_text("demo.mp4 0\nnope.mp4 1\ndemo_corrupt_mdat.mp4 2\na.webm 3\n")
    assert main(["data", "check", str(tmp_path / "list.txt")]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'list.txt'}:2: nope.mp4" in out and "list.txt:3: demo_corrupt_mdat.mp4" in out
    assert "list.txt:1" not in out and "list.txt:4" not in out and "2/4 entries readable, 2 broken" in out


def test_check_reports_every_broken_line_in_one_run(real_data, tmp_path, capsys):
    (tmp_path / "demo.mp4").symlink_to(real_data / "videos" / "demo.mp4")
    lines = ["demo.mp4 0", "demo.mp4 9", "gone.mp4 1", "demo.mp4", "demo.mp4 2"]  # bad label, missing, malformed
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    assert main(["data", "check", str(tmp_path / "list.txt"), "--num-classes", "5"]) == 1
    out = capsys.readouterr().out.splitlines()
    listing = tmp_path / "list.txt"
    assert out == [
        f"{listing}:2: demo.mp4: label 9 out of range for num_classes=5",
        f"{listing}:3: gone.mp4: {tmp_path / 'gone.mp4'}: no such file",
        f"{listing}:4: demo.mp4: expected 'path label...', got 'demo.mp4'",
        "2/5 entries readable, 3 broken",
    ]
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")  # three classes: labels 0 and 2 fit, 9 does not
    assert main(["data", "check", str(listing), "--label-map", str(labels)]) == 1
    assert "label 9 out of range for num_classes=3" in capsys.readouterr().out


def test_check_rawframe_lists(real_data, tmp_path, capsys):
    listing = real_data / "annotations/rawframe_test_list.txt"
    assert main(["data", "check", str(listing), "--rawframes", "--root", str(real_data / "rawframes")]) == 0
    assert "2/2 entries readable" in capsys.readouterr().out
    # 10 frames on disk: a list claiming 11, or 0, is broken
    (tmp_path / "list.txt").write_text("imgs 10 0\nimgs 11 0\nimgs 0 0\n")
    assert (
        main(["data", "check", str(tmp_path / "list.txt"), "--rawframes", "--root", str(real_data / "rawframes")]) == 1
    )
    out = capsys.readouterr().out
    assert (
        "list.txt:2: imgs" in out and "img_00011.jpg" in out and "list.txt:3: imgs" in out and "list.txt:1" not in out
    )


def test_synth_writes_a_dataset(tmp_path, capsys):
    assert main(["data", "synth", "--out", str(tmp_path), "--num-train", "3", "--num-val", "2", "--size", "32"]) == 0
    assert len((tmp_path / "train_list.txt").read_text().splitlines()) == 3
    assert main(["data", "check", str(tmp_path / "val_list.txt")]) == 0
