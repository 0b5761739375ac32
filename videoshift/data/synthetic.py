"""Procedural motion clips whose classes can only be told apart by frame order.

Classes come in time-reversed pairs (class ``2k + 1`` is class ``2k`` played backwards): an object moving right /
left, down / up, rotating clockwise / anticlockwise, growing / shrinking, appearing / disappearing, and the whole
scene brightening / darkening. Each clip has a random textured background, a random shape (disc, square, triangle,
L, arrow), colour, size, speed and position, and small distractor objects drifting in random directions.
A second look (``variant=1``) draws the same classes with other shapes (ring, cross, diamond, T), checkerboard
backgrounds and slower, shorter moves: a set a model trained on the first look has never seen.

Every random choice of a clip depends only on its seed and its pair, and time enters only through a vector of
phases ``t`` (ascending for even classes, the same vector reversed for odd ones). So
``render_clip(2k + 1, seed) == render_clip(2k, seed)[::-1]`` exactly: the two classes of a pair hold the same set
of frames, and a model that ignores frame order is at chance within each pair.

:func:`write_synthetic_dataset` writes the clips as real video files with MMAction2 lists and a label map;
:class:`SyntheticMotionDataset` serves the same clips from memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from videoshift.data.annotations import Sample, write_list
from videoshift.data.label_maps import write_label_map

log = logging.getLogger(__name__)

CLASS_NAMES: tuple[str, ...] = (
    "moving right",
    "moving left",
    "moving down",
    "moving up",
    "rotating clockwise",
    "rotating anticlockwise",
    "growing",
    "shrinking",
    "appearing",
    "disappearing",
    "brightening",
    "darkening",
)
NUM_CLASSES = len(CLASS_NAMES)
# a horizontal mirror turns right into left and clockwise into anticlockwise
FLIP_PAIRS: tuple[tuple[int, int], ...] = ((0, 1), (4, 5))
SHAPES = ("disc", "square", "triangle", "ell", "arrow")
ORIENTED_SHAPES = ("ell", "arrow")  # no rotational symmetry, so every rotation step is visible


@dataclass(frozen=True)
class Look:
    """How a variant of the clips looks: its shapes, background and how far objects travel."""

    shapes: tuple[str, ...]
    oriented: tuple[str, ...]  # shapes of the rotating pair: none may look the same after a part turn
    checkerboard: bool  # background: random gratings (False) or a random checkerboard
    travel: tuple[float, float]  # moving pairs: distance covered over the clip, in frame sides


LOOKS = (
    Look(SHAPES, ORIENTED_SHAPES, checkerboard=False, travel=(0.35, 0.55)),
    Look(("ring", "cross", "diamond", "tee"), ("tee",), checkerboard=True, travel=(0.2, 0.3)),
)
SPLIT_IDS = {"train": 0, "val": 1, "test": 1}


def _box(u: np.ndarray, v: np.ndarray, half_u: float, half_v: float) -> np.ndarray:
    return np.maximum(np.abs(u) - half_u, np.abs(v) - half_v)


def _float32(value: float | np.ndarray) -> np.ndarray:
    """``value`` as float32 (0-d for a scalar), so it multiplies float32 frames in float32 under any numpy.

    numpy < 2 keeps ``float32 array * np.float64 scalar`` in float32; numpy >= 2 (NEP 50) computes it in float64,
    which moves a few pixels by one grey level after rounding. Casting the factors first makes every clip the same
    bytes under both.
    """
    return np.asarray(value, dtype=np.float32)


def _triangle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    angles = np.pi / 2 + 2 * np.pi / 3 * np.arange(3)  # outward edge normals; apex points to -v
    return np.max([u * _float32(np.cos(a)) + v * _float32(np.sin(a)) for a in angles], axis=0) - 0.5


def _shape_distance(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance-like field in object radii (< 0 inside) of a shape in local coordinates."""
    if shape == "disc":
        return np.sqrt(u * u + v * v) - 1.0
    if shape == "square":
        return _box(u, v, 0.8, 0.8)
    if shape == "triangle":
        return _triangle(u, v)
    if shape == "ell":
        return np.minimum(_box(u + 0.55, v, 0.35, 1.0), _box(u, v - 0.65, 0.9, 0.35))
    if shape == "ring":
        return np.abs(np.sqrt(u * u + v * v) - 0.75) - 0.25
    if shape == "cross":
        return np.minimum(_box(u, v, 1.0, 0.3), _box(u, v, 0.3, 1.0))
    if shape == "diamond":
        return np.abs(u) + np.abs(v) - 1.0
    if shape == "tee":
        return np.minimum(_box(u, v + 0.7, 1.0, 0.3), _box(u, v, 0.3, 1.0))
    return np.minimum(_box(u, v - 0.35, 0.25, 0.65), _triangle(u * 1.1, (v + 0.45) * 1.6))  # arrow


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A static ``(H, W, 3)`` background in [0.1, 0.6]: random gratings, blobs of colour and pixel noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(0.15, 0.4, size=3).astype(np.float32)
    field = np.zeros((size, size), np.float32)
    for _ in range(3):
        freq, angle, phase = rng.uniform([1.0, 0.0, 0.0], [6.0, np.pi, 2 * np.pi]).tolist()
        field += np.sin(2 * np.pi * freq * (xx * _float32(np.cos(angle)) + yy * _float32(np.sin(angle))) + phase)
    tint = rng.uniform(-1, 1, size=3).astype(np.float32)
    noise = 0.03 * rng.standard_normal(size=(size, size, 3), dtype=np.float32)
    return np.clip(base + 0.05 * field[..., None] * (1 + tint) + noise, 0.1, 0.6)


def _checkerboard(rng: np.random.Generator, size: int) -> np.ndarray:
    """A static ``(H, W, 3)`` checkerboard of two random colours in [0.1, 0.6], cells of 4-12 px, a little noise."""
    cell = int(rng.integers(4, 13))
    yy, xx = np.mgrid[0:size, 0:size] // cell
    colours = rng.uniform(0.1, 0.6, size=(2, 3)).astype(np.float32)
    noise = 0.02 * rng.standard_normal(size=(size, size, 3), dtype=np.float32)
    return np.clip(colours[(yy + xx) % 2] + noise, 0.1, 0.6)


def _colour(rng: np.random.Generator) -> np.ndarray:
    colour = rng.uniform(0.0, 1.0, size=3)
    colour[rng.integers(3)] = rng.uniform(0.85, 1.0)  # bright, so it stands out from the darker background
    return colour.astype(np.float32)


def _draw(frames: np.ndarray, shape: str, cx, cy, radius, angle, colour: np.ndarray, alpha=1.0) -> None:
    """Alpha-blend a shape into ``(T, H, W, 3)`` frames in place, with a one-pixel soft edge.

    Centre, radius (pixels), angle and opacity are scalars or per-frame ``(T, 1, 1)`` arrays. Only the box the
    shape can reach over the whole clip is computed.
    """
    size_y, size_x = frames.shape[1:3]
    reach = 1.5 * np.max(radius) + 1.0
    x0, x1 = int(max(np.min(cx) - reach, 0)), int(min(np.max(cx) + reach + 1, size_x))
    y0, y1 = int(max(np.min(cy) - reach, 0)), int(min(np.max(cy) + reach + 1, size_y))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = (xx - cx) / radius, (yy - cy) / radius
    cos, sin = _float32(np.cos(angle)), _float32(np.sin(angle))  # angle: a Python float or a float32 (T, 1, 1)
    distance = _shape_distance(shape, cos * dx + sin * dy, -sin * dx + cos * dy)
    cover = np.clip(0.5 - distance * radius, 0.0, 1.0) * alpha  # (T, h, w)
    region = frames[:, y0:y1, x0:x1]
    region += cover[..., None] * (colour - region)


def _scene(label: int, seed: int, num_frames: int, size: int, variant: int = 0) -> dict[str, Any]:
    """Every random choice of a clip, drawn in a fixed order from its ``(seed, pair)`` generator, in the look of
    ``variant`` (:data:`LOOKS`).

    Returns the background texture, the distractors and the main (labelled) object as arguments of :func:`_draw`,
    and the scene gain (``None`` but for brightening / darkening).
    """
    if not 0 <= label < NUM_CLASSES:
        raise ValueError(f"label must be in [0, {NUM_CLASSES}), got {label}")
    if num_frames < 2 or size < 16:
        raise ValueError(f"need num_frames >= 2 and size >= 16, got {num_frames} and {size}")
    if not 0 <= variant < len(LOOKS):
        raise ValueError(f"variant must be in [0, {len(LOOKS)}), got {variant}")
    look = LOOKS[variant]
    pair = label // 2
    rng = np.random.default_rng([int(seed), pair])
    phase = np.linspace(0.0, 1.0, num_frames, dtype=np.float32)
    t = (phase[::-1] if label % 2 else phase)[:, None, None]  # (T, 1, 1)
    texture = _checkerboard(rng, size) if look.checkerboard else _texture(rng, size)

    # distractors: small shapes drifting in uniformly random directions (time-symmetric by construction)
    distractors = []
    for _ in range(int(rng.integers(1, 3))):
        radius = float(rng.uniform(0.04, 0.07) * size)
        start = (rng.uniform(0.15, 0.85, size=2) * size).tolist()
        step = (rng.normal(0, 0.15, size=2) * size).tolist()
        cx, cy = start[0] + step[0] * (t - 0.5), start[1] + step[1] * (t - 0.5)
        distractors.append((str(rng.choice(SHAPES[:2])), cx, cy, radius, 0.0, _colour(rng)))

    shape = str(rng.choice(look.oriented if pair == 2 else look.shapes))
    radius = float(rng.uniform(0.18, 0.24) if pair == 2 else rng.uniform(0.11, 0.17)) * size  # rotations: larger
    cx, cy = (rng.uniform(0.35, 0.65, size=2) * size).tolist()
    angle = float(rng.uniform(0, 2 * np.pi))
    scale, alpha, gain = 1.0, 1.0, None
    if pair in (0, 1):  # moving right (0) / down (1) across a large part of the frame
        travel = float(rng.uniform(*look.travel) * size) * (t - 0.5)
        cx, cy = (size / 2 + travel, cy) if pair == 0 else (cx, size / 2 + travel)
    elif pair == 2:  # clockwise on screen (y points down) by 90-180 degrees
        angle = angle + float(rng.uniform(np.pi / 2, np.pi)) * t
    elif pair == 3:  # growing from ~0.4 to ~1.4 times the radius
        scale = 0.4 + float(rng.uniform(0.8, 1.1)) * t
    elif pair == 4:  # appearing: opacity 0 -> 1
        alpha = t
    else:  # brightening: the whole scene from dark to full brightness
        gain = 0.3 + 0.7 * t[..., None]
    main = (shape, cx, cy, radius * scale, angle, _colour(rng), alpha)
    return {"texture": texture, "distractors": distractors, "main": main, "gain": gain}


def render_clip(label: int, seed: int, num_frames: int = 8, size: int = 64, variant: int = 0) -> np.ndarray:
    """One clip of class ``label`` as uint8 ``(T, H, W, 3)`` in the look of ``variant`` (:data:`LOOKS`);
    deterministic in ``(label // 2, seed, variant)``.

    Raises:
        ValueError: for a label outside ``[0, NUM_CLASSES)`` or fewer than 2 frames.
    """
    scene = _scene(label, seed, num_frames, size, variant)
    frames = np.broadcast_to(scene["texture"], (num_frames, size, size, 3)).copy()
    for distractor in scene["distractors"]:
        _draw(frames, *distractor)
    _draw(frames, *scene["main"])
    if scene["gain"] is not None:
        frames *= scene["gain"]
    return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def object_boxes(label: int, seed: int, num_frames: int = 8, size: int = 64) -> np.ndarray:
    """The box of the labelled object in each frame of :func:`render_clip`: int ``(T, 4)`` rows ``x0, y0, x1, y1``.

    Pixel ``(y, x)`` is inside when ``x0 <= x < x1`` and ``y0 <= y < y1``: the bounding box of the pixels the
    object covers at least half, drawn fully opaque (so an "appearing" object has its box while still invisible).
    A frame where the object covers no pixel (it never leaves the frame in these classes) gets ``0, 0, 0, 0``.
    """
    shape, cx, cy, radius, angle, _, _ = _scene(label, seed, num_frames, size)["main"]
    cover = np.zeros((num_frames, size, size, 1), np.float32)
    _draw(cover, shape, cx, cy, radius, angle, np.ones(1, np.float32))
    boxes = np.zeros((num_frames, 4), np.int64)
    for i, mask in enumerate(cover[..., 0] >= 0.5):
        ys, xs = np.nonzero(mask)
        if len(xs):
            boxes[i] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    return boxes


def sample_seed(seed: int, split: str, index: int) -> int:
    """The clip seed of sample ``index`` of a split (train and val clips never share seeds)."""
    if split not in SPLIT_IDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_IDS)}, got {split!r}")
    return int(np.random.SeedSequence([int(seed), SPLIT_IDS[split], int(index)]).generate_state(1)[0])


def sample_label(index: int) -> int:
    """Balanced labels: sample ``i`` has class ``i mod NUM_CLASSES``."""
    return index % NUM_CLASSES


class SyntheticMotionDataset(Dataset):
    """In-memory synthetic motion clips (generated on access, deterministic per index).

    Args:
        num_samples: clips in the split.
        split: "train", "val" or "test" (val and test are the same clips).
        num_frames: frames per clip.
        size: frame height and width.
        seed: dataset seed.
        variant: the clips' look (:data:`LOOKS`).
        transform: ``(frames uint8 (T, H, W, 3), label) -> (clip, label)``; ``None`` returns frames as
            float ``(C, T, H, W)`` in [0, 1].
    """

    num_classes = NUM_CLASSES
    skipped = 0  # generated clips cannot fail to read

    def __init__(
        self,
        num_samples: int,
        split: str = "train",
        num_frames: int = 8,
        size: int = 64,
        seed: int = 0,
        variant: int = 0,
        transform: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> None:
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        sample_seed(seed, split, 0)  # validates split
        self.num_samples, self.split, self.num_frames, self.size, self.seed = num_samples, split, num_frames, size, seed
        self.variant = variant
        self.transform = transform
        self.class_names = list(CLASS_NAMES)

    def __len__(self) -> int:
        return self.num_samples

    def frames(self, index: int) -> np.ndarray:
        """The raw uint8 ``(T, H, W, 3)`` clip of sample ``index``."""
        seed = sample_seed(self.seed, self.split, index)
        return render_clip(sample_label(index), seed, self.num_frames, self.size, self.variant)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.num_samples:
            raise IndexError(f"index {index} out of range for {self.num_samples} samples")
        frames = torch.from_numpy(self.frames(index))
        label = torch.tensor(sample_label(index), dtype=torch.int64)
        if self.transform is None:
            return {"clip": frames.permute(3, 0, 1, 2).float() / 255.0, "label": label, "index": index}
        clip, label = self.transform(frames, label)
        return {"clip": clip, "label": label, "index": index}


def _write_video(path: Path, frames: np.ndarray, fps: int, lossless: bool) -> None:
    import av

    with av.open(str(path), "w") as container:
        if lossless:
            stream = container.add_stream("libx264rgb", rate=fps, options={"qp": "0"})
            stream.pix_fmt = "rgb24"
        else:
            stream = container.add_stream("libx264", rate=fps, options={"crf": "18"})
            stream.pix_fmt = "yuv420p"
        stream.height, stream.width = frames.shape[1:3]
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def _write_clips(
    out: Path, dataset: SyntheticMotionDataset, relative: Callable[[int], str], fps: int, lossless: bool
) -> list[Sample]:
    """Write every clip of ``dataset`` to ``out / relative(index)``; returns their list entries."""
    samples = []
    for index in range(len(dataset)):
        path = out / relative(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_video(path, dataset.frames(index), fps, lossless)
        samples.append(Sample(path=relative(index), labels=(sample_label(index),)))
    log.info("wrote %d %s clips under %s", len(dataset), dataset.split, out)
    return samples


def write_synthetic_dataset(
    out_dir: str | Path,
    num_train: int = 600,
    num_val: int = 200,
    num_frames: int = 8,
    size: int = 64,
    seed: int = 0,
    fps: int = 8,
    lossless: bool = False,
) -> dict[str, Any]:
    """Write the synthetic clips as H.264 MP4 files plus ``train_list.txt``, ``val_list.txt``, ``label_map.txt``.

    Clip ``i`` of a split is the in-memory clip ``i`` (the files differ only by H.264 loss, or not at all with
    ``lossless=True``, which uses RGB H.264 at qp 0).

    Returns:
        A ``data`` config section for ``dataset: video`` (root, train_list, val_list, label_map, num_classes).
    """
    out = Path(out_dir)
    lists = {}
    for split, count in (("train", num_train), ("val", num_val)):
        dataset = SyntheticMotionDataset(count, split, num_frames, size, seed)
        samples = _write_clips(out, dataset, lambda i, s=split: f"videos/{s}/{i:06d}.mp4", fps, lossless)
        lists[split] = write_list(out / f"{split}_list.txt", samples)
    label_map = write_label_map(out / "label_map.txt", CLASS_NAMES)
    return {
        "dataset": "video",
        "root": str(out),
        "train_list": str(lists["train"]),
        "val_list": str(lists["val"]),
        "label_map": str(label_map),
        "num_classes": NUM_CLASSES,
    }


def class_folder(label: int) -> str:
    """The folder name of a class in a class-folder tree: its name with underscores for spaces."""
    return CLASS_NAMES[label].replace(" ", "_")


def write_class_folders(
    out_dir: str | Path,
    num_train: int,
    num_val: int = 0,
    num_frames: int = 8,
    size: int = 64,
    seed: int = 0,
    variant: int = 0,
    fps: int = 8,
    lossless: bool = False,
) -> Path:
    """Write the synthetic clips as a class-folder tree (what ``videoshift finetune`` reads): ``train/<class>/``
    and ``val/<class>/`` with ``num_val``, else ``<class>/`` directly. Returns ``out_dir``."""
    out = Path(out_dir)
    splits = (("train", num_train, "train/"), ("val", num_val, "val/")) if num_val else (("train", num_train, ""),)
    for split, count, prefix in splits:
        dataset = SyntheticMotionDataset(count, split, num_frames, size, seed, variant)
        name = lambda i, p=prefix: f"{p}{class_folder(sample_label(i))}/{i:06d}.mp4"  # noqa: E731
        _write_clips(out, dataset, name, fps, lossless)
    return out
