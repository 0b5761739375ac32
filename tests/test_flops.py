import torch
from torch import nn

from videoshift.bench.flops import count_macs, count_params


def test_linear_and_conv_counts_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=True), nn.Flatten(), nn.Linear(8 * 5 * 5, 10))
    # conv: 8 outputs/channel-position x 25 positions x (3*3*3) MACs; linear: 200*10 MACs
    assert count_macs(model, torch.zeros(2, 3, 5, 5)) == 2 * (8 * 25 * 27 + 200 * 10)
    assert count_params(model) == (8 * 27 + 8) + (200 * 10 + 10)


def test_shared_parameters_counted_once():
    layer = nn.Linear(4, 4)
    assert count_params(nn.Sequential(layer, layer)) == 20
