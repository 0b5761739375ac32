"""The one inference path: a model source → a model with its recipe → predictions, offline and streaming.

:func:`load_model` accepts every source a user has (a registered weights tag, a training checkpoint, a weights
package, a config plus a weights file); :class:`Recipe` says how that model reads a video; :mod:`.predict` reads
videos with it and returns top-k predictions. ``predict``, ``test``, ``viz cam``, ``export`` and the demo all go
through here. The names below load on first use, so that :mod:`.arguments` serves argument parsing without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videoshift.inference.recipe import Recipe
    from videoshift.inference.sources import LoadedModel, load_model

_HOMES = {"Recipe": "recipe", "LoadedModel": "sources", "load_model": "sources"}
__all__ = ["LoadedModel", "Recipe", "load_model"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'videoshift.inference' has no attribute {name!r}")
    return getattr(importlib.import_module(f"videoshift.inference.{_HOMES[name]}"), name)
