"""Model registry: every recognizer is a short ``@register_model`` entrypoint.

``create_model(name, **kwargs)`` is the one public way to build a model; unknown names raise
with the closest matches, and registering a name twice raises.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

ModelFactory = Callable[..., nn.Module]

_MODEL_ENTRYPOINTS: dict[str, ModelFactory] = {}


def register_model(fn: ModelFactory) -> ModelFactory:
    """Register ``fn`` under its function name; raises ``ValueError`` if the name is taken."""
    name = fn.__name__
    if name in _MODEL_ENTRYPOINTS:
        raise ValueError(f"model {name!r} is already registered")
    _MODEL_ENTRYPOINTS[name] = fn
    return fn


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally filtered by a ``fnmatch`` pattern."""
    import fnmatch

    names = sorted(_MODEL_ENTRYPOINTS)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def is_model(name: str) -> bool:
    """Whether ``name`` is a registered model."""
    return name in _MODEL_ENTRYPOINTS


def create_model(
    name: str, pretrained: bool | str = False, checkpoint: str | Path | None = None, **kwargs: Any
) -> nn.Module:
    """Build the registered model ``name``; keyword arguments go to its entrypoint.

    ``pretrained=True`` then loads the ImageNet weights of its 2D counterpart (timm downloads and caches them;
    :func:`videoshift.models.checkpoint.load_imagenet_weights`), the same way for every family. ``pretrained="tag"``
    names published video weights (:mod:`videoshift.models.weights`, ``videoshift weights list``; the part after
    ``name.`` is enough): the model is built with the weights' arguments (``kwargs`` override them), the file is
    downloaded once into the cache, verified and loaded strictly (:mod:`videoshift.models.hub`), and the model gets
    ``weights_spec`` and ``class_names`` attributes. A ``num_classes`` override re-initialises the classifier.
    ``checkpoint`` (a file path) is loaded strictly after that through
    :func:`videoshift.models.checkpoint.load_checkpoint`.
    """
    try:
        factory = _MODEL_ENTRYPOINTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, _MODEL_ENTRYPOINTS, n=5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known models: {', '.join(list_models())}"
        raise ValueError(f"unknown model {name!r}{hint}") from None
    spec = None
    if isinstance(pretrained, str):
        from videoshift.models.weights import get_weights

        spec = get_weights(pretrained, name)
        kwargs = {**spec.kwargs, **kwargs}
    model = factory(**kwargs)
    from videoshift.models.checkpoint import load_checkpoint, load_imagenet_weights

    if spec is not None:
        from videoshift.models.hub import load_weights

        same_head = int(kwargs["num_classes"]) == spec.num_classes
        load_weights(model, spec, strict_head=same_head)
        model.weights_spec = spec
        model.class_names = spec.class_names() if same_head else None
    elif pretrained:
        load_imagenet_weights(model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    return model
