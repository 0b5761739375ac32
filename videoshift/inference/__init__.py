"""The one inference path: a model source → a model with its recipe → predictions, offline and streaming.

:func:`load_model` accepts every source a user has (a registered weights tag, a training checkpoint, a weights
package, a config plus a weights file); :class:`Recipe` says how that model reads a video; :mod:`.predict` reads
videos with it and returns top-k predictions, :mod:`.online` streams a causal model frame by frame. ``predict``,
``test``, ``viz cam``, ``export`` and the demo all go through here. Names load on first use, so that
:mod:`.arguments` serves argument parsing without torch.
"""

from __future__ import annotations

from videoshift._lazy import lazy_getattr

_EXPORTS = {"Recipe": "recipe", "LoadedModel": "sources", "load_model": "sources"}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
