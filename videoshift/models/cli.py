"""``videoshift weights list`` and ``videoshift weights convert``: the named weights and local conversion."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``weights`` command and its ``list`` / ``convert`` sub-commands."""
    weights = subparsers.add_parser("weights", help="published weights: list them, convert a checkpoint")
    sub = weights.add_subparsers(dest="weights_command", metavar="{list,convert}", required=True)
    listing = sub.add_parser("list", help="the named weights with their costs, protocol, results and sources")
    listing.add_argument("--model", help="only the weights of this model")
    listing.add_argument("--json", action="store_true", help="every field of every spec, as JSON")
    listing.set_defaults(func=run_list)
    convert = sub.add_parser(
        "convert",
        help="a checkpoint (any supported format) to a weights package: model.safetensors, spec.json, README.md",
        description="Write a weights package (--weights DIR of every command) from a training checkpoint (its model "
        "and recipe come along) or from an upstream checkpoint of --model (TSN sampling of its frames at --size).",
    )
    convert.add_argument("source", type=Path, help="checkpoint file (.pth/.pt/.ckpt/.safetensors)")
    convert.add_argument("--model", help="registered model name (required for a checkpoint that does not name it)")
    convert.add_argument("--num-classes", type=int, help="classes of the checkpoint's classifier")
    convert.add_argument("--num-frames", type=int, help="frames per clip (default: the model's)")
    convert.add_argument("--size", type=int, help="frame size the model reads (default: the recipe's, else 224)")
    convert.add_argument("--out", type=Path, required=True, help="folder for model.safetensors, spec.json, README.md")
    convert.set_defaults(func=run_convert)


def spec_as_dict(spec: Any) -> dict[str, Any]:
    """A weight spec as plain JSON data."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict) or hasattr(value, "items"):
            return {k: plain(v) for k, v in dict(value).items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    out = {f.name: plain(getattr(spec, f.name)) for f in dataclasses.fields(spec)}
    out["source"] = plain(dataclasses.asdict(spec.source))
    out["protocol"] = {f.name: plain(getattr(spec.protocol, f.name)) for f in dataclasses.fields(spec.protocol)}
    out["downloadable"] = spec.downloadable
    return out


def run_list(args: argparse.Namespace) -> int:
    """Print the weights table (or JSON)."""
    from videoshift.models.weights import list_weights

    specs = list_weights(args.model)
    if args.json:
        print(json.dumps([spec_as_dict(s) for s in specs], indent=2))
        return 0
    rows = [("tag", "params", "GMACs", "frames x views", "top-1", "license", "download", "source")]
    for s in specs:
        clips, crops = s.protocol.views
        top1 = f"{s.upstream_top1:.2f}" if s.upstream_top1 is not None else "-"
        fetch = {"sha256": "auto", "sha256-prefix": "auto (sha256 prefix)", "size": "auto (size)"}
        how = fetch.get(s.verification, "by hand") if s.downloadable else "by hand"
        views = f"{s.protocol.frames} x {clips}x{crops}"
        rows.append(
            (s.tag, f"{s.params / 1e6:.2f}M", f"{s.gmacs:.1f}", views, top1, s.license, how, s.source.repository)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print("top-1: as reported upstream (%); GMACs: one view, counted by videoshift; views: clips x crops")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    """Load the checkpoint strictly (the one loader), write the package, print the weights' sha256."""
    from videoshift.inference.package import write_package
    from videoshift.inference.recipe import Recipe
    from videoshift.inference.sources import load_model
    from videoshift.models.hub import sha256sum

    overrides: dict[str, Any] = {}
    if args.num_classes is not None:
        overrides["num_classes"] = args.num_classes
    if args.num_frames:
        overrides["num_frames"] = args.num_frames
    loaded = load_model(weights=args.source, model=args.model, model_kw=overrides)  # weights_only; no optimizer
    recipe = loaded.recipe
    if args.size is not None or args.num_frames:
        recipe = Recipe.for_frames(int(loaded.model.num_frames), loaded.num_classes, args.size or recipe.input_size)
    made_from = {"file": args.source.name, "sha256": sha256sum(args.source), "source": loaded.source}
    card = (
        f"Converted by `videoshift weights convert` from `{args.source.name}` (sha256 `{made_from['sha256']}`).\n\n"
        "License, training data and results: those of the source checkpoint; say where it came from here.\n"
    )
    spec = write_package(
        loaded.model, loaded.name, loaded.kwargs, recipe, args.out, about={"converted_from": made_from}, card=card
    )
    print(f"{args.out / spec['file']}  sha256 {spec['sha256']}")
    return 0
