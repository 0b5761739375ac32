"""Training progress: a rich progress bar on an interactive terminal, plain log lines otherwise.

Both show the step, loss, learning rate, throughput (clips per second) and the estimated time left. Only the
main rank reports.
"""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("videoshift.train")


def format_seconds(seconds: float) -> str:
    """``3725`` → ``"1:02:05"``."""
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


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
        if enabled and (sys.stderr.isatty() if interactive is None else interactive):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(),
                transient=False,
            )
            self.task = self.bar.add_task("train", total=total_steps, completed=done_steps, info="")
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
            log.info("step %d/%d %s eta %s", self.done, self.total, info, format_seconds(eta))

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
