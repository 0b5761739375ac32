"""Grad-CAM over time for every registered recognizer: which pixels of which frames drive a class score.

Grad-CAM (Selvaraju et al., 2017) on a feature map ``A`` of ``C`` channels: the channel weights are the
gradients of the class score averaged over the map, ``w_c = mean_{t,h,w} dS/dA_c``, and the map is
``ReLU(sum_c w_c A_c)``. For a clip the map has a time axis; the weights are averaged over time *and* space, so
one set of weights explains the whole clip and frames compare (the per-frame maps differ only through ``A``).

Where the map is taken (each recognizer's ``cam_layer()``, :func:`cam_layer`):

- CNN families (:class:`~videoshift.models.shift_cnn.ShiftCNN`: TSN, TSM, STSM, TANet, TDN, with either
  backbone): the output of the last stage, ``forward_features`` ``(B, F, T', h, w)``. ``T'`` is ``T`` but for
  TSM's temporal pooling (``T/2``) and TDN (one map per segment of 5 frames).
- Swin / PST (:class:`~videoshift.models.swin_video.SwinVideoRecognizer`): the last stage's normalised tokens,
  channels-last ``(B, T', H', W', C)``; the ``(2, 4, 4)`` patch embedding halves ``T``.
- DeiT (:class:`~videoshift.models.deit_video.DeiTVideo`): the patch tokens entering the last block's attention
  (the output of ``blocks[-1].norm1``), ``(B*T, P + N, D)`` reshaped to the ``h × w`` patch grid. Not the final
  tokens: the head reads only the class token of the last layer, so the patch tokens there get no gradient.

The map of feature frame ``t'`` covers the input frames ``t`` with ``t * T' // T == t'`` (a Swin tubelet of
two frames, a TDN segment of five); each is upsampled bilinearly to the input frame and the whole clip is
divided by its maximum, so 1 is the strongest evidence anywhere in the clip.

Gradients are caught with a tensor hook (``Tensor.register_hook``) on the feature map, not a module backward
hook: timm's blocks end in in-place activations, which module backward hooks reject. The backward pass runs
only to the feature map (``backward(inputs=[A])``), so parameter ``.grad`` fields are left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from videoshift.models.contract import CamLayer


def cam_layer(model: nn.Module) -> CamLayer:
    """The feature map Grad-CAM uses for ``model`` (its :meth:`~videoshift.models.contract.Recognizer.cam_layer`);
    ``ValueError`` for a model outside the recognizer contract."""
    if not callable(getattr(model, "cam_layer", None)):
        raise ValueError(f"grad_cam does not know where the feature maps of {type(model).__name__} are")
    return model.cam_layer()


def _as_clip(clip: torch.Tensor) -> torch.Tensor:
    if clip.ndim == 4:
        clip = clip[None]
    if clip.ndim != 5 or clip.shape[0] != 1:
        raise ValueError(f"expected one clip (C, T, H, W) or (1, C, T, H, W), got shape {tuple(clip.shape)}")
    return clip


def check_clip_frames(model: nn.Module, clip: torch.Tensor) -> None:
    """``ValueError`` unless the clip ``(1, C, T, H, W)`` has the model's ``num_frames``."""
    frames, expected = clip.shape[2], int(model.num_frames)
    if frames != expected:
        raise ValueError(
            f"clip has {frames} frames but {type(model).__name__} takes num_frames={expected}; "
            f"sample {expected} frames (the checkpoint's sampling does)"
        )


@dataclass
class CamResult:
    """A clip's Grad-CAM and the scores it explains.

    Attributes:
        cam: ``(T, H, W)`` in [0, 1], normalised over the clip.
        raw: ``(T', h, w)`` Grad-CAM at feature resolution, before upsampling and normalisation.
        probs: ``(num_classes,)`` softmax of the logits.
        target: the class explained.
    """

    cam: torch.Tensor
    raw: torch.Tensor
    probs: torch.Tensor
    target: int

    def top(self, k: int = 5) -> list[tuple[int, float]]:
        """The ``k`` most probable ``(class, probability)``, best first."""
        values, classes = self.probs.topk(min(k, self.probs.numel()))
        return list(zip(classes.tolist(), values.tolist(), strict=True))


def upsample_cam(raw: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """``(T', h, w)`` → ``(T, H, W)`` for ``size = (T, H, W)``: frame t takes map ``t * T' // T``, bilinear in space."""
    frames, height, width = (int(s) for s in size)
    index = torch.arange(frames, device=raw.device) * raw.shape[0] // frames
    spatial = F.interpolate(raw[:, None].float(), size=(height, width), mode="bilinear", align_corners=False)[:, 0]
    return spatial[index]


def normalise_cam(cam: torch.Tensor) -> torch.Tensor:
    """Divide by the clip's maximum (all zeros stay zeros): frames of one clip compare on one scale."""
    cam = cam.clamp(min=0)
    peak = cam.max()
    return cam / peak if peak > 0 else torch.zeros_like(cam)


def explain(model: nn.Module, clip: torch.Tensor, target: int | None = None) -> CamResult:
    """Grad-CAM of ``target`` (default: the top-1 class) for one clip ``(C, T, H, W)`` or ``(1, C, T, H, W)``.

    The model runs in eval mode (its mode is restored after), on the clip's device.

    Raises:
        ValueError: for a clip of the wrong shape or length, a model without known feature maps, or a target
            outside ``[0, num_classes)``.
    """
    clip = _as_clip(clip)
    check_clip_frames(model, clip)
    layer = cam_layer(model)
    caught: dict[str, torch.Tensor] = {}

    def keep(activation: torch.Tensor) -> torch.Tensor:
        caught["activation"] = activation
        activation.register_hook(lambda grad: caught.__setitem__("grad", grad))
        return activation

    handle = None
    if layer.module is not None:
        handle = layer.module.register_forward_hook(lambda _m, _i, out: keep(out))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            clip = clip.detach().requires_grad_(True)  # a graph even when every parameter is frozen
            features = model.forward_features(clip)
            if layer.module is None:
                keep(features)
            logits = model.forward_head(features)[0]
            if target is None:
                target = int(logits.argmax())
            if not 0 <= int(target) < logits.numel():
                raise ValueError(f"class {target} is outside the model's {logits.numel()} classes")
            target = int(target)
            logits[target].backward(inputs=[caught["activation"]])
    finally:
        if handle is not None:
            handle.remove()
        model.train(was_training)
    activation = layer.to_maps(caught["activation"].detach())  # (C, T', h, w)
    grad = layer.to_maps(caught["grad"].detach())
    weights = grad.mean(dim=(1, 2, 3))  # (C,)
    raw = torch.relu(torch.einsum("c,cthw->thw", weights, activation))
    cam = normalise_cam(upsample_cam(raw, clip.shape[2:]))
    return CamResult(cam=cam, raw=raw, probs=logits.detach().softmax(-1), target=target)


def grad_cam(model: nn.Module, clip: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """Per-frame Grad-CAM ``(T, H, W)`` in [0, 1] of ``target`` (default: top-1) for one clip; see :func:`explain`."""
    return explain(model, clip, target).cam


def class_index(name_or_id: str | int | None, class_names: Sequence[str] | None, num_classes: int) -> int | None:
    """A class given by name or id as its id (``None`` stays ``None``: the top-1); ``ValueError`` names a bad one."""
    if name_or_id is None:
        return None
    text = str(name_or_id).strip()
    names = list(class_names or [])
    if text in names:
        return names.index(text)
    if text.lstrip("-").isdigit():
        index = int(text)
        if 0 <= index < num_classes:
            return index
        raise ValueError(f"class id {index} is outside [0, {num_classes})")
    lowered = [n.lower() for n in names]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    hint = f"; classes: {', '.join(names[:12])}{' …' if len(names) > 12 else ''}" if names else " (no class names)"
    raise ValueError(f"unknown class {text!r}{hint}")
