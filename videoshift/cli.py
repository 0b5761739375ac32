"""The ``videoshift`` command line: a thin layer over the library's functions.

Errors in the user's input (``ValueError`` and ``OSError`` and their subclasses: unreadable videos, bad list
lines, unknown config keys, unknown models and model keywords, missing files, checkpoints that do not fit the
model) reach the user one way, through :func:`main`: one line ``videoshift COMMAND: error: ...`` naming the bad
file, line or argument, and exit code 2, as argparse reports a bad flag; ``--debug`` shows the traceback
instead. Commands raise; none prints its own errors.

Each sub-package that owns a command exposes ``add_parser(subparsers)``; this module only wires
them together, so that every command's logic and tests live next to the code it drives. Building the parser and
parsing import no torch (nor timm, PyAV, matplotlib, Gradio, ONNX): the ``cli`` modules import what a command
needs inside the function that runs it, so ``--help`` and argument errors are instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from videoshift import __version__
from videoshift.allocator import keep_freed_memory
from videoshift.bench import cli as bench_cli
from videoshift.data import cli as data_cli
from videoshift.demo import cli as demo_cli
from videoshift.deploy import cli as deploy_cli
from videoshift.engine import cli as engine_cli
from videoshift.finetune import cli as finetune_cli
from videoshift.models import cli as models_cli
from videoshift.viz import cli as viz_cli

# Modules that contribute sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES = (engine_cli, finetune_cli, data_cli, bench_cli, deploy_cli, models_cli, viz_cli, demo_cli)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="videoshift",
        description="Video action recognition with zero-parameter shift operators (TSM, STSM, TPS).",
    )
    parser.add_argument("--version", action="version", version=f"videoshift {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    parser.add_argument(
        "--keep-freed-memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep freed CPU memory in the process for reuse instead of returning it to the system "
        "(glibc; about twice as fast CPU training, at the price of holding the peak; default: keep)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    if args.keep_freed_memory:
        keep_freed_memory()
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as error:  # bad input: a file, a list line, an argument, a config key
        if args.debug:
            raise
        message = " ".join(str(error).splitlines())  # one line, whatever the message
        print(f"videoshift {args.command}: error: {message}", file=sys.stderr)
        return 2
