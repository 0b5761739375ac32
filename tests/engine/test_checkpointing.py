import random

import numpy as np
import pytest
import torch

from videoshift.engine import checkpointing


def test_atomic_save_replaces_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "ck" / "latest.pth"
    checkpointing.atomic_save({"a": torch.ones(2), "epoch": 1}, path)
    checkpointing.atomic_save({"a": torch.zeros(2), "epoch": 2, "names": ["x"], "cfg": {"lr": 0.1}}, path)
    loaded = checkpointing.load(path)
    assert loaded["epoch"] == 2 and loaded["names"] == ["x"] and loaded["cfg"] == {"lr": 0.1}
    assert [p.name for p in path.parent.iterdir()] == ["latest.pth"]


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "latest.pth"
    checkpointing.atomic_save({"epoch": 1}, path)
    with pytest.raises(Exception):  # noqa: B017 - an object torch.save cannot pickle
        checkpointing.atomic_save({"epoch": 2, "bad": lambda: 0}, path)
    assert checkpointing.load(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pth"]


def test_rng_states_round_trip_through_a_weights_only_file(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.randn()  # leaves a cached gaussian in numpy's state
    checkpointing.atomic_save({"rng": checkpointing.rng_state()}, tmp_path / "r.pth")
    expected = (random.random(), np.random.randn(), np.random.rand(), torch.rand(3))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    checkpointing.set_rng_state(checkpointing.load(tmp_path / "r.pth")["rng"])
    got = (random.random(), np.random.randn(), np.random.rand(), torch.rand(3))
    assert got[:3] == expected[:3]
    assert torch.equal(got[3], expected[3])
