"""The built-in configs, split into paper reproductions (they name a row of ``models/papers.py``) and jobs."""

from __future__ import annotations

from pathlib import Path

from videoshift.assignments import parse_yaml

CONFIG_DIR = Path(__file__).resolve().parents[2] / "videoshift" / "configs"
CONFIG_PATHS = sorted(CONFIG_DIR.glob("*.yaml"))
# A paper config names its row (``paper: {row, dataset}``); the synthetic jobs (default, ablations) do not.
PAPER_CONFIGS = [p for p in CONFIG_PATHS if "row" in parse_yaml(p.read_text()).get("paper", {})]
JOB_CONFIGS = [p for p in CONFIG_PATHS if p not in PAPER_CONFIGS]
