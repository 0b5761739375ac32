"""Class-folder trees of real video files (lossless synthetic clips), for the fine-tuning tests."""

from __future__ import annotations

from pathlib import Path

from media import write_video

from videoshift.data.synthetic import render_clip

TINY = {"model": "tsm_r50", "model_kw": {"backbone": "resnet10t"}, "frames": 8, "size": 32}


def write_tree(root: Path, counts: dict[str, int], frames: int = 8, seed: int = 0) -> Path:
    """``root/<class>/<i>.mp4`` with ``counts[class]`` lossless synthetic clips of ``frames`` frames at 32 px; the
    class with index ``k`` shows the motion of synthetic class ``2k`` so the classes differ."""
    for k, (name, count) in enumerate(counts.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            write_video(folder / f"{i:03d}.mp4", render_clip(2 * k, seed * 1000 + 10 * k + i, frames, 32), fps=8)
    return root
