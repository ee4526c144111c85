"""Progress on the terminal: one rich bar per study part, with time left, and failed replications
reported by seed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

if TYPE_CHECKING:  # only types: plotting and reporting must not load the runner
    from sim.runner.experiment import Experiment, Failure
    from sim.runner.progress import Bar, Tally
from sim.present.console import err_console, error, plain, quiet, say


def _now() -> float:
    """The clock of the bars' readings (a function of its own, so a test can set the time)."""
    return time.monotonic()


class Estimate:
    """Time left, said only once the rate is known: never from the first moments, and as a range while
    the forecasts disagree.

    The first seconds of a study are mostly start-up (workers importing, the first replication's first
    day), so a time left read from the average since the start is wildly long at first ("about 1:02:55
    left" for minutes of work). Here the rate is the one of the last :attr:`keep` readings (at most one
    a :attr:`every_s` seconds), and each reading forecasts when the bar will be full. Nothing is shown
    until :attr:`least` forecasts exist and :attr:`first_share` of the work is done; then, when the kept
    forecasts agree within :attr:`agree` of the time left, "about X left" (their median); otherwise "X
    to Y left" (the earliest and the latest)."""

    every_s = 1.0
    keep = 8
    least = 4
    agree = 0.25
    first_share = 0.05  # and nothing before this share of the work is done here (start-up is slow)

    def __init__(self) -> None:
        self._readings: list[tuple[float, float]] = []  # (time, work done)
        self._ends: list[float] = []  # forecast finishing times, on the clock of the readings
        self._began: float | None = None  # the work done at the first reading (a resumed study's part)

    def update(self, now: float, done: float, left: float) -> str:
        """The text after a reading at ``now``: ``done`` of the work done so far and ``left`` to do (in
        the same units, e.g. replications)."""
        if left <= 0:
            return ""
        if not self._readings or now - self._readings[-1][0] >= self.every_s:
            self._readings = [*self._readings, (now, done)][-(self.keep + 1) :]
            (t0, d0), (t1, d1) = self._readings[0], self._readings[-1]
            if d1 > d0 and t1 > t0:
                self._ends = [*self._ends, now + left * (t1 - t0) / (d1 - d0)][-self.keep :]
        self._began = done if self._began is None else self._began
        if len(self._ends) < self.least or done - self._began < self.first_share * (
            done + left - self._began
        ):
            return ""
        lo, hi = max(0.0, min(self._ends) - now), max(0.0, max(self._ends) - now)
        if hi - lo <= self.agree * max(hi, 1.0):
            return f"about {_clock(max(0.0, float(np.median(self._ends)) - now))} left"
        return f"{_clock(lo)} to {_clock(hi)} left"


class _LeftColumn(ProgressColumn):
    """The bar's time left as :class:`Estimate` says it (blank while it cannot say)."""

    def render(self, task: Task) -> Text:
        return Text(str(task.fields.get("left", "")), style="progress.remaining")


class ProgressBars:
    """A monitor (:class:`sim.runner.progress.Monitor`) drawing one rich bar per study part on stderr.

    Hidden by --quiet. On a terminal the bars move within replications (workers report their simulated
    time), so the time left is estimated from the first seconds. When stderr is not a terminal (a log
    file, CI), one plain line every ``line_every_s`` seconds says how far each part is and how long is
    left. Use as a context manager around the study."""

    def __init__(self, line_every_s: float = 5.0) -> None:
        self._terminal = err_console.is_terminal
        self._line_every_s = line_every_s
        self._started = _now()
        self._last_line = self._started
        self._bars: list[Bar] = []
        self._tally: Tally | None = None  # the counts shown, which never fall (set by begin)
        self._progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("replications"),
            TimeElapsedColumn(),
            _LeftColumn(),
            console=err_console,
            transient=True,
            disable=not self._terminal or quiet(),
        )
        self._tasks: list[TaskID] = []
        self._left: list[Estimate] = []
        self._left_text: list[str] = []

    def __enter__(self) -> ProgressBars:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)
        if not self._terminal and self._bars and exc[0] is None:
            self._line()

    def begin(self, bars: list[Bar]) -> None:
        """Draw one bar per part of the study."""
        from sim.runner.progress import Tally  # (here: plotting and reporting must not load the runner)

        self._bars = list(bars)
        self._tally = Tally(self._bars)
        self._started = self._last_line = _now()
        self._left = [Estimate() for _ in bars]
        self._left_text = ["" for _ in bars]
        self._tasks = [
            self._progress.add_task(b.title, total=b.total, completed=b.done) for b in bars
        ]

    def disk(self, nbytes: float, free: int | None) -> None:
        """State the study's disk estimate (and the free space) before its replications start."""
        from sim.store.space import size_text

        room = f" ({size_text(free)} free)" if free is not None else ""
        say(f"about {size_text(nbytes)} on disk{room}", err=True)

    def advance(self, bar: int) -> None:
        """One more replication of a part finished."""
        assert self._tally is not None
        self._tally.advance(bar)
        self._update(bar)

    def running(self, bar: int, replications: float) -> None:
        """How much of a part's unfinished replications the workers have simulated, in replications."""
        assert self._tally is not None
        self._tally.set_running(bar, replications)
        self._update(bar)

    def _update(self, bar: int) -> None:
        assert self._tally is not None
        completed, b = self._tally.shown[bar], self._bars[bar]
        now = _now()
        left = self._left[bar].update(now, completed, b.total - completed)
        self._left_text[bar] = left
        self._progress.update(self._tasks[bar], completed=completed, left=left)
        if not self._terminal and _now() - self._last_line >= self._line_every_s:
            self._line()

    def _line(self) -> None:
        """One plain line of progress for a log: each part's replications done and the time left."""
        self._last_line = now = _now()
        elapsed = now - self._started
        parts = []
        for k, b in enumerate(self._bars):
            completed = self._tally.shown[k] if self._tally is not None else float(b.done)
            left = self._left_text[k] if k < len(self._left_text) and completed < b.total else ""
            parts.append(f"{b.title}: {completed:.1f}/{b.total} replications{', ' + left if left else ''}")
        say(f"[{_clock(elapsed)}] " + "; ".join(parts), err=True)


def _clock(seconds: float) -> str:
    """Seconds as h:mm:ss."""
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def report_failures(failures: Sequence[Failure], experiments: Sequence[Experiment], hint: str) -> None:
    """Say which replications failed (replication, seed, exception, saved traceback) and what was kept.

    Always shown, even with --quiet: it is the command's result."""
    for f in failures:
        error(
            f"replication {f.replication} of {f.scenario} failed "
            f"(root seed {f.root_seed}, {f.seed}): {f.error}"
        )
        if f.details is not None:
            err_console.print(
                plain(f"  worker traceback: {f.details}"), highlight=False, soft_wrap=True
            )
    for e in experiments:
        if e.failed:
            err_console.print(
                plain(
                    f"{e.finished} of {e.replications} replications of {e.scenario.name} finished "
                    f"and are kept in {e.folder}"
                ),
                highlight=False,
                soft_wrap=True,
            )
    err_console.print(plain(hint), highlight=False, soft_wrap=True)
