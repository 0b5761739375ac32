"""``videoshift export``: a model (any source the other commands take) to ONNX, checked against PyTorch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from videoshift.assignments import parse_assignments
from videoshift.deploy.choices import EXPORTERS
from videoshift.inference.arguments import add_source_arguments


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``videoshift export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a model to ONNX (whole clip, or the single streaming step with --stream)",
        description="Export a model to ONNX: --weights or --checkpoint (frames and size from its recipe), or MODEL "
        "(a registered name or a config) with untrained weights. The batch stays dynamic; T and the frame size are "
        "fixed at export (shift indices, window layouts and the consensus depend on them).",
    )
    parser.add_argument(
        "model", nargs="?", help="registered model name or config; with a source, the model it must hold"
    )
    add_source_arguments(parser)
    parser.add_argument("--frames", type=int, help="frames T of the exported clip (default: the model's)")
    parser.add_argument("--size", type=int, help="frame height and width (default: the recipe's, else 224)")
    parser.add_argument("--num-classes", type=int, default=None, help="classifier width (untrained models only)")
    parser.add_argument(
        "--model-kw",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model keyword argument, value read as YAML like --set (repeatable), e.g. window_size=[16,7,7]",
    )
    parser.add_argument(
        "--allow-causal",
        action="store_true",
        help="let --model-kw causal=true convert a model trained with two-way shifts (its outputs change)",
    )
    parser.add_argument("--out", type=Path, required=True, help="the .onnx file to write")
    parser.add_argument("--exporter", choices=EXPORTERS, default="auto", help="auto: dynamo, else TorchScript")
    parser.add_argument(
        "--stream", action="store_true", help="export the causal streaming step (frames, state) -> (logits, state)"
    )
    parser.add_argument("--chunk", type=int, default=1, help="frames per streaming step (with --stream; default 1)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare ONNX Runtime with PyTorch at batch 1 and 2 (exit 1 if they differ)",
    )
    parser.add_argument("--atol", type=float, default=1e-3, help="with --check: largest |logit difference| allowed")
    parser.set_defaults(func=run_export)


def load_for_export(args: argparse.Namespace):
    """The model to export from the shared source options (or ``MODEL`` untrained), with ``--frames`` and
    ``--model-kw`` applied; says on stderr what it loaded."""
    from videoshift.inference.arguments import say_loaded
    from videoshift.inference.sources import load_model
    from videoshift.models import is_model

    kwargs = parse_assignments(args.model_kw)
    if args.frames is not None:
        kwargs["num_frames"] = args.frames
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    named, config = args.model, args.config
    if args.model is not None and not is_model(args.model):
        if args.config is not None:
            raise ValueError(f"{args.model} is not a registered model, and --config {args.config} is given too")
        named, config = None, as_config(args.model)
    loaded = load_model(
        weights=args.weights,
        checkpoint=args.checkpoint,
        config=config,
        model=named,
        model_kw=kwargs,
        allow_causal=args.allow_causal,
        allow_random=True,
    )
    say_loaded(loaded)
    if args.weights is None and args.checkpoint is None:
        print("note: no --weights or --checkpoint: the exported model has untrained weights", file=sys.stderr)
    return loaded


def as_config(name: str) -> str:
    """``name`` when it is a config (file or built-in name); else the unknown-model error with the closest names."""
    from videoshift.engine.config import load_config
    from videoshift.models.registry import unknown_model_message

    try:
        load_config(name, [])
    except ValueError as error:
        if Path(name).suffix in (".yaml", ".yml") or Path(name).is_file():
            raise  # a config was meant: its own error says what is wrong with it
        raise ValueError(f"{unknown_model_message(name)} (nor is it a config)") from error
    return name


def run_export(args: argparse.Namespace) -> int:
    """Export, optionally check (exit 1 when ONNX Runtime and PyTorch disagree), and name every file written."""
    import torch

    from videoshift.deploy.export import export_model, export_module, op_types, parity
    from videoshift.deploy.stream import Stream

    loaded = load_for_export(args)
    model, frames = loaded.model, int(loaded.model.num_frames)
    size = args.size or loaded.recipe.input_size
    generator = torch.Generator().manual_seed(0)
    if args.stream:
        stream = Stream(model, size)
        names = stream_names(stream.num_layers)
        example = (torch.randn(1, 3, args.chunk, size, size, generator=generator), *stream.init_state(1))
        result = export_module(stream.net, example, args.out, exporter=args.exporter, **names)
        net = stream.net

        def feed(batch: int) -> dict[str, torch.Tensor]:
            clip = torch.randn(batch, 3, args.chunk, size, size, generator=generator)
            state = [torch.randn(batch, *shape, generator=generator) for shape in stream.state_shapes]
            return dict(zip(names["input_names"], (clip, *state), strict=True))
    else:
        result = export_model(model, args.out, frames=frames, size=size, exporter=args.exporter)
        net = model

        def feed(batch: int) -> dict[str, torch.Tensor]:
            return {"clip": torch.randn(batch, 3, frames, size, size, generator=generator)}

    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    written = [result.path] + [path for path in (Path(f"{result.path}.data"),) if path.is_file()]
    print(f"wrote {', '.join(map(str, written))} ({result.exporter} exporter, opset {result.opset})")
    name, length = ("frames", args.chunk) if args.stream else ("clip", frames)
    print(f"input: {name} (batch, 3, {length}, {size}, {size})")
    if not args.check:
        return 0
    check = parity(net, result.path, [feed(1), feed(2)])
    scatters = sorted(op for op in op_types(result.path) if "Scatter" in op)
    print(f"max |onnx - torch| {check['max_abs_diff']:.3g}, same top-5 {check['same_topk']}, scatter ops {scatters}")
    if check["same_topk"] and check["max_abs_diff"] <= args.atol:
        return 0
    print(
        f"videoshift export: check failed: ONNX Runtime and PyTorch differ (top-5 the same: {check['same_topk']}, "
        f"max |difference| {check['max_abs_diff']:.3g} > --atol {args.atol:g} or top-5 differ)",
        file=sys.stderr,
    )
    return 1


def stream_names(layers: int) -> dict[str, list[str]]:
    """Input and output names of the exported streaming step."""
    return {
        "input_names": ["frames", *(f"state_in_{i}" for i in range(layers))],
        "output_names": ["logits", *(f"state_out_{i}" for i in range(layers))],
    }
