"""A process started by a launcher joins a process group even alone, and DDP over one process changes nothing."""

import socket

import torch
import torch.distributed as dist
from engine_standins import tiny_config, tiny_datasets
from torch.nn.parallel import DistributedDataParallel

from videoshift.engine import distributed
from videoshift.engine.train import Trainer


def test_a_launched_single_process_trains_under_ddp_to_the_same_weights(tmp_path, standin_model, monkeypatch):
    cfg = tiny_config(train={"epochs": 1}, model={"kwargs": {"dropout": 0.3}})
    plain = Trainer(cfg, tmp_path / "plain", datasets=tiny_datasets(cfg["data"]))
    assert not plain.dist.enabled and not dist.is_initialized()
    plain.fit()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"WORLD_SIZE": "1", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        launched = Trainer(cfg, tmp_path / "ddp", datasets=tiny_datasets(cfg["data"]))
        assert launched.dist.enabled and dist.get_backend() == "gloo"
        assert isinstance(launched.net, DistributedDataParallel)
        launched.fit()
    finally:
        distributed.cleanup()
    for key, value in plain.model.state_dict().items():
        assert torch.equal(value, launched.model.state_dict()[key]), key
