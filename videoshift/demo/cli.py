"""``videoshift demo``: serve the demo page on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    demo = subparsers.add_parser(
        "demo",
        help="a web page to try a model on your own clip: top-5, Grad-CAM, frames, cost (needs the [demo] extra)",
        description="Serve a local web page (Gradio) where you upload a video or record one with the webcam, choose "
        "a model, and see its top-5 classes, the Grad-CAM of the top one, the sampled frames, GMACs and latency. "
        "The menu holds each --checkpoint, then the --weights named (default, without --checkpoint: every "
        "registered weights, those in the cache first). The page fetches nothing from the internet; registered "
        "weights not in the cache are downloaded when chosen.",
    )
    demo.add_argument(
        "--checkpoint", action="append", type=Path, default=[], help="a training checkpoint to offer (repeatable)"
    )
    demo.add_argument("--config", help="config (file or built-in name) whose model the --checkpoint weights fit")
    demo.add_argument(
        "--weights",
        action="append",
        metavar="TAG|DIR|FILE",
        help="weights to offer, as every command takes them: a registered tag, a package folder or a file (repeatable)",
    )
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 shares the page with the network)",
    )
    demo.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    demo.add_argument("--max-upload-mb", type=float, default=100.0, help="largest video accepted, MB (default: 100)")
    demo.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Load the first model of the menu when its file is here (a bad one fails now, not in the page), then serve
    until interrupted."""
    from videoshift.demo.recognise import MEGABYTE, ModelCache, model_choices

    if args.max_upload_mb <= 0:
        raise ValueError(f"--max-upload-mb must be > 0, got {args.max_upload_mb}")
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be in 1..65535, got {args.port}")
    choices = model_choices(args.checkpoint, args.config, args.weights)
    cache = ModelCache(choices, args.device)
    try:
        from videoshift.demo.app import build_app, launch
    except ImportError as error:
        raise ValueError(f"videoshift demo needs the [demo] extra: pip install 'videoshift[demo]' ({error})") from error
    if choices[0].on_disk:
        cache.get(choices[0].label)
    max_bytes = int(args.max_upload_mb * MEGABYTE)
    launch(build_app(cache, max_bytes), args.host, args.port, max_bytes)
    return 0
