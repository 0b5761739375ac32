"""Peak memory of one pass: a fresh subprocess per CPU measurement, the allocator's peak on CUDA."""

import pytest
import torch
from bench_tiny_models import register

from videoshift.bench.memory import peak_memory
from videoshift.bench.specs import ModelSpec, RunSettings
from videoshift.models import registry

SPEC = ModelSpec("tiny", "bench_tiny_conv3d", {"width": 16}, frames=4, size=128)
ACTIVATION_BYTES = 16 * 4 * 128 * 128 * 4  # one float32 conv output of SPEC at batch 1


@pytest.mark.slow
def test_cpu_subprocess_measures_each_model_on_its_own():
    settings = RunSettings(imports=("bench_tiny_register",), threads=1)
    ballast = torch.ones(64 * 2**20)  # 256 MiB in this process must not hide the child's peak
    inference = peak_memory(SPEC, settings, batch=1, mode="inference")
    train = peak_memory(SPEC, settings, batch=1, mode="train")
    del ballast
    assert inference >= ACTIVATION_BYTES  # the conv output at least
    assert train >= inference
    assert inference < 64 * ACTIVATION_BYTES  # nothing of the parent's 256 MiB


def test_unknown_mode_is_named():
    with pytest.raises(ValueError, match="'eval'"):
        peak_memory(SPEC, RunSettings(), batch=1, mode="eval")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_allocator_peak(monkeypatch):
    registry.list_models()  # the built-in models register on the first lookup: before the copy
    monkeypatch.setattr(registry, "_MODEL_ENTRYPOINTS", dict(registry._MODEL_ENTRYPOINTS))
    register()
    settings = RunSettings(device="cuda")
    inference = peak_memory(SPEC, settings, batch=1, mode="inference")
    assert inference >= ACTIVATION_BYTES
    assert peak_memory(SPEC, settings, batch=1, mode="train") >= inference
