"""The browser test's watchdog (:mod:`watchdog`, in tests/support): it ends a block that waits on a process which
never answers, a block stuck in its own Python code, and, as the last resort, the whole process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from watchdog import BudgetExceeded, Watchdog

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="the watchdog reads /proc (Linux)")
SUPPORT = Path(__file__).resolve().parents[1] / "support"


def test_a_block_within_its_budget_is_left_alone():
    with Watchdog(5.0) as dog:
        dog.step = "nothing"
    assert dog.expired_at_step is None
    assert dog.killed == []


def test_a_call_blocked_on_a_process_group_returns_when_the_budget_runs_out():
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True)  # leads its own group, as Chromium does
    started = time.monotonic()
    expected = r"1 s budget while waiting for: the sleeper .*killed sleep 60 \(\d+\)"
    with pytest.raises(BudgetExceeded, match=expected), Watchdog(1.0, grace=10.0) as dog:
        dog.step = "the sleeper"
        sleeper.wait()  # returns only because the watchdog kills the group
    assert sleeper.returncode == -9
    assert time.monotonic() - started < 5.0


def test_a_block_stuck_in_python_is_interrupted_after_the_grace():
    started = time.monotonic()
    with pytest.raises(BudgetExceeded, match=r"while waiting for: a loop .*interrupted"), Watchdog(0.5, 0.5) as dog:
        dog.step = "a loop"
        while True:  # nothing to kill: only the interrupt ends it
            pass
    assert time.monotonic() - started < 5.0


def test_a_block_that_ignores_the_interrupt_ends_the_process():
    script = (
        "import time; from watchdog import Watchdog\n"
        "with Watchdog(0.5, grace=0.5) as dog:\n"
        "    dog.step = 'a sleep'\n"
        "    time.sleep(60)  # a C call: neither a kill nor the interrupt reaches it\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SUPPORT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 70
    assert "did not end; last step: a sleep" in done.stderr
