"""The model-source options every command that runs a model shares, with one meaning everywhere (torch-free).

``--weights TAG|DIR|FILE`` (a registered tag, a weights package folder, or a weights file), ``--checkpoint PATH``
(a training checkpoint, or with ``--config`` any weights file) and ``--config CFG`` (the model a plain weights
file fits). :func:`load_from_args` hands them to :func:`videoshift.inference.load_model` and says on stderr which
model it found and how it reads a video.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videoshift.inference.sources import LoadedModel


def add_source_arguments(parser: argparse.ArgumentParser, *, config: bool = True) -> None:
    """Add ``--weights``, ``--checkpoint`` and (with ``config``) ``--config`` to ``parser``."""
    group = parser.add_argument_group("model (one of --weights and --checkpoint)")
    group.add_argument(
        "--weights",
        metavar="TAG|DIR|FILE",
        help="registered weights (videoshift weights list), a weights package folder, or a weights file",
    )
    group.add_argument(
        "--checkpoint", type=Path, metavar="PATH", help="a training checkpoint (or, with --config, any weights file)"
    )
    if config:
        group.add_argument("--config", metavar="CFG", help="config (file or built-in name) a plain weights file fits")


def load_from_args(args: argparse.Namespace, device: Any = "cpu", **kwargs: Any) -> LoadedModel:
    """The model the parsed source options name (see :func:`videoshift.inference.load_model` for ``kwargs``)."""
    from videoshift.inference.sources import load_model

    loaded = load_model(
        weights=args.weights, checkpoint=args.checkpoint, config=getattr(args, "config", None), device=device, **kwargs
    )
    say_loaded(loaded)
    return loaded


def say_loaded(loaded: LoadedModel) -> None:
    """One stderr line: the model found and the clip it reads."""
    print(f"model: {loaded.source}; reads {loaded.recipe.describe()}", file=sys.stderr, flush=True)


def source_label(args: argparse.Namespace) -> str:
    """A short name of the source for titles: ``run/best.pth``, a package folder or a tag."""
    where = args.checkpoint or args.weights
    path = Path(str(where))
    return f"{path.parent.name}/{path.name}" if path.exists() and path.parent.name else str(where)
