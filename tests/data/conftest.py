"""Fixtures of the data tests: the real data in ``tests/fixtures/media`` and small lossless videos written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from media import moving_frames, write_video

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real test data kept in the repository (videos, raw frames, annotations, label maps; see SOURCES.md)."""
    return MEDIA


@pytest.fixture(scope="session")
def lossless_video(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A 60-frame RGB H.264 qp-0 MP4 (keyframes every 8 frames, B-frames) and the frames written into it."""
    frames = moving_frames(60)
    return write_video(tmp_path_factory.mktemp("lossless") / "x264rgb.mp4", frames), frames
