"""The command line as a whole: fast, torch-free parsing of every command, and one error path.

Subprocesses run ``python -m videoshift`` from this checkout, so they see what a user's shell sees: the import
log of a fresh interpreter and the real exit code and standard error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from videoshift import __version__
from videoshift.cli import build_parser, main
from videoshift.models import create_model

ROOT = Path(__file__).resolve().parents[1]
#: Modules that make a command slow to start; none may be imported to parse arguments or print help.
HEAVY = ("torch", "timm", "torchvision", "av", "matplotlib", "gradio", "onnx", "onnxruntime")

#: Every leaf command and arguments it parses (its required ones); a new command must be added here.
PARSE_CASES = {
    "train": "--set optim.lr=1e-3",
    "finetune": "data --out o --model tsm_r50 --model-kw backbone=resnet10t",
    "test": "cfg.yaml --checkpoint c.pth",
    "predict": "v.mp4 --checkpoint c.pth",
    "data convert ssv2": "--labels l --train t --val v --out o",
    "data convert ssv1": "--labels l --frames-root f --train t --val v --out o",
    "data convert k400": "--train t --val v --out o",
    "data convert diving48": "--vocab w --train t --val v --out o",
    "data check": "list.txt",
    "data synth": "--out o",
    "bench ops": "--size small",
    "bench data": "--videos v.mp4",
    "bench models": "--preset tps-table6 --model-kw pst_t:window_size=[16,7,7]",
    "bench onnx": "--models tsm_r50",
    "bench stream": "--models tsm_r50",
    "export": "tsm_r50 --model-kw shift_div=4 --out x.onnx --exporter dynamo",
    "weights list": "",
    "weights convert": "c.pth --model tsm_r50 --num-classes 5 --out o",
    "viz cam": "v.mp4 --checkpoint c.pth",
    "viz shift": "",
    "demo": "",
}


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every runnable command path of ``parser`` (``("bench", "models")``, ...)."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield path
    for action in actions:
        for name, sub in action.choices.items():
            yield from leaf_commands(sub, (*path, name))


def run_cli(*args: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``python [flags] -m videoshift ARGS`` with this checkout's ``videoshift`` first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, *python_flags, "-m", "videoshift", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def imported_modules(importtime_log: str) -> set[str]:
    """The module names in a ``python -X importtime`` log (``import time: self | cumulative | name``)."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime_log.splitlines() if line.startswith("import time:")}


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_version_flag():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"videoshift {__version__}"


def test_parse_cases_cover_every_command():
    assert {" ".join(path) for path in leaf_commands(build_parser())} == set(PARSE_CASES)


@pytest.mark.parametrize("command", ["", *sorted(PARSE_CASES)], ids=lambda c: c or "videoshift")
def test_help_imports_no_heavy_module(command):
    out = run_cli(*command.split(), "--help", python_flags=("-X", "importtime"))
    assert out.returncode == 0 and "usage: videoshift" in out.stdout
    modules = imported_modules(out.stderr)
    assert "videoshift.cli" in modules  # the log is read right
    assert heavy_in(modules) == []


def test_every_command_parses_without_torch():
    """Build the parser and parse every command in a fresh interpreter; torch must still be absent."""
    script = (
        "import sys\n"
        "from videoshift.cli import build_parser\n"
        "parser = build_parser()\n"
        f"for argv in {[f'{command} {args}'.split() for command, args in PARSE_CASES.items()]!r}:\n"
        "    assert callable(parser.parse_args(argv).func), argv\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print('heavy:', heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "heavy: []"


def one_error_line(err: str, command: str) -> str:
    """The error that ``videoshift COMMAND`` printed: one last line in the one format, no traceback (progress
    lines may come before it)."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err and sum(": error: " in line for line in lines) == 1, err
    assert lines[-1].startswith(f"videoshift {command}: error: "), err
    return lines[-1]


def test_a_misspelt_model_keyword_is_one_line_with_the_valid_ones(tmp_path):
    out = run_cli("export", "tsm_r50", "--model-kw", "windw_size=4", "--out", str(tmp_path / "x.onnx"))
    line = one_error_line(out.stderr, "export")
    assert out.returncode == 2 and not (tmp_path / "x.onnx").exists()
    assert "'windw_size'" in line and "'tsm_r50'" in line
    assert "window_size" not in line  # tsm_r50 has no such keyword, so none is suggested
    taken = line.split("it takes: ")[1].split(", ")
    assert {"shift_div", "causal", "backbone", "num_frames", "dropout"} <= set(taken)

    debug = run_cli("--debug", "export", "tsm_r50", "--model-kw", "windw_size=4", "--out", str(tmp_path / "x.onnx"))
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "windw_size" in debug.stderr


def test_a_misspelt_keyword_gets_the_closest_one_first(capsys, tmp_path):
    assert main(["export", "video_swin_t", "--model-kw", "windw_size=[16,7,7]", "--out", str(tmp_path / "x")]) == 2
    line = one_error_line(capsys.readouterr().err, "export")
    assert "'windw_size' (did you mean window_size?)" in line
    assert line.split("it takes: ")[1].startswith("window_size, ")


def test_an_unknown_model_names_the_closest_ones(capsys, tmp_path):
    assert main(["export", "tsm_r5O", "--out", str(tmp_path / "x.onnx")]) == 2
    line = one_error_line(capsys.readouterr().err, "export")
    assert "unknown model 'tsm_r5O'; did you mean tsm_r50, " in line


def test_bench_model_keywords_take_the_same_path(capsys):
    argv = ["bench", "models", "--models", "tsm_r50", "--model-kw", "tsm_r50:shift_dv=4", "--memory", "none"]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err, "bench")
    assert "'shift_dv' (did you mean shift_div" in line
    assert main(["bench", "onnx", "--models", "tsm_r50", "--model-kw", "shift_div=4"]) == 2
    assert "expected NAME:KEY=VALUE, got 'shift_div=4'" in one_error_line(capsys.readouterr().err, "bench")


def test_a_malformed_assignment_is_named(capsys, tmp_path):
    assert main(["export", "tsm_r50", "--model-kw", "shift_div", "--out", str(tmp_path / "x.onnx")]) == 2
    assert "expected KEY=VALUE, got 'shift_div'" in one_error_line(capsys.readouterr().err, "export")
    assert main(["train", "--set", "optim.lr=[1e-3", "--work-dir", str(tmp_path)]) == 2
    assert "'optim.lr=[1e-3'" in one_error_line(capsys.readouterr().err, "train")


def test_a_missing_file_is_named(capsys, tmp_path):
    missing = tmp_path / "missing.pth"
    assert main(["export", "tsm_mbv2", "--checkpoint", str(missing), "--out", str(tmp_path / "x.onnx")]) == 2
    assert str(missing) in one_error_line(capsys.readouterr().err, "export")


def test_a_checkpoint_of_another_model_is_refused_in_one_line(capsys, tmp_path):
    weights = tmp_path / "tsn.pth"
    small = {"backbone": "mobilenetv2_050", "num_classes": 3, "num_frames": 2}
    torch.save({"state_dict": create_model("tsn_mbv2", **small).state_dict()}, weights)
    argv = ["export", "tsm_r50", "--model-kw", "backbone=resnet18", "--num-classes", "3", "--frames", "2"]
    assert main([*argv, "--checkpoint", str(weights), "--out", str(tmp_path / "x.onnx")]) == 2
    line = one_error_line(capsys.readouterr().err, "export")
    assert "checkpoint" in line.lower() and not (tmp_path / "x.onnx").exists()
