"""``videoshift bench ops`` runs end to end on tiny tensors and writes the table it printed."""

import json

import torch

from videoshift.bench.ops import COLUMNS, cases, naive_patch_shift, naive_pst_channel_shift
from videoshift.cli import main
from videoshift.ops import patch_shift, pst_channel_shift


def test_bench_ops_small(tmp_path, capsys):
    out = tmp_path / "ops.json"
    argv = ["bench", "ops", "--size", "small", "--repeats", "2", "--warmup", "1", "--threads", "1"]
    assert main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert [(row["op"], row["pass"]) for row in rows] == [
        (case.name, mode) for case in cases("small") for mode in ("forward", "forward+backward")
    ]
    for row in rows:
        assert set(COLUMNS) <= set(row)
        assert row["shift_ms"] > 0 and row["naive_ms"] > 0 and row["clone_ms"] > 0
        assert row["shift/clone"] == row["shift_ms"] / row["clone_ms"]
    assert result["environment"]["threads"] == 1
    assert "shift operators vs naive and clone (small sizes" in capsys.readouterr().out


def test_naive_references_agree_with_operators():
    # The bench refuses to time disagreeing pairs; check the two that are not slice-and-cat obvious.
    x = torch.randn(1, 4, 14, 14, 24)
    assert torch.equal(naive_patch_shift(x, "official", 7), patch_shift(x, "official", window_size=7))
    assert torch.equal(naive_pst_channel_shift(x, 3), pst_channel_shift(x, 3))
