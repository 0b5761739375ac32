"""End-to-end runs in subprocesses: trainings killed with SIGKILL and resumed (one process, two processes), and
2-process DDP with gloo, on one "node" or on two (two torchrun invocations meeting at a c10d rendezvous)."""

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from engine_standins import DELAY_VARIABLE, tiny_config

from videoshift.engine import checkpointing

SCRIPT = Path(__file__).parents[1] / "support" / "engine_standins.py"
ROOT = Path(__file__).parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1"}


def _write_config(path, **sections):
    cfg = tiny_config(**sections)
    cfg["model"]["name"] = "engine_test_net"
    path.write_text(yaml.safe_dump(cfg))
    return path


TORCHRUN = (sys.executable, "-m", "torch.distributed.run")
ONE_NODE_TWO_PROCESSES = (*TORCHRUN, "--standalone", "--nproc_per_node", "2")


def _train(config, work_dir, *extra, launcher=(sys.executable,), delay=0.0):
    """Train ``config`` in a subprocess; ``delay``: seconds the stand-in data sleeps per item."""
    return subprocess.Popen(
        [*launcher, str(SCRIPT), "train", str(config), "--work-dir", str(work_dir), *extra],
        env={**ENV, DELAY_VARIABLE: str(delay)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _kill_tree(pid):
    """SIGKILL a process and all its descendants at once, as a lost machine (torchrun starts its workers in
    sessions of their own, so killing its process group would leave them running)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(parents.get(tree[-1], []))
    for member in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _launch(config, work_dir, nodes):
    """Two processes of one run: on one node (torchrun --standalone), or one on each of two "nodes" (two torchrun
    invocations on loopback meeting at a c10d rendezvous, sharing the run directory as nodes share a filesystem)."""
    if nodes == 1:
        return [_train(config, work_dir, launcher=ONE_NODE_TWO_PROCESSES)]
    endpoint = f"127.0.0.1:{_free_port()}"
    node = (*TORCHRUN, "--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-id", "tiny")
    return [_train(config, work_dir, launcher=(*node, "--rdzv-endpoint", endpoint)) for _ in range(2)]


def _finish(proc):
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return out


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])
def test_sigkill_then_resume_ends_with_the_same_weights(tmp_path, processes):
    # with 2 processes each rank draws its own dropout masks: a resume must give each rank back its own generators
    launcher = (sys.executable,) if processes == 1 else ONE_NODE_TWO_PROCESSES
    total_steps = 4 * 32 // (4 * processes)  # 4 epochs of 32 items, batch 4 per process
    config = _write_config(
        tmp_path / "tiny.yaml",
        model={"kwargs": {"dropout": 0.3}},
        train={"epochs": 4, "checkpoint_every": 3, "num_workers": 1},
    )
    _finish(_train(config, tmp_path / "ref", launcher=launcher, delay=0.02))

    victim = _train(config, tmp_path / "killed", launcher=launcher, delay=0.02)
    latest = tmp_path / "killed" / "tiny" / "latest.pth"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = checkpointing.load(latest) if latest.is_file() else None
        if state is not None and state["epoch"] >= 1 and state["step_in_epoch"] > 0:
            break
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 0.15))  # kill at an arbitrary moment after a mid-epoch checkpoint
    _kill_tree(victim.pid)
    victim.wait()
    killed_at = checkpointing.load(latest)
    assert killed_at["global_step"] < total_steps, "the run finished before it was killed"
    assert len(killed_at["rng"]) == killed_at["world_size"] == processes

    _finish(_train(config, tmp_path / "killed", "--resume", launcher=launcher, delay=0.02))
    ref = checkpointing.load(tmp_path / "ref" / "tiny" / "latest.pth")
    resumed = checkpointing.load(latest)
    assert resumed["global_step"] == ref["global_step"] == total_steps
    for key, value in ref["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    for key in ("top1", "loss"):
        assert _metrics(tmp_path / "ref")[-1][key] == _metrics(tmp_path / "killed")[-1][key]


def _metrics(work_dir):
    return [json.loads(line) for line in (work_dir / "tiny" / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("nodes", [1, 2])
def test_two_gloo_processes_reach_the_weights_of_one_process_on_the_same_global_batch(tmp_path, nodes):
    data = {"synthetic": {"num_train": 32, "num_val": 15}}  # 15: the ranks evaluate 8 and 7 items
    one_cfg = _write_config(tmp_path / "one.yaml", name="tiny", data=data, train={"epochs": 2, "batch_size": 8})
    one = _train(one_cfg, tmp_path / "1")
    two_cfg = _write_config(tmp_path / "two.yaml", name="tiny", data=data, train={"epochs": 2, "batch_size": 4})
    for proc in [one, *_launch(two_cfg, tmp_path / "2", nodes)]:
        _finish(proc)
    single = checkpointing.load(tmp_path / "1" / "tiny" / "latest.pth")
    ddp = checkpointing.load(tmp_path / "2" / "tiny" / "latest.pth")
    assert single["global_step"] == ddp["global_step"] == 8
    for key, value in single["model"].items():
        torch.testing.assert_close(ddp["model"][key], value, rtol=1e-5, atol=1e-6)
    m1, m2 = _metrics(tmp_path / "1"), _metrics(tmp_path / "2")
    assert [r["count"] for r in m2] == [15, 15]  # predictions gathered from both ranks, each item once
    assert [r["top1"] for r in m1] == [r["top1"] for r in m2]
