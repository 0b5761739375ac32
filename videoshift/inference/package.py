"""Weights packages: a folder a user hands to any command as ``--weights DIR``.

A package holds ``model.safetensors`` (the weights, with the model name, its ``create_model`` arguments and the
recipe in the file's metadata, so the file alone still loads), ``spec.json`` (the same, plus its sha256, size,
parameter count and what the package was made from) and ``README.md`` (its model card). ``videoshift weights
convert`` and ``videoshift finetune`` write them; :mod:`videoshift.inference.sources` reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from videoshift.inference.recipe import Recipe
from videoshift.inference.sources import PACKAGE_SPEC, PACKAGE_WEIGHTS


def write_package(
    model: nn.Module,
    name: str,
    kwargs: Mapping[str, Any],
    recipe: Recipe,
    out_dir: str | Path,
    *,
    about: Mapping[str, Any] | None = None,
    card: str = "",
) -> dict[str, Any]:
    """Write ``model`` as a weights package into ``out_dir``; returns the ``spec.json`` written.

    Args:
        model: the recognizer whose state dict is saved.
        name, kwargs: the registered model and the ``create_model`` arguments that rebuild it.
        recipe: how it reads a video.
        out_dir: the package folder (created).
        about: more ``spec.json`` entries (what it was made from, its measured results).
        card: the model card's body, below a header that names the model, the file and its checksum.
    """
    from safetensors.torch import save_file

    from videoshift.models.complexity import count_params
    from videoshift.models.hub import sha256sum

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / PACKAGE_WEIGHTS
    kwargs = {k: v for k, v in dict(kwargs).items() if k != "pretrained"}
    metadata = {"model": name, "kwargs": json.dumps(kwargs), "recipe": json.dumps(recipe.to_dict())}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(target), metadata=metadata)
    spec = {
        "model": name,
        "kwargs": kwargs,
        "recipe": recipe.to_dict(),
        "file": target.name,
        "sha256": sha256sum(target),
        "size": target.stat().st_size,
        "params": count_params(model),
        **dict(about or {}),
    }
    (out / PACKAGE_SPEC).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    header = (
        f"# {name}\n\n"
        f"- model: `{name}`, arguments `{json.dumps(kwargs)}`, {spec['params']:,} parameters\n"
        f"- file: `{target.name}`, sha256 `{spec['sha256']}`, {spec['size']:,} bytes\n"
        f"- reads: {recipe.describe()}\n"
        f"- use: `videoshift predict VIDEO --weights {out}` (also `test`, `viz cam`, `export`, `demo`)\n\n"
    )
    (out / "README.md").write_text(header + card, encoding="utf-8")
    return spec
