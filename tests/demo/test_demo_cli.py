"""``videoshift demo``: arguments reach the page and the server; bad ones are one line and exit code 2."""

from __future__ import annotations

import pytest

from videoshift.cli import build_parser, main


def test_defaults_bind_this_machine_only():
    args = build_parser().parse_args(["demo", "--checkpoint", "a.pth"])
    assert (args.host, args.port, args.max_upload_mb, args.device) == ("127.0.0.1", 7860, 100.0, "cpu")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--checkpoint", "missing.pth"], "checkpoint not found: missing.pth"),
        (["--config", "tsm_r50_k400"], "--config says how to read the weights of --checkpoint"),
        (["--weights", "tsm_r50.nope"], "unknown weights"),
        (["--max-upload-mb", "0"], "--max-upload-mb must be > 0, got 0.0"),
        (["--port", "70000"], "--port must be in 1..65535, got 70000"),
    ],
)
def test_bad_arguments_are_one_line(capsys, argv, message):
    assert main(["demo", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("videoshift demo: error:") and message in err and len(err.strip().splitlines()) == 1


def test_the_command_serves_the_checkpoint_where_asked(trained_checkpoint, monkeypatch):
    pytest.importorskip("gradio", reason="gradio is not installed (pip install -e '.[dev]' or '.[demo]')")
    from videoshift.demo import app

    served = {}
    monkeypatch.setattr(app, "launch", lambda page, host, port, max_bytes: served.update(locals()))
    argv = ["demo", "--checkpoint", str(trained_checkpoint), "--host", "0.0.0.0", "--port", "8123"]
    assert main([*argv, "--max-upload-mb", "2.5"]) == 0
    assert (served["host"], served["port"], served["max_bytes"]) == ("0.0.0.0", 8123, 2_500_000)
    menu = served["page"].config["components"]
    dropdown = next(c for c in menu if c["props"].get("elem_id") == "model")
    assert dropdown["props"]["value"] == f"checkpoint {trained_checkpoint}"
