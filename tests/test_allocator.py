"""keep_freed_memory: large tensors come from the heap and stay there when freed (glibc's own counters)."""

import json
import subprocess
import sys

import pytest

from videoshift.allocator import _libc

# Runs in a fresh interpreter, since the setting is process-wide and lasting. mallinfo2's hblkhd
# counts bytes in separately mmap'ed blocks, fordblks the free bytes kept in the heap.
PROBE = """
import ctypes, json, sys
import torch
from videoshift.allocator import keep_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
applied = keep_freed_memory() if sys.argv[1] == "keep" else None
before = libc.mallinfo2()
x = torch.ones(16 * 2**20)  # 64 MiB, twice glibc's largest default mmap threshold
during = libc.mallinfo2()
del x
after = libc.mallinfo2()
print(json.dumps({"applied": applied, "mapped": during.hblkhd - before.hblkhd, "kept": after.fordblks}))
"""
MIB = 2**20


def _probe(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(_libc() is None or not hasattr(_libc(), "mallinfo2"), reason="needs glibc >= 2.33")
def test_large_tensor_is_kept_in_the_heap_only_when_asked():
    kept = _probe("keep")
    assert kept["applied"] is True
    assert kept["mapped"] < MIB  # the 64 MiB block came from the heap...
    assert kept["kept"] >= 64 * MIB  # ...and is still there, free for reuse, after the tensor is gone
    system = _probe("system")
    assert system["mapped"] >= 64 * MIB  # glibc's default: a separate mapping, unmapped on free
    assert system["kept"] < 64 * MIB


def test_command_line_applies_it_unless_told_not_to(monkeypatch, tmp_path):
    from videoshift import cli

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(True))
    synth = ["data", "synth", "--out", str(tmp_path), "--num-train", "1", "--num-val", "1", "--num-frames", "2"]
    assert cli.main(["--no-keep-freed-memory", *synth, "--size", "16"]) == 0
    assert calls == []
    assert cli.main([*synth, "--size", "16"]) == 0
    assert calls == [True]
