"""Resume is exact with gradient accumulation: the position inside the epoch counts micro-batches.

A checkpoint records ``step_in_epoch`` in optimizer steps; with ``accumulate = k`` each step consumed k loader
batches, so a resumed epoch must skip ``step_in_epoch * k * batch_size`` items. The other resume tests run with
``accumulate=1``, where forgetting the factor changes nothing.
"""

import pytest
import torch
from engine_standins import crash_at_step, tiny_config, tiny_datasets

from videoshift.engine import checkpointing
from videoshift.engine.train import Trainer


def _trainer(tmp_path, name, sections):
    cfg = tiny_config(**sections)
    return Trainer(cfg, tmp_path / name, datasets=tiny_datasets(cfg["data"]))


@pytest.mark.parametrize("accumulate", [2, 3])
def test_resume_mid_epoch_with_accumulation_equals_one_run(tmp_path, standin_model, monkeypatch, accumulate):
    # 32 items, batch 2: 16 loader batches an epoch, 16 // accumulate optimizer steps; a checkpoint every 3 steps
    sections = {
        "train": {"epochs": 2, "batch_size": 2, "accumulate": accumulate, "checkpoint_every": 3},
        "model": {"kwargs": {"dropout": 0.3}},
    }
    reference = _trainer(tmp_path, "ref", sections)
    reference.fit()

    def micro_batches_of_accumulate(_trainer, micro):
        assert len(micro) == accumulate

    # crash after the checkpoint at step 3 (epoch 0), before the next one
    state = crash_at_step(_trainer(tmp_path, "crash", sections), monkeypatch, 4, micro_batches_of_accumulate)
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (0, 3, 3)

    seen: list[int] = []
    resumed = _trainer(tmp_path, "crash", sections)
    original_iter = type(resumed.sampler).__iter__

    def recording_iter(sampler):
        indices = list(original_iter(sampler))
        seen.append(len(indices))
        return iter(indices)

    monkeypatch.setattr(type(resumed.sampler), "__iter__", recording_iter)
    resumed.fit(resume=True)
    assert seen[0] == 32 - 3 * accumulate * 2  # the resumed epoch skips the 3 steps' micro-batches
    ref_state = checkpointing.load(tmp_path / "ref" / "latest.pth")
    end_state = checkpointing.load(tmp_path / "crash" / "latest.pth")
    assert end_state["global_step"] == ref_state["global_step"] == 2 * (16 // accumulate)
    for key, value in ref_state["model"].items():
        assert torch.equal(value, end_state["model"][key]), key


def test_each_rank_gets_its_own_rng_state_and_other_world_sizes_get_none():
    states = [{"rank": 0}, {"rank": 1}, {"rank": 2}]
    assert [checkpointing.own_rng_state(states, r, 3)["rank"] for r in range(3)] == [0, 1, 2]
    assert checkpointing.own_rng_state(states, 0, 2) is None
    assert checkpointing.own_rng_state({"rank": 0}, 0, 1) == {"rank": 0}  # a one-process checkpoint before v2


def test_resume_continues_the_loaders_seed_generator(tmp_path, standin_model, monkeypatch):
    # the loader draws its workers' base seed from its generator once per epoch; a resumed epoch must draw the same
    sections = {"train": {"epochs": 3, "checkpoint_every": 3}}
    reference = _trainer(tmp_path, "ref", sections)
    reference.fit()
    crash_at_step(_trainer(tmp_path, "crash", sections), monkeypatch, 13)  # epoch 2, after the checkpoint at 12
    resumed = _trainer(tmp_path, "crash", sections)
    resumed.fit(resume=True)
    assert torch.equal(resumed.loader.generator.get_state(), reference.loader.generator.get_state())


def test_a_checkpoint_of_another_world_size_reseeds_and_says_so(tmp_path, standin_model, caplog):
    sections = {"train": {"epochs": 2}, "model": {"kwargs": {"dropout": 0.3}}}
    _trainer(tmp_path, "two", sections).fit()
    latest = tmp_path / "two" / "latest.pth"
    state = checkpointing.load(latest)
    state.update(rng=[state["rng"][0]] * 2, world_size=2, epoch=1, global_step=8)  # as if 2 processes wrote it
    finals = []
    for _ in range(2):
        checkpointing.atomic_save(state, latest)
        resumed = _trainer(tmp_path, "two", sections)
        with caplog.at_level("WARNING", logger="videoshift.train"):
            resumed.fit(resume=True)
        finals.append(resumed.model.state_dict())
    assert "written by 2 processes, this run has 1" in caplog.text
    assert all(torch.equal(finals[0][k], finals[1][k]) for k in finals[0])  # the reseeding is deterministic
