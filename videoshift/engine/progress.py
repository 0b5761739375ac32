"""Training progress: a rich progress bar on an interactive terminal, plain log lines otherwise.

Both show the run (``run 2/6 pst_tiny`` inside a job of several runs), the epoch, step, loss, learning rate,
throughput (clips per second) and the estimated time left. Only the main rank reports. :class:`JobProgress`
numbers the runs of a job and logs each run's start with the job's elapsed time and estimated time left.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator, Sequence

log = logging.getLogger("videoshift.train")


def format_seconds(seconds: float) -> str:
    """``3725`` → ``"1:02:05"``."""
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


_current_run = ""  # "run 2/6 pst_tiny" while a run of a job is active
_plain = False  # log lines even on a terminal (runs trained side by side in several processes)


def setup_logging() -> None:
    """Log lines with the time of day on stderr: the commands' (and their worker processes') one format."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)


@contextlib.contextmanager
def labelled(label: str, plain: bool = False) -> Iterator[None]:
    """Prefix the progress reports of the run trained inside with ``label`` (``plain``: no progress bar)."""
    global _current_run, _plain
    _current_run, _plain = label, plain
    try:
        yield
    finally:
        _current_run, _plain = "", False


def run_label(index: int, runs: int, name: str) -> str:
    """``"run 2/6 pst"`` for run ``index`` (0-based) of a job of several runs, the run's name alone otherwise."""
    return f"run {index + 1}/{runs} {name}" if runs > 1 else name


class JobProgress:
    """The runs of one job: which run is training, the job's time so far and its estimated time left.

    Args:
        epochs: the epochs of every run of the job, in order.

    The time left assumes that an epoch still to come takes as long as the epochs done so far, on average.
    """

    def __init__(self, epochs: Sequence[int]) -> None:
        self.epochs, self.start = list(epochs), time.perf_counter()
        self.epochs_done, self.seconds_done = 0, 0.0

    def eta(self, index: int) -> float | None:
        """Estimated seconds from the start of run ``index`` to the end of the job (``None`` before any run)."""
        if not self.epochs_done:
            return None
        return self.seconds_done / self.epochs_done * sum(self.epochs[index:])

    @contextlib.contextmanager
    def run(self, index: int, name: str, model: str) -> Iterator[None]:
        """Label the progress of run ``index`` (0-based) while it trains."""
        eta = self.eta(index)
        log.info(
            "run %d/%d %s (%s, %d epochs): job time %s%s",
            index + 1,
            len(self.epochs),
            name,
            model,
            self.epochs[index],
            format_seconds(time.perf_counter() - self.start),
            "" if eta is None else f", job eta {format_seconds(eta)}",
        )
        started = time.perf_counter()
        try:
            with labelled(run_label(index, len(self.epochs), name)):
                yield
        finally:
            self.epochs_done += self.epochs[index]
            self.seconds_done += time.perf_counter() - started


class Progress:
    """Reports training steps of one run.

    Args:
        total_steps: optimizer steps of the whole run.
        done_steps: steps already done (a resumed run).
        enabled: report at all (main rank).
        log_every: a plain line every this many steps when not on a terminal.
        interactive: force the rich bar on or off (default: whether stderr is a terminal).
    """

    def __init__(
        self, total_steps: int, done_steps: int = 0, enabled: bool = True, log_every: int = 10, interactive=None
    ) -> None:
        self.total, self.done, self.enabled, self.log_every = total_steps, done_steps, enabled, log_every
        self.start_done, self.start_time, self.clips = done_steps, time.perf_counter(), 0
        self.bar = None
        self.label = _current_run or "train"
        if enabled and (sys.stderr.isatty() and not _plain if interactive is None else interactive):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(),
                transient=False,
            )
            self.task = self.bar.add_task(self.label, total=total_steps, completed=done_steps, info="")
            self.bar.start()

    def rates(self) -> tuple[float, float]:
        """Clips per second and estimated seconds left, from the steps done in this process."""
        elapsed = max(time.perf_counter() - self.start_time, 1e-9)
        steps = max(self.done - self.start_done, 1)
        return self.clips / elapsed, elapsed / steps * (self.total - self.done)

    def step(self, epoch: int, loss: float, lr: float, clips: int) -> None:
        """One optimizer step done on ``clips`` clips (all ranks together) with this loss and learning rate."""
        self.done += 1
        self.clips += clips
        if not self.enabled:
            return
        throughput, eta = self.rates()
        info = f"epoch {epoch} loss {loss:.4f} lr {lr:.2e} {throughput:.1f} clips/s"
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, info=info)
        elif self.done % self.log_every == 0 or self.done == self.total:
            prefix = f"{_current_run} " if _current_run else ""
            log.info("%sstep %d/%d %s eta %s", prefix, self.done, self.total, info, format_seconds(eta))

    def message(self, text: str) -> None:
        """A line above the bar (or a log line)."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.console.print(text)
        else:
            log.info("%s", text)

    def close(self) -> None:
        """Stop the bar."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
