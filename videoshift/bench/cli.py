"""``videoshift bench``: one command, one sub-command per benchmark module."""

from __future__ import annotations

import argparse

from videoshift.bench import data, deploy, models, ops

# Each module defines ``add_parser(subparsers)`` for its own ``videoshift bench NAME``.
BENCH_MODULES = (ops, data, models, deploy)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench`` and its sub-commands to the top-level command line."""
    parser = subparsers.add_parser("bench", help="measure operators, data loading and models side by side")
    bench_subparsers = parser.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
    for module in BENCH_MODULES:
        module.add_parser(bench_subparsers)
