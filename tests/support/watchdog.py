"""A hard wall-clock budget for a test that drives other processes (a browser, a server), so that it ends even when
one of them stops answering or a loaded machine starves it.

A timeout inside the test cannot do this: a call blocked on another process (Playwright waiting on Chromium) runs no
Python code of the test that could notice the time. The watchdog is a thread. When the budget runs out it kills
every process group that a descendant of this process leads (Playwright starts Chromium as the leader of its own
group; a server started with ``start_new_session=True`` leads its own too), which makes the blocked call fail, and
the guarded block then fails with :class:`BudgetExceeded`, naming the step it was waiting for. Processes in this
process's own group (Playwright's driver) are spared, so that the error comes back through them. Should the block
still not end within ``grace`` seconds, the watchdog raises ``KeyboardInterrupt`` in the main thread (turned into
:class:`BudgetExceeded` when it comes out of the block); ``grace`` seconds after that it prints every thread's stack
and ends the process: a run must never hang. Linux only (it reads ``/proc``).
"""

from __future__ import annotations

import _thread
import faulthandler
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import TracebackType


class BudgetExceeded(AssertionError):
    """The guarded block ran past its budget; the message names the step it was waiting for."""


def descendants(root: int) -> list[int]:
    """The ids of every process below ``root`` (children, their children, ...), read from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (comm)": state, ppid, pgrp, ...
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def process_name(pid: int, width: int = 60) -> str:
    """The command line of ``pid``, cut to ``width`` characters (``?`` once it has ended)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    line = " ".join(word.decode(errors="replace") for word in words if word) or "?"
    return line if len(line) <= width else line[: width - 3] + "..."


def kill_child_groups() -> list[str]:
    """SIGKILL every process group led by a descendant of this process, except this process's own group.

    Returns:
        ``"name (group id)"`` for each group killed, for the failure message.
    """
    own = os.getpgrp()
    killed = []
    for pid in descendants(os.getpid()):
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            continue
        if group != pid or group == own:  # only leaders: the rest of a group goes with its leader
            continue
        name = process_name(pid)
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.append(f"{name} ({group})")
    return killed


class Watchdog:
    """``with Watchdog(seconds) as dog:`` guards a block; ``dog.step = "..."`` says what it waits for now.

    Args:
        seconds: the block's wall-clock budget.
        grace: seconds between the escalations once the budget is spent (kill, interrupt, exit).
    """

    def __init__(self, seconds: float, grace: float = 30.0) -> None:
        if seconds <= 0 or grace <= 0:
            raise ValueError(f"seconds and grace must be > 0, got {seconds} and {grace}")
        self.seconds = seconds
        self.grace = grace
        self.step = "starting"
        self.expired_at_step: str | None = None  # set when the budget runs out
        self.killed: list[str] = []
        self._done = threading.Event()
        self._lock = threading.Lock()  # the block ending and the interrupt must not cross
        self._interrupted = False
        self._thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._started = 0.0

    def __enter__(self) -> Watchdog:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with self._lock:
            self._done.set()
        self._thread.join()
        if self.expired_at_step is None:
            return
        took = time.monotonic() - self._started
        message = (
            f"ran out of its {self.seconds:.0f} s budget while waiting for: {self.expired_at_step} "
            f"(killed {', '.join(self.killed) or 'no process group'}; block ended after {took:.0f} s"
            f"{', interrupted' if self._interrupted else ''})"
        )
        if error is not None:
            first_line = next(iter(str(error).splitlines()), "")
            message += f"; the block then failed with {type(error).__name__}: {first_line}"
        raise BudgetExceeded(message) from error

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.expired_at_step = self.step
        print(f"\nwatchdog: {self.seconds:.0f} s spent while waiting for: {self.step}; killing", file=sys.stderr)
        self.killed = kill_child_groups()
        if self._done.wait(self.grace):
            return
        with self._lock:
            if self._done.is_set():
                return
            self._interrupted = True
            _thread.interrupt_main()  # a block stuck in Python code of its own
        if self._done.wait(self.grace):
            return
        print(f"\nwatchdog: the block did not end; last step: {self.step}", file=sys.stderr)
        faulthandler.dump_traceback(all_threads=True)
        os._exit(70)
