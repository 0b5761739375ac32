"""Test videos written here: lossless encodes of generated frames, whose decoded frames are known exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_video(
    path: Path, frames: np.ndarray, codec: str = "libx264rgb", fps: int = 25, gop: int = 8, fmt: str | None = None
) -> Path:
    """Write uint8 ``(T, H, W, 3)`` frames losslessly: RGB H.264 at qp 0 with B-frames and a keyframe every
    ``gop`` frames (so that seeking matters), or FFV1. ``fmt`` forces a container format (e.g. raw "h264")."""
    import av

    with av.open(str(path), "w", format=fmt) as container:
        if codec == "libx264rgb":
            options = {"qp": "0", "g": str(gop), "keyint_min": str(gop), "bf": "2", "sc_threshold": "0"}
            stream = container.add_stream(codec, rate=fps, options=options)
            stream.pix_fmt = "rgb24"
        else:
            stream = container.add_stream(codec, rate=fps)
            stream.pix_fmt = "bgr0"
        stream.height, stream.width = frames.shape[1:3]
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def moving_frames(num_frames: int, height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """Smooth frames with a moving gradient and a square, plus a little noise (compressible, distinct frames)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    frames = []
    for t in range(num_frames):
        image = np.stack([(xx * 3 + t * 5) % 256, (yy * 4 + t * 3) % 256, np.full_like(xx, (t * 17) % 256)], -1)
        image[10 + t % 20 : 20 + t % 20, 5 + t : 15 + t] = 255
        frames.append(image + rng.integers(0, 3, size=image.shape))
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)
