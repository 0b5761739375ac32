"""The defaults of a config's ``data`` section and the clip transform's settings, apart from the code using them.

:func:`~videoshift.data.datasets.build_dataset` fills the keys a ``data`` section leaves out from here, and
``videoshift.engine.schema`` reads the same values to check and document the section. Kept free of torch so that
configs can be checked without loading it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from videoshift.paper_defaults import INPUT_SIZE

DATASETS = ("video", "rawframes", "synthetic")
ON_ERROR = ("raise", "skip")
# the data section's scalar keys with the value build_dataset uses when a key is left out
DATA_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "dataset": "video",
        "root": None,
        "train_list": None,
        "val_list": None,
        "test_list": None,
        "label_map": None,
        "num_classes": None,
        "multi_label": False,
        "on_error": "raise",
        "backend": "pyav",
        "with_offset": False,
        "start_index": 1,
        "filename_tmpl": "img_{:05d}.jpg",
    }
)
# the ``synthetic`` section (``dataset: synthetic``)
SYNTHETIC_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {"num_train": 600, "num_val": 200, "num_frames": 8, "size": 64, "seed": 0}
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TRAIN_CROPS = ("random_resized", "multiscale", "center")
TEST_CROPS = (1, 3, 10)


@dataclass(frozen=True)
class TransformConfig:
    """The ``transform`` section of a data config; unknown keys raise ``ValueError``.

    The fields' defaults are the section's defaults (``videoshift.engine.schema`` reads them from here; each
    key's meaning is in ``docs/config.md``).
    """

    input_size: int = INPUT_SIZE
    short_side: int = 256
    train_crop: str = "random_resized"
    crop_scale: tuple[float, float] = (0.08, 1.0)
    flip: bool = True
    flip_pairs: Any = None
    autoaugment: Any = False  # false | "rand" (or true) | "auto"
    random_erasing: float = 0.0
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    test_crops: int = 1

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | None, **defaults: Any) -> TransformConfig:
        """Build from a config mapping; ``defaults`` fill keys the mapping leaves out."""
        values = {**defaults, **dict(cfg or {})}
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown transform keys: {unknown}")
        config = cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()})
        if config.train_crop not in TRAIN_CROPS:
            raise ValueError(f"transform.train_crop must be one of {TRAIN_CROPS}, got {config.train_crop!r}")
        if config.test_crops not in TEST_CROPS:
            raise ValueError(f"transform.test_crops must be one of {TEST_CROPS}, got {config.test_crops!r}")
        if config.autoaugment not in (False, None, True, "rand", "auto"):
            raise ValueError(f"transform.autoaugment must be false, 'rand' or 'auto', got {config.autoaugment!r}")
        if not 0.0 <= config.random_erasing <= 1.0:
            raise ValueError(f"transform.random_erasing must be a probability, got {config.random_erasing}")
        return config
