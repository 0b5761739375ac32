"""Distributed data parallel set-up for ``torchrun`` or ``srun`` (gloo on CPU, nccl on GPU) and gathering across
ranks.

Without a launcher (no ``WORLD_SIZE`` in the environment, no ``srun`` task) everything runs in one process and
the helpers here are no-ops, so the training loop has one code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from videoshift.engine.slurm import torchrun_variables


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: its rank, the number of processes and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    launched: bool = False  # started by torchrun or srun: the process joined a process group, even one of 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs and metrics."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Training wraps the model in DDP: under a launcher, also with one process (the 1-GPU DDP check)."""
        return self.launched


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` → this process's GPU when CUDA is available, else the CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def setup(device_name: str = "auto") -> DistInfo:
    """Join the process group that ``torchrun`` (or ``srun``) describes in the environment, or run alone.

    Under ``srun`` without ``torchrun`` the missing torchrun variables are first derived from SLURM's and set in
    ``os.environ`` (see :mod:`videoshift.engine.slurm`). The backend is nccl when this process drives a GPU, gloo
    otherwise. A launcher's process joins the group even when it is the only one.
    """
    os.environ.update(torchrun_variables(os.environ))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    launched = "WORLD_SIZE" in os.environ
    if launched and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank, device=device, launched=launched)


def cleanup() -> None:
    """Leave the process group if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum of ``tensor`` over all ranks (the tensor itself when running alone)."""
    if dist.is_available() and dist.is_initialized():
        tensor = tensor.clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate the rows of ``tensor`` from every rank (ranks may hold different numbers of rows)."""
    if not (dist.is_available() and dist.is_initialized()):
        return tensor
    world = dist.get_world_size()
    count = torch.tensor([tensor.shape[0]], device=tensor.device)
    counts = [torch.zeros_like(count) for _ in range(world)]
    dist.all_gather(counts, count)
    longest = int(max(c.item() for c in counts))
    padded = torch.zeros((longest, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
    padded[: tensor.shape[0]] = tensor
    gathered = [torch.zeros_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    return torch.cat([g[: int(c.item())] for g, c in zip(gathered, counts, strict=True)])


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, indexed by rank, on rank 0 (an empty list on the other ranks; ``[obj]`` alone)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    gathered: list[Any] | None = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(obj, gathered, dst=0)
    return gathered or []


def barrier() -> None:
    """Wait for every rank (no-op when running alone)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
