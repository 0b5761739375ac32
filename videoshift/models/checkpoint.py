"""Reading and strictly loading checkpoints, whatever framework wrote them.

A checkpoint is read without unpickling arbitrary objects (``torch.load(weights_only=True)`` or
safetensors), unwrapped from its container (``state_dict`` / ``model`` / ``module``), passed
through the model's own ``checkpoint_filter`` (which renames official key formats, inflates 2D
weights, …), and loaded strictly: only the model's declared head (``head_keys``) may be absent or
differ in shape, and every other missing or unexpected key is reported by name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from videoshift.models.contract import Recognizer, is_head_key

logger = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]
_CONTAINER_KEYS = ("state_dict", "model", "module", "model_state")


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not fit the model; the message names the keys."""


@dataclass
class LoadReport:
    """What happened when a checkpoint was loaded."""

    loaded: int
    skipped_head: list[str] = field(default_factory=list)


def read_state_dict(source: str | Path | Mapping[str, object]) -> StateDict:
    """Read a state dict from a file (``.pth``/``.pt``/``.ckpt`` or ``.safetensors``) or a mapping.

    Nested containers such as ``{"state_dict": …}`` (MMAction2), ``{"model": …}`` (official Swin,
    videoshift) or ``{"module": …}`` are unwrapped; non-tensor entries at the top are dropped.
    """
    if isinstance(source, Mapping):
        state: Mapping[str, object] = source
    else:
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"checkpoint file not found: {path}")
        try:
            if path.suffix == ".safetensors":
                from safetensors.torch import load_file

                state = load_file(str(path))
            else:
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # the file is ours to blame, name it
            raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    while not any(isinstance(v, torch.Tensor) for v in state.values()):
        inner = next((state[k] for k in _CONTAINER_KEYS if isinstance(state.get(k), Mapping)), None)
        if inner is None:
            raise CheckpointError(f"no tensors found in checkpoint (top-level keys: {sorted(state)[:10]})")
        state = inner
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def load_checkpoint(model: Recognizer, source: str | Path | Mapping[str, object]) -> LoadReport:
    """Load ``source`` into ``model`` strictly, except for the model's declared head.

    The model's ``checkpoint_filter`` converts other key formats; its ``head_keys`` name the classifier, which may
    be absent or sized for another task.
    Raises :class:`CheckpointError` naming every missing, unexpected or mis-shaped key.
    """
    state = read_state_dict(source)
    state = model.checkpoint_filter(state)
    head_keys = tuple(model.head_keys)
    own = model.state_dict()

    skipped_head = []
    mismatched = []
    for key in list(state):
        if key in own and own[key].shape != state[key].shape:
            if is_head_key(key, head_keys):
                skipped_head.append(key)
                del state[key]
            else:
                mismatched.append(f"{key}: checkpoint {tuple(state[key].shape)} vs model {tuple(own[key].shape)}")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    missing_head = [k for k in missing if is_head_key(k, head_keys)]
    missing = [k for k in missing if k not in missing_head]
    unexpected = [k for k in unexpected if not is_head_key(k, head_keys)]
    problems = []
    if mismatched:
        problems.append("shape mismatch: " + "; ".join(mismatched))
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if problems:
        raise CheckpointError(f"checkpoint does not fit {type(model).__name__}: " + " | ".join(problems))

    to_load = {k: v for k, v in state.items() if k in own}  # unexpected head keys are left out
    model.load_state_dict(to_load, strict=False)
    skipped_head += missing_head
    if skipped_head:
        logger.warning("classifier head not loaded (re-initialised): %s", ", ".join(skipped_head))
    return LoadReport(loaded=len(to_load), skipped_head=skipped_head)


def load_imagenet_weights(model: Recognizer) -> LoadReport:
    """Load the ImageNet weights of ``model.imagenet_weights`` (timm's ``<architecture>.<tag>``), from the file
    :func:`~videoshift.models.imagenet.imagenet_file` finds or downloads, through timm's own loading.

    They go through the model's own ``checkpoint_filter`` (2D weights inflated, keys renamed) and are loaded
    strictly except for the classifier, which is re-initialised.

    Raises:
        ValueError: the model's architecture has no ImageNet counterpart, or
            :class:`~videoshift.models.imagenet.ImageNetWeightsError`: the file is not here and cannot be fetched.
    """
    name = model.imagenet_weights
    if name is None:
        raise ValueError(
            f"{type(model).__name__} has no ImageNet weights for this architecture: pretrained=True needs the "
            "standard architecture of the paper's model (width, depth, heads)"
        )
    import timm

    from videoshift.models import imagenet

    path = imagenet.imagenet_file(name)
    logger.info("loading the ImageNet weights of timm %s from %s", name, path)
    image = timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": str(path)})
    return load_checkpoint(model, image.state_dict())
