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
    convert = sub.add_parser("convert", help="a checkpoint (any supported format) to model.safetensors + spec")
    convert.add_argument("source", type=Path, help="checkpoint file (.pth/.pt/.ckpt/.safetensors)")
    convert.add_argument("--model", required=True, help="registered model name")
    convert.add_argument("--num-classes", type=int, required=True)
    convert.add_argument("--num-frames", type=int, help="frames per clip (default: the model's)")
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
    """Convert, load strictly, write ``model.safetensors`` + ``spec.json`` + ``README.md``; print the sha256."""
    from safetensors.torch import save_file

    from videoshift.models import create_model
    from videoshift.models.checkpoint import load_checkpoint, read_state_dict
    from videoshift.models.complexity import count_params
    from videoshift.models.hub import sha256sum

    kwargs: dict[str, Any] = {"num_classes": args.num_classes}
    if args.num_frames:
        kwargs["num_frames"] = args.num_frames
    model = create_model(args.model, **kwargs)
    report = load_checkpoint(model, read_state_dict(args.source))  # weights_only; optimizer state is left behind
    if report.skipped_head:
        raise ValueError(f"{args.source}: the classifier does not fit num_classes={args.num_classes}")
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "model.safetensors"
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(target), metadata={"model": args.model, "kwargs": json.dumps(kwargs)})
    digest = sha256sum(target)
    spec = {
        "model": args.model,
        "kwargs": kwargs,
        "file": target.name,
        "sha256": digest,
        "size": target.stat().st_size,
        "params": count_params(model),
        "converted_from": {"file": args.source.name, "sha256": sha256sum(args.source)},
    }
    (args.out / "spec.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    card = (
        f"# {args.model} ({args.source.name})\n\n"
        f"Converted by `videoshift weights convert` from `{args.source.name}` (sha256 "
        f"`{spec['converted_from']['sha256']}`).\n\n"
        f"- model: `{args.model}`, arguments `{json.dumps(kwargs)}`, {spec['params']:,} parameters\n"
        f"- file: `model.safetensors`, sha256 `{digest}`, {spec['size']:,} bytes\n"
        f"- load: `create_model({args.model!r}, checkpoint='model.safetensors', **{kwargs!r})`\n\n"
        "License, training data and results: those of the source checkpoint; say where it came from here.\n"
    )
    (args.out / "README.md").write_text(card, encoding="utf-8")
    print(f"{target}  sha256 {digest}")
    return 0
