"""The recipe: how a model must see a video, written once where the model is made and read by every consumer.

A recipe holds the test-time sampling (which frames, how many clips), the transform (resize, crop, normalisation,
crops per clip), how the views' scores are averaged, whether the classes are multi-label, the decoding backend
and the class names. Training writes it into every checkpoint (:meth:`Recipe.from_training`), a registry entry
derives it from its test protocol (:meth:`Recipe.from_protocol`), and a weights package stores it as JSON; the
one loader (:mod:`videoshift.inference.sources`) attaches it to the model, so that ``predict``, ``test``,
``viz cam``, ``export`` and the demo read the same frames at the same size.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

AVERAGES = ("prob", "logit")
TEST_TRANSFORM_KEYS = ("input_size", "short_side", "mean", "std", "test_crops")
"""The transform settings that decide what a model sees at test time (the others are training augmentations)."""


def parse_views(views: str) -> tuple[int, int]:
    """``"CLIPSxCROPS"`` (e.g. ``"4x3"``) → ``(clips, crops)``; ``ValueError`` names a malformed value."""
    clips, sep, crops = views.lower().partition("x")
    if not (sep and clips.isdigit() and crops.isdigit() and int(clips) > 0 and int(crops) > 0):
        raise ValueError(f"views must look like CLIPSxCROPS (e.g. 4x3), got {views!r}")
    return int(clips), int(crops)


@dataclass(frozen=True)
class Recipe:
    """How a model reads a video at test time (see the module docstring).

    Attributes:
        num_classes: outputs of the classifier.
        sampling: a ``test_sampling`` data section (``type``, ``num_frames`` / ``clip_len``, ``num_clips``, …).
        transform: the test-time transform settings (:data:`TEST_TRANSFORM_KEYS`), resolved.
        average: how view scores are combined: ``"prob"`` (mean of softmax) or ``"logit"`` (mean of logits).
        multi_label: one sigmoid per class instead of a softmax over classes.
        backend: the video decoding backend.
        class_names: the classes' names in output order, or ``None`` when unknown.
    """

    num_classes: int
    sampling: Mapping[str, Any]
    transform: Mapping[str, Any]
    average: str = "prob"
    multi_label: bool = False
    backend: str = "pyav"
    class_names: tuple[str, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        from videoshift.data.samplers import build_sampler
        from videoshift.data.settings import TransformConfig

        if self.num_classes < 1:
            raise ValueError(f"a recipe needs num_classes >= 1, got {self.num_classes}")
        if self.average not in AVERAGES:
            raise ValueError(f"recipe average must be one of {AVERAGES}, got {self.average!r}")
        unknown = sorted(set(self.transform) - set(TEST_TRANSFORM_KEYS))
        if unknown:
            raise ValueError(f"recipe transform keys must be among {TEST_TRANSFORM_KEYS}, got {unknown}")
        if self.class_names is not None and len(self.class_names) != self.num_classes:
            raise ValueError(f"recipe has {len(self.class_names)} class names for {self.num_classes} classes")
        build_sampler(self.sampling, test_mode=True)  # raises ValueError naming a bad sampling key or value
        TransformConfig.from_mapping(self.transform)

    # ------------------------------------------------------------------------------------------ makers
    @classmethod
    def from_data_config(
        cls,
        data: Mapping[str, Any],
        num_classes: int,
        class_names: Sequence[str] | None = None,
        average: str = "prob",
        model: Any = None,
    ) -> Recipe:
        """The recipe of a config's ``data`` section: its test sampling and test-time transform.

        A model trained on the in-memory synthetic clips, which are rendered rather than sampled, reads a video
        with TSN sampling of its ``num_frames`` (TDN: segments of ``segment_frames``) at the rendered size (what
        ``videoshift data synth`` writes); ``model`` supplies those frames.
        """
        from videoshift.data.datasets import eval_sampling
        from videoshift.data.settings import SYNTHETIC_DEFAULTS, TransformConfig

        data = copy.deepcopy(dict(data))
        defaults: dict[str, Any] = {}
        sampling = eval_sampling(data)
        if data.get("dataset") == "synthetic":
            size = int({**SYNTHETIC_DEFAULTS, **dict(data.get("synthetic") or {})}["size"])
            defaults = {"input_size": size, "short_side": size}
            if "sampling" not in data and "test_sampling" not in data and model is not None:
                segment = int(getattr(model, "segment_frames", 1))
                sampling = {"type": "tsn", "num_frames": int(model.num_frames) // segment, "segment_frames": segment}
        resolved = asdict(TransformConfig.from_mapping(data.get("transform"), **defaults))
        transform = {key: _plain(resolved[key]) for key in TEST_TRANSFORM_KEYS}
        return cls(
            num_classes=int(num_classes),
            sampling=dict(sampling),
            transform=transform,
            average=average,
            multi_label=bool(data.get("multi_label", False)),
            backend=str(data.get("backend", "pyav")),
            class_names=tuple(class_names) if class_names else None,
        )

    @classmethod
    def from_training(cls, cfg: Mapping[str, Any], num_classes: int, class_names: Sequence[str] | None, model: Any):
        """The recipe a training run writes into its checkpoints: its config's data section and view averaging."""
        return cls.from_data_config(cfg["data"], num_classes, class_names, cfg["eval"]["average"], model)

    @classmethod
    def from_protocol(cls, spec: Any) -> Recipe:
        """The recipe of a registry entry (:class:`~videoshift.models.weights.WeightSpec`): its test protocol."""
        data = spec.protocol.data_config()
        return cls(
            num_classes=spec.num_classes,
            sampling=dict(data["test_sampling"]),
            transform={key: _plain(value) for key, value in data["transform"].items()},
            class_names=tuple(spec.class_names()),
        )

    @classmethod
    def for_frames(cls, num_frames: int, num_classes: int, size: int = 224) -> Recipe:
        """A plain recipe for weights that came without one: TSN sampling of ``num_frames``, a resize of the short
        side to ``size * 8 / 7`` and one centre crop of ``size``, ImageNet statistics."""
        from videoshift.data.settings import IMAGENET_MEAN, IMAGENET_STD

        transform = {
            "input_size": size,
            "short_side": round(size * 8 / 7),
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
            "test_crops": 1,
        }
        return cls(num_classes, {"type": "tsn", "num_frames": num_frames}, transform)

    # ---------------------------------------------------------------------------------------- stored form
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON, and safe for ``torch.load(weights_only=True)``)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        out["sampling"], out["transform"] = dict(self.sampling), dict(self.transform)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "recipe") -> Recipe:
        """The recipe written by :meth:`to_dict`; ``ValueError`` names ``where`` and an unknown or missing key."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{where}: unknown recipe keys {unknown} (known: {sorted(names)})")
        values = dict(data)
        if values.get("class_names") is not None:
            values["class_names"] = tuple(values["class_names"])
        try:
            return cls(**values)
        except TypeError as error:  # a missing required key
            raise ValueError(f"{where}: incomplete recipe ({error})") from None

    # ------------------------------------------------------------------------------------------ reading
    def with_views(self, views: str | None) -> Recipe:
        """The same recipe with ``"CLIPSxCROPS"`` views (``None``: unchanged)."""
        if not views:
            return self
        clips, crops = parse_views(views)
        extra = int(bool(self.sampling.get("twice_sample")))  # twice_sample's second pass is one of the clips
        if extra and clips < 2:
            raise ValueError(f"views {views!r}: this recipe's twice_sample reads at least 2 clips")
        sampling = {**self.sampling, "num_clips": clips - extra}
        return replace(self, sampling=sampling, transform={**self.transform, "test_crops": crops})

    def sampler(self) -> Any:
        """The test-mode :class:`~videoshift.data.samplers.FrameSampler` of this recipe."""
        from videoshift.data.samplers import build_sampler

        return build_sampler(self.sampling, test_mode=True)

    @property
    def frames_per_view(self) -> int:
        """Frames the model reads per view (its ``num_frames``)."""
        return self.sampler().frames_per_view

    @property
    def views(self) -> tuple[int, int]:
        """``(clips, crops)`` per video."""
        return self.sampler().num_views, int(self.transform["test_crops"])

    @property
    def input_size(self) -> int:
        return int(self.transform["input_size"])

    def data_config(self, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A ``data`` section that reads videos as this recipe says: ``data``'s lists, root, dataset kind and label
        map (default: plain video files given one by one) with the recipe's sampling, transform and classes."""
        out = {"dataset": "video", **copy.deepcopy(dict(data or {}))}
        for key in ("sampling", "test_sampling", "transform", "synthetic"):
            out.pop(key, None)
        out.update(
            test_sampling=dict(self.sampling),
            transform=dict(self.transform),
            num_classes=self.num_classes,
            multi_label=self.multi_label,
            backend=out.get("backend", self.backend),
        )
        if data is None or not data.get("label_map"):
            out["label_map"] = None
        return out

    def summary(self) -> dict[str, Any]:
        """What a person is told about the clip: frames and size per view, sampling, views, resize."""
        clips, crops = self.views
        return {
            "frames": self.frames_per_view,
            "size": self.input_size,
            "short_side": int(self.transform["short_side"]),
            "sampling": str(self.sampling.get("type", "tsn")),
            "views": f"{clips}x{crops}",
            "average": self.average,
        }

    def describe(self) -> str:
        """One line: ``8 frames (tsn) at 224 px (short side 256), 1x1 views``."""
        s = self.summary()
        return (
            f"{s['frames']} frames ({s['sampling']}) at {s['size']} px (short side {s['short_side']}), "
            f"{s['views']} views"
        )


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: JSON and ``weights_only`` keep them apart otherwise."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value
