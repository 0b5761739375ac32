"""``videoshift export``, and the ``--stream`` mode of ``videoshift predict``."""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from videoshift.assignments import parse_assignments
from videoshift.deploy.choices import EXPORTERS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``videoshift export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a model to ONNX (whole clip, or the single streaming step with --stream)",
        description="Export MODEL (a registered name or a YAML config) to ONNX. The batch stays dynamic; "
        "T and the frame size are fixed at export (shift indices, window layouts and the consensus depend on them).",
    )
    parser.add_argument("model", help="registered model name or YAML config (file or built-in name)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="training checkpoint or weights file")
    parser.add_argument("--frames", type=int, default=8, help="frames T of the exported clip (default 8)")
    parser.add_argument("--size", type=int, default=224, help="frame height and width (default 224)")
    parser.add_argument("--num-classes", type=int, default=None, help="classifier width (default: the model's)")
    parser.add_argument(
        "--model-kw",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model keyword argument, value read as YAML like --set (repeatable), e.g. window_size=[16,7,7]",
    )
    parser.add_argument("--out", type=Path, required=True, help="the .onnx file to write")
    parser.add_argument("--exporter", choices=EXPORTERS, default="auto", help="auto: dynamo, else TorchScript")
    parser.add_argument(
        "--stream", action="store_true", help="export the causal streaming step (frames, state) -> (logits, state)"
    )
    parser.add_argument("--chunk", type=int, default=1, help="frames per streaming step (with --stream; default 1)")
    parser.add_argument("--check", action="store_true", help="compare ONNX Runtime with PyTorch at batch 1 and 2")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Export, optionally check, and print what was written."""
    import torch

    from videoshift.deploy.export import export_model, export_module, load_model, op_types, parity
    from videoshift.deploy.stream import Stream

    model = load_model(
        args.model,
        frames=args.frames,
        checkpoint=args.checkpoint,
        num_classes=args.num_classes,
        overrides=parse_assignments(args.model_kw),
    )
    generator = torch.Generator().manual_seed(0)
    if args.stream:
        stream = Stream(model, args.size)
        names = stream_names(stream.num_layers)
        example = (torch.randn(1, 3, args.chunk, args.size, args.size, generator=generator), *stream.init_state(1))
        result = export_module(stream.net, example, args.out, exporter=args.exporter, **names)
        net = stream.net

        def feed(batch: int) -> dict[str, torch.Tensor]:
            frames = torch.randn(batch, 3, args.chunk, args.size, args.size, generator=generator)
            state = [torch.randn(batch, *shape, generator=generator) for shape in stream.state_shapes]
            return dict(zip(names["input_names"], (frames, *state), strict=True))
    else:
        result = export_model(model, args.out, frames=args.frames, size=args.size, exporter=args.exporter)
        net = model

        def feed(batch: int) -> dict[str, torch.Tensor]:
            return {"clip": torch.randn(batch, 3, args.frames, args.size, args.size, generator=generator)}

    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {result.path} ({result.exporter} exporter, opset {result.opset})")
    if args.check:
        check = parity(net, result.path, [feed(1), feed(2)])
        scatters = sorted(op for op in op_types(result.path) if "Scatter" in op)
        print(
            f"max |onnx - torch| {check['max_abs_diff']:.3g}, same top-5 {check['same_topk']}, scatter ops {scatters}"
        )
    return 0


def stream_names(layers: int) -> dict[str, list[str]]:
    """Input and output names of the exported streaming step."""
    return {
        "input_names": ["frames", *(f"state_in_{i}" for i in range(layers))],
        "output_names": ["logits", *(f"state_out_{i}" for i in range(layers))],
    }


def camera_or_file(source: str) -> tuple[str, dict[str, Any]]:
    """``av.open`` arguments of a video file, a camera device (``/dev/video0``) or a camera number (``0``)."""
    if source.isdigit():
        source = f"/dev/video{source}"
    if source.startswith("/dev/video"):
        if not Path(source).exists():
            raise ValueError(f"no camera device {source} on this machine")
        return source, {"format": "v4l2"}
    if not Path(source).exists():
        raise ValueError(f"no such video: {source}")
    return source, {}


def decoded_frames(source: str) -> Iterator[Any]:
    """RGB frames ``(H, W, 3)`` uint8 NumPy arrays of a video file or camera, as they are decoded."""
    import av

    from videoshift.data.readers import to_rgb

    path, options = camera_or_file(source)
    with av.open(path, **options) as container:
        for frame in container.decode(video=0):
            yield to_rgb(frame)


def stream_predictions(
    source: str, checkpoint: Path, top_k: int = 5, window: int = 8, every: int = 1
) -> Iterator[tuple[int, list[tuple[str, float]]]]:
    """``(frame number, running top-k)`` while ``source`` plays: the mean of the last ``window`` frame scores.

    The checkpoint's model must stream (a causal shift CNN, or TSN); others are refused with the reason.
    Frames get the checkpoint's test-time resize, centre crop and normalisation.
    """
    import torch

    from videoshift.data.settings import TransformConfig
    from videoshift.data.transforms import ClipTransform
    from videoshift.deploy.stream import Stream
    from videoshift.engine.runner import load_trained

    model, ckpt = load_trained(checkpoint, "cpu")
    names = list(ckpt.get("class_names") or [])
    transform_cfg = dict(ckpt["config"]["data"].get("transform") or {})
    config = TransformConfig.from_mapping({**transform_cfg, "test_crops": 1})
    transform = ClipTransform(config, train=False)
    stream = Stream(model, config.input_size)  # raises ValueError with the reason for models that cannot stream
    state = stream.init_state(1)
    scores: collections.deque[torch.Tensor] = collections.deque(maxlen=window)
    label = torch.tensor(0)
    for number, frame in enumerate(decoded_frames(source)):
        clip, _ = transform(torch.from_numpy(frame)[None], label)  # (1 view, C, 1, H, W)
        logits, state = stream.step(clip, state)
        scores.append(logits[0, -1].softmax(-1))
        if number % every == 0:
            values, classes = torch.stack(list(scores)).mean(0).topk(min(top_k, logits.shape[-1]))
            pairs = zip(values.tolist(), classes.tolist(), strict=True)
            yield number, [(names[c] if c < len(names) else str(c), v) for v, c in pairs]


def run_stream_predict(args: argparse.Namespace) -> int:
    """``videoshift predict --stream``: print the running top-k of each source as it plays."""
    for source in args.videos:
        print(source)
        for number, top in stream_predictions(str(source), args.checkpoint, args.top_k, args.window, args.every):
            print(f"  frame {number:>6}: " + "  ".join(f"{name} {prob:.3f}" for name, prob in top), flush=True)
    return 0
