"""Registered Swin video models: 2D Swin, Video Swin and PST, with the TPS paper's settings.

Every entrypoint takes ``num_classes``, ``num_frames``, ``drop_path_rate``,
``dropout``, the architecture overrides ``embed_dim``, ``depths``, ``num_heads``, ``window_size``,
``patch_size`` (an int sets the spatial size and keeps the temporal one), ``rpe``, and the
Table 2 switches ``mixing``, ``shift_pattern``, ``tps_stages``, ``alternate``, ``shift_back``,
``shift_rpe``, ``channel_div`` (see :class:`ShiftSettings`).

``create_model(..., pretrained=True)`` inflates timm's ImageNet Swin weights of the same size into the model.
"""

from __future__ import annotations

from typing import Any

from videoshift.models.registry import register_model
from videoshift.models.swin_video import ShiftSettings, SwinVideoBackbone, SwinVideoRecognizer
from videoshift.paper_defaults import HEAD_DROPOUT, PST_B_DROP_PATH, PST_FRAMES, PST_T_DROP_PATH

_SIZES: dict[str, dict[str, Any]] = {
    "t": {"embed_dim": 96, "depths": (2, 2, 6, 2), "num_heads": (3, 6, 12, 24), "drop_path_rate": PST_T_DROP_PATH},
    "b": {"embed_dim": 128, "depths": (2, 2, 18, 2), "num_heads": (4, 8, 16, 32), "drop_path_rate": PST_B_DROP_PATH},
}
#: timm names of the ImageNet Swin models that ``pretrained=True`` inflates, by size.
# timm's default tags, written out: Swin-T trained on ImageNet-1k, Swin-B on ImageNet-22k then fine-tuned on 1k
IMAGENET_SWIN = {"t": "swin_tiny_patch4_window7_224.ms_in1k", "b": "swin_base_patch4_window7_224.ms_in22k_ft_in1k"}
_SHIFT_KEYS = {
    "mixing": "mixing",
    "shift_pattern": "pattern",
    "tps_stages": "tps_stages",
    "alternate": "alternate",
    "shift_back": "shift_back",
    "shift_rpe": "shift_rpe",
    "channel_div": "channel_div",
}
_ARCH_KEYS = ("embed_dim", "depths", "num_heads")


def build_swin_video(
    size: str,
    defaults: dict[str, Any],
    *,
    num_classes: int = 400,
    num_frames: int = PST_FRAMES,
    dropout: float = HEAD_DROPOUT,
    **kwargs: Any,
) -> SwinVideoRecognizer:
    """Build a Swin video recognizer of ``size`` (``"t"``/``"b"``) from entrypoint ``defaults`` + overrides."""
    overridden = [k for k in _ARCH_KEYS if k in kwargs and _as_tuple(kwargs[k]) != _as_tuple(_SIZES[size][k])]
    config = {**_SIZES[size], "patch_size": (2, 4, 4), "window_size": (1, 7, 7), **defaults}
    for key in ("patch_size", "window_size"):  # an int sets the spatial size, keeping the temporal one
        if isinstance(kwargs.get(key), int):
            kwargs[key] = (config[key][0], kwargs[key], kwargs[key])
    config.update(kwargs)
    shift_args = {field: config.pop(key) for key, field in _SHIFT_KEYS.items() if key in config}
    if "tps_stages" in shift_args:
        shift_args["tps_stages"] = tuple(shift_args["tps_stages"])
    backbone = SwinVideoBackbone(shift=ShiftSettings(**shift_args), num_frames=num_frames, **config)
    model = SwinVideoRecognizer(backbone, num_classes=num_classes, dropout=dropout)
    model.imagenet_weights = None if overridden else IMAGENET_SWIN[size]
    return model


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


#: What the entrypoints' ``**kwargs`` may name: the builder's keywords, the backbone's and the shift switches.
_SWIN_KWARGS = (build_swin_video, SwinVideoBackbone, *_SHIFT_KEYS)

#: Names of the models registered here.
SWIN_MODELS = ("swin2d_t", "swin2d_b", "video_swin_t", "video_swin_b", "pst_t", "pst_b", "pst_t_tw2", "pst_b_tw2")

_PST = {"mixing": "pst", "rpe": "official"}
_PST_TW2 = {"mixing": "pst", "rpe": "general", "window_size": (2, 7, 7)}


@register_model(kwargs_to=_SWIN_KWARGS)
def swin2d_t(**kwargs: Any) -> SwinVideoRecognizer:
    """2D Swin-T per frame + temporal average ("Avgpool"), tubelet embedding (2, 4, 4)."""
    return build_swin_video("t", {"rpe": "general"}, **kwargs)


@register_model(kwargs_to=_SWIN_KWARGS)
def swin2d_b(**kwargs: Any) -> SwinVideoRecognizer:
    """2D Swin-B per frame + temporal average."""
    return build_swin_video("b", {"rpe": "general"}, **kwargs)


@register_model(kwargs_to=_SWIN_KWARGS)
def video_swin_t(**kwargs: Any) -> SwinVideoRecognizer:
    """Video Swin-T: 3D windows 8×7×7 ("Local"); ``window_size=(16, 7, 7)`` gives "Joint"."""
    return build_swin_video("t", {"rpe": "general", "window_size": (8, 7, 7)}, **kwargs)


@register_model(kwargs_to=_SWIN_KWARGS)
def video_swin_b(**kwargs: Any) -> SwinVideoRecognizer:
    """Video Swin-B: 3D windows 8×7×7."""
    return build_swin_video("b", {"rpe": "general", "window_size": (8, 7, 7)}, **kwargs)


@register_model(kwargs_to=_SWIN_KWARGS)
def pst_t(**kwargs: Any) -> SwinVideoRecognizer:
    """PST-T as released: TCS / TPS (pattern C) blocks in turns, window 1×7×7, official RPE."""
    return build_swin_video("t", _PST, **kwargs)


@register_model(kwargs_to=_SWIN_KWARGS)
def pst_b(**kwargs: Any) -> SwinVideoRecognizer:
    """PST-B as released."""
    return build_swin_video("b", _PST, **kwargs)


@register_model(kwargs_to=_SWIN_KWARGS)
def pst_t_tw2(**kwargs: Any) -> SwinVideoRecognizer:
    """PST-T†: temporal attention window 2 (general RPE; the release cannot run it)."""
    return build_swin_video("t", _PST_TW2, **kwargs)


@register_model(kwargs_to=_SWIN_KWARGS)
def pst_b_tw2(**kwargs: Any) -> SwinVideoRecognizer:
    """PST-B†: temporal attention window 2."""
    return build_swin_video("b", _PST_TW2, **kwargs)
