"""Run under SLURM's ``srun`` without ``torchrun``: derive torchrun's variables from the ones SLURM sets.

``srun`` starts one process per task and describes it with ``SLURM_PROCID`` (global rank),
``SLURM_STEP_NUM_TASKS`` (processes in the job step), ``SLURM_LOCALID`` (rank on its node) and
``SLURM_STEP_NODELIST`` (the step's hosts in SLURM's compressed form, ``gpu[01-04],login7``). The process group
needs ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; :func:`torchrun_variables`
maps one set to the other. The step's variables are used rather than the job's (``SLURM_NTASKS``) because a batch
script itself also runs with ``SLURM_PROCID=0`` and the job's task count: started there without ``srun`` it must
stay one process instead of waiting for peers that never come.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

PORT_BASE, PORT_SPAN = 20000, 20000  # MASTER_PORT = PORT_BASE + job id % PORT_SPAN: jobs sharing a node differ


def torchrun_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The torchrun variables that ``env`` lacks, derived from its SLURM variables.

    Empty when torchrun already set the process up (``WORLD_SIZE`` present) or when ``env`` is not an ``srun``
    task. ``MASTER_ADDR`` is the step's first host and ``MASTER_PORT`` depends on the job id; either one set in
    ``env`` is kept.

    Raises:
        ValueError: a SLURM variable is malformed (its name is in the message).
    """
    if "WORLD_SIZE" in env or "SLURM_STEP_NUM_TASKS" not in env or "SLURM_PROCID" not in env:
        return {}
    nodelist_name = next((n for n in ("SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST") if env.get(n)), None)
    if nodelist_name is None:
        raise ValueError("srun task without SLURM_STEP_NODELIST or SLURM_JOB_NODELIST: cannot tell MASTER_ADDR")
    derived = {
        "RANK": _integer(env, "SLURM_PROCID"),
        "WORLD_SIZE": _integer(env, "SLURM_STEP_NUM_TASKS"),
        "LOCAL_RANK": _integer(env, "SLURM_LOCALID") if "SLURM_LOCALID" in env else "0",
        "MASTER_ADDR": expand_hostlist(env[nodelist_name], nodelist_name)[0],
        "MASTER_PORT": str(PORT_BASE + int(_integer(env, "SLURM_JOB_ID")) % PORT_SPAN)
        if "SLURM_JOB_ID" in env
        else "29500",
    }
    return {key: value for key, value in derived.items() if key not in env}


def expand_hostlist(text: str, name: str = "hostlist") -> list[str]:
    """The host names of a SLURM host list, in order: ``"gpu[01-03,7],cpu1"`` → gpu01, gpu02, gpu03, gpu7, cpu1.

    Each ``[...]`` holds comma-separated numbers and ``lo-hi`` ranges; a range keeps the zero padding of its
    lower bound; several bracket groups in one name combine (``r[1-2]n[1-2]`` → r1n1, r1n2, r2n1, r2n2).

    Raises:
        ValueError: unbalanced brackets, an empty name or a malformed range; the message names ``name``.
    """
    hosts: list[str] = []
    for item in _split_top_level(text, name):
        pieces = re.split(r"\[([^\[\]]*)\]", item)  # literal, range list, literal, ..., literal
        if any(c in piece for piece in pieces[::2] for c in "[]"):
            raise ValueError(f"{name}: unbalanced brackets in {item!r}")
        choices = [[piece] if i % 2 == 0 else _expand_ranges(piece, name) for i, piece in enumerate(pieces)]
        hosts.extend("".join(parts) for parts in itertools.product(*choices))
    return hosts


def _split_top_level(text: str, name: str) -> list[str]:
    items, depth, current = [], 0, ""
    for char in text.strip():
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth < 0 or depth > 1:
            raise ValueError(f"{name}: unbalanced brackets in {text!r}")
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    if depth or any(not item for item in items):
        raise ValueError(f"{name}: unbalanced brackets or an empty host name in {text!r}")
    return items


def _expand_ranges(ranges: str, name: str) -> list[str]:
    out = []
    for part in ranges.split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part.strip())
        if match is None or (match[2] is not None and int(match[2]) < int(match[1])):
            raise ValueError(f"{name}: bad range {part!r} in [{ranges}]")
        low, high = match[1], match[2] or match[1]
        out.extend(str(n).zfill(len(low)) for n in range(int(low), int(high) + 1))
    return out


def _integer(env: Mapping[str, str], key: str) -> str:
    value = env[key].strip()
    if not value.isdigit():
        raise ValueError(f"{key} must be a non-negative integer, got {env[key]!r}")
    return value
