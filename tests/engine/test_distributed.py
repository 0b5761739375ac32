"""A process started by a launcher (torchrun, or srun through the SLURM variables) joins a process group even
alone, and DDP over one process changes nothing."""

import os
import socket

import torch
import torch.distributed as dist
from engine_standins import tiny_config, tiny_datasets
from torch.nn.parallel import DistributedDataParallel

from videoshift.engine import distributed
from videoshift.engine.train import Trainer


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_launched_single_process_trains_under_ddp_to_the_same_weights(tmp_path, standin_model, monkeypatch):
    cfg = tiny_config(train={"epochs": 1, "sync_bn": True}, model={"kwargs": {"dropout": 0.3}})  # no BN to convert
    plain = Trainer(cfg, tmp_path / "plain", datasets=tiny_datasets(cfg["data"]))
    assert not plain.dist.enabled and not dist.is_initialized()
    plain.fit()

    env = {
        "WORLD_SIZE": "1",
        "RANK": "0",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
    }
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


def test_an_srun_task_without_torchrun_joins_through_the_slurm_variables(monkeypatch):
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.setenv(key, "")  # recorded, so that the variables setup() writes are removed afterwards
        monkeypatch.delenv(key)
    slurm = {"SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_STEP_NUM_TASKS": "1", "SLURM_STEP_NODELIST": "localhost"}
    for key, value in {**slurm, "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(key, value)
    try:
        info = distributed.setup("cpu")
        assert info.enabled and (info.rank, info.world_size) == (0, 1) and dist.get_world_size() == 1
        assert os.environ["MASTER_ADDR"] == "localhost"
    finally:
        distributed.cleanup()
