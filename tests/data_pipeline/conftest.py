"""Fixtures of the data-pipeline tests: the shared real data and small lossless videos written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .media import moving_frames, write_video


def _find_shared() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data"
        if (candidate / "SOURCES.md").is_file():
            return candidate
    return None


SHARED = _find_shared()


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared real data folder (videos, raw frames, annotations, label maps)."""
    if SHARED is None:
        pytest.skip("shared/data (real test videos) not found above the repository")
    return SHARED


@pytest.fixture(scope="session")
def lossless_video(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A 60-frame RGB H.264 qp-0 MP4 (keyframes every 8 frames, B-frames) and the frames written into it."""
    frames = moving_frames(60)
    return write_video(tmp_path_factory.mktemp("lossless") / "x264rgb.mp4", frames), frames
