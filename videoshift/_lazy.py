"""Names of a package imported on first use (PEP 562), so that importing the package imports no torch.

``videoshift.data``, ``videoshift.deploy``, ``videoshift.models`` and ``videoshift.viz`` keep their public names
(``from videoshift.models import create_model``), but the command line can import their ``cli`` modules, and
parse its arguments, without loading the heavy modules those names live in.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``exports[name]`` (a sub-module) when ``name`` is used.

    Args:
        package: the package's ``__name__``.
        exports: public name -> the sub-module (relative to ``package``) that defines it.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
