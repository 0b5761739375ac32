"""Checkpoint files: where the temporary file lives, what ``load`` refuses, the RNG state format, CUDA states.

Found by mutation testing (``scripts/mutation.sh checkpointing``): the existing tests pass when the temporary
file is written to another folder (``os.replace`` is then not atomic across file systems), when ``load`` unpickles
arbitrary objects, or when nested folders are not created.
"""

from __future__ import annotations

import pickle
import re
from fractions import Fraction

import pytest
import torch

from videoshift.engine import checkpointing


def test_the_temporary_file_sits_next_to_the_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "a" / "b" / "latest.pth"  # missing parents are created
    seen: list[list[str]] = []
    real_save = torch.save

    def save_and_look(obj, f):
        seen.append(sorted(p.name for p in path.parent.iterdir()))
        return real_save(obj, f)

    monkeypatch.setattr(checkpointing.torch, "save", save_and_look)
    checkpointing.atomic_save({"epoch": 1}, path)
    assert len(seen) == 1 and len(seen[0]) == 1
    assert re.fullmatch(r"\.latest\.pth\..+\.tmp", seen[0][0]), seen[0]
    assert [p.name for p in path.parent.iterdir()] == ["latest.pth"]


def test_load_refuses_arbitrary_objects_and_names_a_missing_file(tmp_path):
    checkpointing.atomic_save({"value": Fraction(1, 3)}, tmp_path / "odd.pth")  # pickles, but is not weights-only
    with pytest.raises(pickle.UnpicklingError):
        checkpointing.load(tmp_path / "odd.pth")
    with pytest.raises(FileNotFoundError, match=r"checkpoint not found: .*missing\.pth"):
        checkpointing.load(tmp_path / "missing.pth")


def test_numpy_state_is_stored_as_int64_tensors():
    state = checkpointing.rng_state()
    assert state["numpy"]["key"].dtype == torch.int64 and state["numpy"]["key"].shape == (624,)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_generators_and_tensors_round_trip(tmp_path):
    torch.cuda.manual_seed_all(3)
    torch.randn(1, device="cuda")  # initialises CUDA: rng_state records the CUDA generators only then
    path = tmp_path / "cuda.pth"
    checkpointing.atomic_save({"rng": checkpointing.rng_state(), "w": torch.ones(2, device="cuda")}, path)
    expected = torch.randn(4, device="cuda")
    torch.cuda.manual_seed_all(9)
    loaded = checkpointing.load(path)
    assert "cuda" in loaded["rng"] and loaded["w"].device.type == "cpu"  # loads onto the CPU
    checkpointing.set_rng_state(loaded["rng"])
    assert torch.equal(torch.randn(4, device="cuda"), expected)
