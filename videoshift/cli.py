"""The ``videoshift`` command line: a thin layer over the library's functions.

Each sub-package that owns a command exposes ``add_parser(subparsers)``; this module only wires
them together, so that every command's logic and tests live next to the code it drives.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from videoshift import __version__
from videoshift.allocator import keep_freed_memory

# Modules that contribute sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "videoshift.engine.cli",
    "videoshift.data.cli",
    "videoshift.bench.cli",
    "videoshift.deploy.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="videoshift",
        description="Video action recognition with zero-parameter shift operators (TSM, STSM, TPS).",
    )
    parser.add_argument("--version", action="version", version=f"videoshift {__version__}")
    parser.add_argument(
        "--keep-freed-memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep freed CPU memory in the process for reuse instead of returning it to the system "
        "(glibc; about twice as fast CPU training, at the price of holding the peak; default: keep)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
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
    return int(args.func(args) or 0)
