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
