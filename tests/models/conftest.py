"""Shared helpers of the model tests."""

import pytest
import torch
from torch import nn


def _randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Every floating tensor of ``model`` random, norms and running statistics included (so every tensor matters).

    Vectors (biases, norm scales, running variances) are drawn in [0.5, 1), everything else N(0, 0.1²).
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                if tensor.ndim == 1:
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) * 0.5 + 0.5)
                else:
                    tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
    return model


@pytest.fixture
def randomise():
    """:func:`_randomise`: ``randomise(model, seed)`` fills the model's weights in place and returns it."""
    return _randomise
