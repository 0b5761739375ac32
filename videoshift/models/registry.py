"""Model registry: every recognizer is a short ``@register_model`` entrypoint.

``create_model(name, **kwargs)`` is the one public way to build a model; unknown names and unknown keyword
arguments raise with the closest matches, and registering a name twice raises.

The built-in model families are imported on the first lookup (:func:`create_model`, :func:`list_models`,
:func:`is_model`), not with the package, so that ``videoshift`` commands parse their arguments without torch.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from torch import nn

ModelFactory = Callable[..., nn.Module]
#: What an entrypoint's ``**kwargs`` may name: a callable (its keyword parameters) or one plain name.
KwargsTarget = Callable[..., Any] | str

#: Modules of :mod:`videoshift.models` whose entrypoints are the built-in models.
BUILTIN_FAMILIES = ("deit_video", "shift_cnn", "swin_zoo", "tanet", "tdn")

_MODEL_ENTRYPOINTS: dict[str, ModelFactory] = {}
_KWARGS_TARGETS: dict[str, tuple[KwargsTarget, ...]] = {}


def register_model(
    fn: ModelFactory | None = None, *, kwargs_to: Sequence[KwargsTarget] = ()
) -> ModelFactory | Callable[[ModelFactory], ModelFactory]:
    """Register ``fn`` under its function name; raises ``ValueError`` if the name is taken.

    Used bare (``@register_model``) or with ``kwargs_to``: where the entrypoint's ``**kwargs`` go (the family's
    constructor or builder, and plain names a builder handles itself), so that :func:`create_model` can name a
    misspelt keyword before building anything (see :func:`model_keywords`).
    """
    if fn is None:
        return functools.partial(register_model, kwargs_to=kwargs_to)
    name = fn.__name__
    if name in _MODEL_ENTRYPOINTS:
        raise ValueError(f"model {name!r} is already registered")
    _MODEL_ENTRYPOINTS[name] = fn
    _KWARGS_TARGETS[name] = tuple(kwargs_to)
    return fn


@functools.cache
def _load_builtin_models() -> None:
    """Import the built-in families once; their ``@register_model`` entrypoints register themselves."""
    for family in BUILTIN_FAMILIES:
        importlib.import_module(f"videoshift.models.{family}")


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally filtered by a ``fnmatch`` pattern."""
    import fnmatch

    _load_builtin_models()
    names = sorted(_MODEL_ENTRYPOINTS)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def is_model(name: str) -> bool:
    """Whether ``name`` is a registered model."""
    _load_builtin_models()
    return name in _MODEL_ENTRYPOINTS


def _keyword_parameters(fn: Callable[..., Any], kinds: Iterable[inspect._ParameterKind]) -> tuple[set[str], bool]:
    """The names of ``fn``'s parameters of ``kinds``, and whether it takes ``**kwargs``."""
    parameters = inspect.signature(fn).parameters.values()
    names = {p.name for p in parameters if p.kind in kinds}
    return names, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _target_keywords(target: KwargsTarget) -> set[str]:
    """The keywords a ``kwargs_to`` target accepts.

    A class: its ``__init__``'s, and up the MRO while an ``__init__`` hands ``**kwargs`` to ``super()`` (so a
    timm ``VisionTransformer`` subclass accepts timm's arguments). A function (a family's builder): its
    keyword-only ones; the entrypoint fills its positional ones, and what its ``**kwargs`` take is declared
    by the other targets. A string: itself.
    """
    if isinstance(target, str):
        return {target}
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if not isinstance(target, type):
        return _keyword_parameters(target, (inspect.Parameter.KEYWORD_ONLY,))[0]
    names: set[str] = set()
    for cls in target.__mro__:
        if cls in (nn.Module, object) or "__init__" not in vars(cls):
            continue
        found, forwards = _keyword_parameters(cls.__init__, keyword)
        names |= found - {"self"}
        if not forwards:
            break
    return names


def model_keywords(name: str) -> frozenset[str] | None:
    """The keyword arguments that model ``name`` accepts, or ``None`` where they are not known.

    They are the entrypoint's own parameters and, where it takes ``**kwargs``, those of the targets declared
    with ``register_model(kwargs_to=...)``; an entrypoint with ``**kwargs`` and no declaration accepts unknown
    keywords (``None``). ``pretrained`` and ``checkpoint`` are :func:`create_model`'s own.
    """
    fn = _model_entrypoint(name)
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names, forwards = _keyword_parameters(fn, keyword)
    targets = _KWARGS_TARGETS.get(name, ())
    if forwards and not targets:
        return None
    for target in targets:
        names |= _target_keywords(target)
    return frozenset(names)


def check_model_kwargs(name: str, kwargs: Iterable[str]) -> None:
    """Raise ``ValueError`` naming every keyword that model ``name`` does not accept, closest valid ones first."""
    valid = model_keywords(name)
    if valid is None:
        return
    unknown = [key for key in kwargs if key not in valid]
    if not unknown:
        return
    problems = []
    for key in unknown:
        close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
        problems.append(f"{key!r}" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
    close_first = difflib.get_close_matches(unknown[0], valid, n=len(valid), cutoff=0.0)
    raise ValueError(
        f"model {name!r} takes no keyword argument {', '.join(problems)}; it takes: {', '.join(close_first)}"
    )


def unknown_model_message(name: str) -> str:
    """``"unknown model NAME; did you mean ..."`` with the closest registered names (or all of them)."""
    close = difflib.get_close_matches(name, list_models(), n=5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known models: {', '.join(list_models())}"
    return f"unknown model {name!r}{hint}"


def _model_entrypoint(name: str) -> ModelFactory:
    """The entrypoint of ``name``; ``ValueError`` with the closest registered names where there is none."""
    _load_builtin_models()
    try:
        return _MODEL_ENTRYPOINTS[name]
    except KeyError:
        raise ValueError(unknown_model_message(name)) from None


def create_model(
    name: str, pretrained: bool | str = False, checkpoint: str | Path | None = None, **kwargs: Any
) -> nn.Module:
    """Build the registered model ``name``; keyword arguments go to its entrypoint.

    ``pretrained=True`` then loads the ImageNet weights of its 2D counterpart (timm downloads and caches them;
    :func:`videoshift.models.checkpoint.load_imagenet_weights`), the same way for every family. ``pretrained="tag"``
    names published video weights (:mod:`videoshift.models.weights`, ``videoshift weights list``; the part after
    ``name.`` is enough): the model is built with the weights' arguments (``kwargs`` override them), the file is
    downloaded once into the cache, verified and loaded strictly (:mod:`videoshift.models.hub`). A ``num_classes``
    override re-initialises the classifier. The weights' recipe and class names travel with
    :func:`videoshift.inference.load_model`, not on the model.
    ``checkpoint`` (a file path) is loaded strictly after that through
    :func:`videoshift.models.checkpoint.load_checkpoint`.

    Raises:
        ValueError: ``name`` is not registered, or a keyword is not one the model takes (both with the closest
            valid names).
    """
    factory = _model_entrypoint(name)
    check_model_kwargs(name, kwargs)
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
    elif pretrained:
        load_imagenet_weights(model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    return model
