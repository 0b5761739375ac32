"""Where a fine-tuning run starts: any model source the loader knows, or a registered model (ImageNet or random).

A source's weights (a registered tag, a training checkpoint, a weights package) are saved without the classifier
into the run folder as ``start.safetensors``, which the training config names as ``model.checkpoint``: the
Trainer's strict loader then loads every other weight and leaves the new classifier as the model made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videoshift.inference.recipe import Recipe

START_FILE = "start.safetensors"
ARCHITECTURE_FREE = ("num_classes", "num_frames", "pretrained")  # set by the run, not by the start


@dataclass(frozen=True)
class Start:
    """The model a run fine-tunes and the weights it begins with.

    Attributes:
        name: the registered model; ``kwargs``: its ``create_model`` arguments but classes and frames.
        recipe: how the start reads a video (the run's recipe unless overridden).
        family: the model family (``cnn``, ``swin``, ``vit``) that picks the fine-tuning defaults.
        source: one line naming the start.
        checkpoint: the start's weights without the classifier (``None``: ImageNet or random weights).
        pretrained: start from the ImageNet weights of the 2D counterpart.
        kept: tensors the start provides (all but the classifier's), 0 without ``checkpoint``.
    """

    name: str
    kwargs: dict[str, Any]
    recipe: Recipe
    family: str
    source: str
    checkpoint: Path | None
    pretrained: bool = False
    kept: int = 0

    def describe(self) -> str:
        """What the model starts from, in one line."""
        if self.checkpoint is not None:
            return f"{self.source}: {self.kept} tensors, every weight but the classifier"
        if self.pretrained:
            return f"{self.name} with the ImageNet weights of its 2D counterpart (timm), the classifier new"
        return f"{self.name} from scratch (random weights)"


def resolve_start(
    run_dir: Path,
    *,
    weights: str | None = None,
    checkpoint: str | Path | None = None,
    config: str | None = None,
    model: str | None = None,
    pretrained: bool = False,
    model_kw: dict[str, Any] | None = None,
    write: bool = True,
) -> Start:
    """The start the options name; with ``write`` the source's weights go to ``run_dir/start.safetensors``.

    Raises:
        ValueError: no start or two, ``--pretrained`` beside a source, or a source the loader rejects.
    """
    import torch

    from videoshift.models import create_model
    from videoshift.models.contract import is_head_key

    if weights is not None or checkpoint is not None:
        if pretrained:
            raise ValueError("--pretrained starts from ImageNet weights: give it with --model, not with a source")
        from videoshift.inference import load_model

        loaded = load_model(weights=weights, checkpoint=checkpoint, config=config, model=model)
        heads = tuple(loaded.model.head_keys)
        state = {k: v for k, v in loaded.model.state_dict().items() if not is_head_key(k, heads)}
        path = run_dir / START_FILE
        if write:
            from safetensors.torch import save_file

            run_dir.mkdir(parents=True, exist_ok=True)
            save_file({k: v.detach().clone().contiguous() for k, v in state.items()}, str(path))
        kwargs = {k: v for k, v in loaded.kwargs.items() if k not in ARCHITECTURE_FREE}
        family = str(getattr(loaded.model, "family", "other"))
        return Start(loaded.name, kwargs, loaded.recipe, family, loaded.source, path, kept=len(state))
    if model is None:
        raise ValueError("no start given: name one with --weights TAG|DIR|FILE, --checkpoint PATH or --model NAME")
    with torch.device("meta"):  # only its family and frames are needed: no memory, no initialisation
        built = create_model(model, **dict(model_kw or {}))
    recipe = Recipe.for_frames(int(built.num_frames), int(built.num_classes))
    return Start(model, {}, recipe, str(getattr(built, "family", "other")), model, None, pretrained)
