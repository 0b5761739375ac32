"""Data loaders whose order and augmentation can be replayed from any step.

Two things make a training run resumable bit for bit and independent of the number of loader workers:

* :class:`SeededDataset` draws each item's augmentation from a generator seeded by (seed, epoch, index), so an
  item looks the same whichever worker builds it and whenever it is built.
* :class:`ResumableDistributedSampler` is a ``DistributedSampler`` (per-epoch seeded shuffle, one shard per
  rank) that can start an epoch part-way through, at the position a checkpoint recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from videoshift.engine.distributed import DistInfo


def derive_seed(*entropy: int) -> int:
    """A 63-bit RNG seed from integers, e.g. (seed, epoch, item index): independent streams for every tuple."""
    return int(np.random.SeedSequence([int(e) for e in entropy]).generate_state(1, np.uint64)[0]) >> 1


class SeededDataset(Dataset):
    """Wraps a dataset so that each item is built under its own seeded torch RNG, seeded by (seed, epoch, index)
    through :func:`derive_seed`.

    The global torch RNG of the calling process is restored afterwards, so loading with ``num_workers=0`` does
    not disturb the model's own random draws (dropout, drop path).
    """

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset, self.seed, self.epoch = dataset, seed, 0

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(self.seed, self.epoch, index))
            return self.dataset[index]


class ResumableDistributedSampler(DistributedSampler):
    """``DistributedSampler`` that skips the first ``start`` indices of this rank's shard in the current epoch."""

    def __init__(self, dataset: Dataset, dist_info: DistInfo, seed: int, shuffle: bool = True) -> None:
        super().__init__(
            dataset, num_replicas=dist_info.world_size, rank=dist_info.rank, shuffle=shuffle, seed=seed, drop_last=True
        )
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:  # type: ignore[override]
        """Select the epoch's shuffle and skip its first ``start`` indices (a resumed epoch)."""
        super().set_epoch(epoch)
        self.start = start

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        return iter(indices[self.start :])

    def __len__(self) -> int:
        return self.num_samples - self.start


class ShardSampler(Sampler[int]):
    """Every ``world_size``-th index from ``rank``, in order, without padding (evaluation: each item once)."""

    def __init__(self, dataset: Dataset, dist_info: DistInfo) -> None:
        self.indices = list(range(dist_info.rank, len(dataset), dist_info.world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def _loader_generator(seed: int) -> torch.Generator:
    # the DataLoader draws its worker base seed from this generator instead of the global RNG
    return torch.Generator().manual_seed(seed)


def train_loader(
    dataset: SeededDataset, sampler: ResumableDistributedSampler, batch_size: int, num_workers: int, seed: int
) -> DataLoader:
    """Training batches of ``batch_size`` per process (incomplete last batch dropped)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        drop_last=True,
        pin_memory=torch.cuda.is_available(),
        generator=_loader_generator(seed),
        persistent_workers=False,
    )


def eval_loader(dataset: Dataset, dist_info: DistInfo, batch_size: int, num_workers: int) -> DataLoader:
    """Evaluation batches: this rank's shard, in order, every item once."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=ShardSampler(dataset, dist_info),
        num_workers=num_workers,
        pin_memory=torch.cuda.is_available(),
        generator=_loader_generator(0),
    )
