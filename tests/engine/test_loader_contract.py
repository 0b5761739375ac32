"""The training and evaluation loaders' promises, by hand: shards, skipping, dropped remainders, seeds."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from videoshift.engine.distributed import DistInfo
from videoshift.engine.loader import (
    ResumableDistributedSampler,
    SeededDataset,
    ShardSampler,
    derive_seed,
    eval_loader,
    train_loader,
)


class Numbers(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        return {"index": index, "noise": torch.rand(())}


def test_derived_seeds_are_pinned():
    """Every run's augmentations follow these seeds: changing them changes every recipe's exact numbers."""
    assert derive_seed(0, 0, 0) == 7896617691693857887
    assert derive_seed(7, 2, 5) == 6387240077319171554
    assert derive_seed(2**40, 3, 10**6) == 5555870289412283761
    assert all(0 <= derive_seed(1, e, i) < 2**63 for e in range(3) for i in range(50))  # fits torch.manual_seed


def test_seeded_items_depend_on_seed_epoch_and_index_only():
    data = SeededDataset(Numbers(4), seed=3)
    first = [data[i]["noise"] for i in range(4)]
    torch.manual_seed(123)  # the caller's RNG neither matters nor moves
    before = torch.get_rng_state()
    assert [data[i]["noise"] for i in range(4)] == first and torch.equal(torch.get_rng_state(), before)
    data.epoch = 1
    assert [data[i]["noise"] for i in range(4)] != first
    assert SeededDataset(Numbers(1), seed=3).epoch == 0


def test_training_shards_drop_the_remainder_and_follow_the_seed():
    data = Numbers(5)
    shards = [list(ResumableDistributedSampler(data, DistInfo(rank=r, world_size=2), seed=0)) for r in range(2)]
    assert [len(s) for s in shards] == [2, 2] and len(set(shards[0]) | set(shards[1])) == 4  # no padding repeats
    orders = {tuple(ResumableDistributedSampler(Numbers(50), DistInfo(), seed=s, shuffle=True)) for s in (1, 2)}
    assert len(orders) == 2  # the config's seed picks the shuffle
    plain = list(ResumableDistributedSampler(Numbers(6), DistInfo(), seed=0, shuffle=False))
    assert plain == list(range(6))


def test_a_resumed_epoch_skips_its_first_indices():
    sampler = ResumableDistributedSampler(Numbers(10), DistInfo(), seed=0)
    sampler.set_epoch(4)
    full = list(sampler)
    sampler.set_epoch(4, start=3)
    assert list(sampler) == full[3:] and len(sampler) == 7
    sampler.set_epoch(4)
    assert list(sampler) == full and len(sampler) == 10


def test_evaluation_shards_keep_every_item_once():
    assert list(ShardSampler(Numbers(5), DistInfo(rank=1, world_size=2))) == [1, 3]
    assert list(ShardSampler(Numbers(5), DistInfo(rank=0, world_size=2))) == [0, 2, 4]
    loader = eval_loader(Numbers(5), DistInfo(rank=1, world_size=2), batch_size=1, num_workers=0)
    assert [batch["index"].tolist() for batch in loader] == [[1], [3]]
    assert eval_loader(Numbers(5), DistInfo(), batch_size=2, num_workers=2).num_workers == 2
    loader = eval_loader(Numbers(5), DistInfo(), batch_size=2, num_workers=0)
    assert [batch["index"].tolist() for batch in loader] == [[0, 1], [2, 3], [4]]  # the last batch is kept


def test_training_loader_settings():
    data = SeededDataset(Numbers(9), seed=0)
    sampler = ResumableDistributedSampler(data, DistInfo(), seed=0)
    loader = train_loader(data, sampler, batch_size=4, num_workers=2, seed=5)
    assert len(loader) == 2 and loader.drop_last and loader.num_workers == 2 and not loader.persistent_workers
    assert torch.equal(loader.generator.get_state(), torch.Generator().manual_seed(5).get_state())
    assert [len(batch["index"]) for batch in train_loader(data, sampler, 4, 0, 5)] == [4, 4]
