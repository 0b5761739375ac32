"""Training checkpoints: plain dicts written atomically and read back with ``weights_only=True``.

A checkpoint holds everything a run needs to continue bit for bit: the model weights and the arguments that
built it, the resolved config, optimizer / scheduler / grad-scaler states, the position (epoch, step inside the
epoch, global step), the best metric so far, and the RNG states of every rank (python, numpy, torch CPU and CUDA,
and the data loader's seed generator), as a list indexed by rank. Everything in it is a tensor, number, string,
``None`` or a list/dict of those, so the safe unpickler reads it.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST = "latest.pth"
BEST = "best.pth"


def atomic_save(obj: Mapping[str, Any], path: str | Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then ``os.replace`` it over ``path``.

    A reader (or a run killed at any moment) sees either the old file or the complete new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            torch.save(dict(obj), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`atomic_save` without unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return torch.load(path, map_location="cpu", weights_only=True)


def rng_state() -> dict[str, Any]:
    """The python, numpy and torch (CPU and CUDA) RNG states as weights_only-safe values."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": _to_lists(random.getstate()),
        "numpy": {
            "key": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore the states returned by :func:`rng_state`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["key"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def own_rng_state(
    saved: Sequence[Mapping[str, Any]] | Mapping[str, Any], rank: int, world_size: int
) -> Mapping[str, Any] | None:
    """This rank's entry of a checkpoint's per-rank RNG states, or ``None`` when the checkpoint was written by a
    different number of processes (its states then belong to no rank of this run).

    A single mapping (checkpoints written before per-rank states) counts as the states of a one-process run.
    """
    states = [saved] if isinstance(saved, Mapping) else list(saved)
    return states[rank] if len(states) == world_size else None


def _to_lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_to_lists(v) for v in value]
    return value
