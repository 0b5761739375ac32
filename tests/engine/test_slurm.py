"""SLURM's task variables → torchrun's, and SLURM host lists, on plain env dicts."""

import pytest

from videoshift.engine.slurm import expand_hostlist, torchrun_variables

SRUN_TASK = {
    "SLURM_JOB_ID": "123456",
    "SLURM_PROCID": "5",
    "SLURM_LOCALID": "1",
    "SLURM_STEP_NUM_TASKS": "8",
    "SLURM_STEP_NODELIST": "gpu[07-10]",
    "SLURM_JOB_NODELIST": "gpu[07-10],login1",
    "SLURM_NTASKS": "8",
}


def test_an_srun_task_gets_every_torchrun_variable():
    assert torchrun_variables(SRUN_TASK) == {
        "RANK": "5",
        "WORLD_SIZE": "8",
        "LOCAL_RANK": "1",
        "MASTER_ADDR": "gpu07",
        "MASTER_PORT": str(20000 + 123456 % 20000),
    }


def test_variables_already_set_win():
    env = {**SRUN_TASK, "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29400"}
    derived = torchrun_variables(env)
    assert "MASTER_ADDR" not in derived and "MASTER_PORT" not in derived and derived["RANK"] == "5"
    assert torchrun_variables({**SRUN_TASK, "WORLD_SIZE": "8", "RANK": "5"}) == {}  # torchrun inside srun


def test_a_batch_script_or_a_plain_shell_stays_one_process():
    batch_script = {"SLURM_JOB_ID": "1", "SLURM_PROCID": "0", "SLURM_NTASKS": "8", "SLURM_JOB_NODELIST": "n[1-2]"}
    assert torchrun_variables(batch_script) == {}
    assert torchrun_variables({}) == {}


def test_the_job_nodelist_serves_when_the_step_has_none_and_defaults_fill_the_rest():
    env = {"SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "2", "SLURM_JOB_NODELIST": "a1,b2"}
    assert torchrun_variables(env) == {
        "RANK": "0",
        "WORLD_SIZE": "2",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "a1",
        "MASTER_PORT": "29500",
    }


def test_malformed_slurm_variables_are_named():
    with pytest.raises(ValueError, match="SLURM_PROCID"):
        torchrun_variables({**SRUN_TASK, "SLURM_PROCID": "x"})
    with pytest.raises(ValueError, match="SLURM_STEP_NODELIST"):
        torchrun_variables({**SRUN_TASK, "SLURM_STEP_NODELIST": "gpu[07-"})
    with pytest.raises(ValueError, match="MASTER_ADDR"):
        torchrun_variables({"SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "2"})


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("node1", ["node1"]),
        ("gpu[01-03,7],cpu1", ["gpu01", "gpu02", "gpu03", "gpu7", "cpu1"]),
        ("gpu[8-11]", ["gpu8", "gpu9", "gpu10", "gpu11"]),
        ("r[1-2]n[01-02]-ib", ["r1n01-ib", "r1n02-ib", "r2n01-ib", "r2n02-ib"]),
        ("a,b[3],c", ["a", "b3", "c"]),
    ],
)
def test_expand_hostlist(text, hosts):
    assert expand_hostlist(text) == hosts


@pytest.mark.parametrize("text", ["gpu[1-2", "gpu1-2]", "gpu[[1]]", "gpu[2-1]", "gpu[a-b]", "a,,b", ""])
def test_malformed_hostlists_raise(text):
    with pytest.raises(ValueError, match="NODES"):
        expand_hostlist(text, "NODES")
