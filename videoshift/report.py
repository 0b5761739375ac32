"""Tables for every command: the terminal table, its JSON and Markdown copies, and the environment record.

``videoshift train``, ``test`` and every ``bench`` sub-command print their rows through :func:`report`, tagged
with :func:`environment`, so that all tables read and save the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def environment(device: torch.device | str = "cpu", dtype: torch.dtype | None = None) -> dict[str, Any]:
    """What the numbers were measured on: versions, device name, threads, dtype (default float32).

    torch is imported here, not with the module: the commands import this module to add their output options.
    """
    import torch

    device = torch.device(device)
    dtype = torch.float32 if dtype is None else dtype
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device.type,
        "device_name": name,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "dtype": str(dtype).removeprefix("torch."),
    }


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The output options every bench sub-command shares."""
    parser.add_argument("--json", type=Path, default=None, help="write rows and environment as JSON")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table as Markdown")


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Render ``rows`` as a Markdown table with the given column order."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_format(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def report(
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    env: dict[str, Any],
    *,
    json_path: Path | None = None,
    markdown_path: Path | None = None,
    width: int | None = None,
) -> None:
    """Print the table to the terminal and write it to ``json_path`` / ``markdown_path`` when given.

    ``width`` sets the terminal table's width in characters (default: the terminal's), so that
    wide tables are not folded when the output is piped.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column in ("name", "model", "op", "case") else "right")
    for row in rows:
        table.add_row(*(_format(row.get(c)) for c in columns))
    console = Console(width=width)
    console.print(table)
    console.print(", ".join(f"{k}={v}" for k, v in env.items()), style="dim")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"title": title, "environment": env, "rows": list(rows)}, indent=2) + "\n")
    if markdown_path is not None:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        env_line = ", ".join(f"{k}={v}" for k, v in env.items())
        markdown_path.write_text(f"## {title}\n\n{markdown_table(rows, columns)}\n\n{env_line}\n")
