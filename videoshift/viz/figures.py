"""Pictures of Grad-CAMs: heat-map overlays, the PNG strip with top-5 bars, animated GIF and MP4.

Frames are ``uint8 (T, H, W, 3)`` arrays; blending happens on de-normalised frames (:func:`denormalise`), never
on the model's normalised input. Matplotlib draws on its Agg canvas (no pyplot, no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from videoshift.viz.gradcam import CamResult

HEAT_CMAP = "jet"


def new_figure(size: tuple[float, float], layout: str | None = "constrained") -> Figure:
    """A figure on matplotlib's Agg canvas (no pyplot, no display, no global backend switch)."""
    fig = Figure(figsize=size, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def denormalise(clip: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """A normalised clip ``(C, T, H, W)`` back to ``uint8 (T, H, W, 3)`` frames.

    ``mean``/``std`` as in the transform config: 0-1 statistics, or 0-255 ones (MMAction2 style, any value > 1).
    """
    if clip.ndim == 5 and clip.shape[0] == 1:
        clip = clip[0]
    if clip.ndim != 4 or clip.shape[0] != len(mean):
        raise ValueError(f"expected a clip (C, T, H, W) with C={len(mean)}, got shape {tuple(clip.shape)}")
    scale = 255.0 if max(mean) > 1.0 else 1.0
    m = torch.tensor([v / scale for v in mean], dtype=torch.float32)[:, None, None, None]
    s = torch.tensor([v / scale for v in std], dtype=torch.float32)[:, None, None, None]
    frames = (clip.detach().float().cpu() * s + m).clamp(0, 1) * 255.0 + 0.5
    return frames.to(torch.uint8).permute(1, 2, 3, 0).numpy()


def heat_colours(cam: torch.Tensor | np.ndarray, cmap: str = HEAT_CMAP) -> np.ndarray:
    """A map in [0, 1] ``(..., H, W)`` as ``uint8 (..., H, W, 3)`` colours."""
    values = np.clip(np.asarray(cam, dtype=np.float32), 0.0, 1.0)
    return (matplotlib.colormaps[cmap](values)[..., :3] * 255.0 + 0.5).astype(np.uint8)


def overlay(frames: np.ndarray, cam: torch.Tensor | np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend heat colours of ``cam (T, H, W)`` over ``frames uint8 (T, H, W, 3)``; returns ``uint8 (T, H, W, 3)``."""
    cam = np.asarray(cam, dtype=np.float32)
    if frames.shape[:3] != cam.shape:
        raise ValueError(f"frames {frames.shape[:3]} and heat map {cam.shape} differ in (T, H, W)")
    blended = (1.0 - alpha) * frames.astype(np.float32) + alpha * heat_colours(cam).astype(np.float32)
    return (blended + 0.5).clip(0, 255).astype(np.uint8)


@dataclass
class CamPanel:
    """One model's row of the strip: its name, frames (``uint8 (T, H, W, 3)``), Grad-CAM and class names."""

    title: str
    frames: np.ndarray
    result: CamResult
    class_names: Sequence[str] | None = None

    def class_name(self, index: int) -> str:
        names = list(self.class_names or [])
        return names[index] if index < len(names) else str(index)


def shown_frames(num_frames: int, max_frames: int) -> list[int]:
    """Up to ``max_frames`` evenly spread frame indices of ``num_frames`` (all when they fit)."""
    if num_frames <= max_frames:
        return list(range(num_frames))
    return np.linspace(0, num_frames - 1, max_frames).round().astype(int).tolist()


def cam_strip(panels: Sequence[CamPanel], max_frames: int = 8, top_k: int = 5, alpha: float = 0.5) -> Figure:
    """The TPS Fig. 6 layout: the input frames on top, each model's heat maps below, its top-k classes at the right.

    The bar of the explained class is drawn in red (added below the top-k when it is not among them), the others
    in grey.
    """
    if not panels:
        raise ValueError("cam_strip needs at least one panel")
    columns = max(len(shown_frames(len(p.frames), max_frames)) for p in panels)
    rows = 1 + len(panels)
    size = 1.6
    fig = new_figure((size * columns + 4.2, size * rows + 0.3))
    grid = fig.add_gridspec(rows, columns + 1, width_ratios=[1] * columns + [2.4])
    first = panels[0]
    for col, t in enumerate(shown_frames(len(first.frames), max_frames)):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(first.frames[t])
        ax.set_title(f"frame {t}", fontsize=8)
        ax.set_axis_off()
    legend = fig.add_subplot(grid[0, columns])
    legend.set_axis_off()
    bar = legend.inset_axes((0.05, 0.55, 0.9, 0.14))
    scale = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, 1), matplotlib.colormaps[HEAT_CMAP])
    fig.colorbar(scale, cax=bar, orientation="horizontal")
    bar.tick_params(labelsize=7)
    bar.set_title("Grad-CAM, 1 = the clip's maximum", fontsize=8)
    for row, panel in enumerate(panels, start=1):
        blended = overlay(panel.frames, panel.result.cam.cpu(), alpha)
        for col, t in enumerate(shown_frames(len(panel.frames), max_frames)):
            ax = fig.add_subplot(grid[row, col])
            ax.imshow(blended[t])
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(panel.title, fontsize=8)
            if len(panel.frames) != len(first.frames):  # its own frames: the top row's numbers do not apply
                ax.set_xlabel(f"its frame {t}", fontsize=7)
        bars = fig.add_subplot(grid[row, columns])
        top = panel.result.top(top_k)
        if panel.result.target not in [c for c, _ in top]:  # an explained class outside the top-k gets its bar too
            top.append((panel.result.target, float(panel.result.probs[panel.result.target])))
        labels = [panel.class_name(c) for c, _ in top]
        colours = ["tab:red" if c == panel.result.target else "tab:gray" for c, _ in top]
        positions = np.arange(len(top))[::-1]
        bars.barh(positions, [p for _, p in top], color=colours)
        bars.set_yticks(positions, labels, fontsize=7)
        for tick, (c, _) in zip(bars.get_yticklabels(), top, strict=True):
            if c == panel.result.target:  # red even when its bar is too short to see
                tick.set_color("tab:red")
        bars.set_xlim(0, 1)
        bars.tick_params(axis="x", labelsize=7)
        for y, (_, p) in zip(positions, top, strict=True):
            bars.text(min(p + 0.02, 0.8), y, f"{p:.2f}", va="center", fontsize=7)
        bars.set_title(f"Grad-CAM of: {panel.class_name(panel.result.target)}", fontsize=8)
    return fig


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure as PNG; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi)
    return path


def side_by_side(videos: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Videos ``uint8 (T, H, W, 3)`` of one length placed left to right with a white gap (heights padded)."""
    frames = max(len(v) for v in videos)
    height = max(v.shape[1] for v in videos)
    width = sum(v.shape[2] for v in videos) + gap * (len(videos) - 1)
    out = np.full((frames, height, width, 3), 255, np.uint8)
    x = 0
    for video in videos:
        index = np.arange(frames) * len(video) // frames  # a shorter clip holds its frames longer
        out[:, : video.shape[1], x : x + video.shape[2]] = video[index]
        x += video.shape[2] + gap
    return out


def enlarge(frames: np.ndarray, min_height: int) -> np.ndarray:
    """``uint8 (T, H, W, 3)`` frames enlarged by the smallest whole factor (nearest pixel) to ``min_height`` rows or
    more, so that small clips (synthetic 64x64 ones) stay sharp when shown."""
    scale = -(-min_height // frames.shape[1])
    return frames.repeat(scale, axis=1).repeat(scale, axis=2) if scale > 1 else frames


def write_gif(frames: np.ndarray, path: str | Path, fps: float = 4.0) -> Path:
    """An endlessly looping animated GIF of ``uint8 (T, H, W, 3)`` frames (Pillow)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return path


def write_mp4(frames: np.ndarray, path: str | Path, fps: int = 4) -> Path:
    """An H.264 MP4 (yuv420p, plays everywhere) of ``uint8 (T, H, W, 3)`` frames (PyAV); odd sizes are padded."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    if h % 2 or w % 2:  # yuv420p needs even sizes
        frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=int(fps), options={"crf": "18"})
        stream.pix_fmt = "yuv420p"
        stream.height, stream.width = frames.shape[1:3]
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")))
        container.mux(stream.encode())
    return path
