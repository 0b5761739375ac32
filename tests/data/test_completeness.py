"""Completeness: a file cut short whose index is at the front promises more frames than it holds."""

from pathlib import Path

import av
import pytest
from media import cut_short

from videoshift.data.completeness import describe, is_complete, summary_line
from videoshift.data.readers import PyAVReader

VIDEOS = Path(__file__).parents[1] / "fixtures" / "media" / "videos"


def test_tolerance_is_two_frames_or_two_percent_whichever_is_larger():
    assert is_complete(300, 294) and not is_complete(300, 293)  # 2 % of 300 = 6 frames
    assert is_complete(50, 48) and not is_complete(50, 47)  # 2 % of 50 = 1 frame < 2
    assert is_complete(None, 3) and is_complete(10, 12)


def test_a_cut_file_promises_its_header_count_and_holds_the_packets_present(tmp_path):
    cut = cut_short(VIDEOS / "test.mp4", tmp_path / "cut.mp4")
    with av.open(str(cut)) as container:  # the packets that arrived, counted directly
        present = sum(1 for packet in container.demux(video=0) if packet.size > 0)
    extent = PyAVReader().extent(cut)
    assert extent.promised == 300 and extent.decodable == present  # header: 300 frames (SOURCES.md)
    assert 90 <= present <= 130 and not extent.complete  # about 40 % of 300
    record = describe(extent.row([13, 40, 66, 93]))
    assert record["complete"] is False and record["frames_promised"] == 300 and record["frames_decodable"] == present
    assert record["duration_s"] == 10.0 and record["clip_start_s"] == pytest.approx(13 / 30, abs=1e-3)
    assert record["clip_end_s"] == pytest.approx(93 / 30, abs=1e-3)  # 30 fps, frames in presentation order
    assert summary_line(record).startswith("INCOMPLETE: the header promises 300 frames")
    whole = PyAVReader().extent(VIDEOS / "test.mp4")
    assert (whole.promised, whole.decodable, whole.complete) == (300, 300, True)
    assert summary_line(describe(whole.row([0, 299]))) == "the clip covers 0.00-9.97 s of 10.00 s"
