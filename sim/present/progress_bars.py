"""Progress on the terminal: one rich bar per study part, with time left, and failed replications
reported by seed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:  # only types: plotting and reporting must not load the runner
    from sim.runner.experiment import Experiment, Failure
    from sim.runner.progress import Bar, Tally
from sim.present.console import err_console, error, quiet, say


class ProgressBars:
    """A monitor (:class:`sim.runner.progress.Monitor`) drawing one rich bar per study part on stderr.

    Hidden by --quiet. On a terminal the bars move within replications (workers report their simulated
    time), so the time left is estimated from the first seconds. When stderr is not a terminal (a log
    file, CI), one plain line every ``line_every_s`` seconds says how far each part is and how long is
    left. Use as a context manager around the study."""

    def __init__(self, line_every_s: float = 5.0) -> None:
        self._terminal = err_console.is_terminal
        self._line_every_s = line_every_s
        self._started = time.monotonic()
        self._last_line = self._started
        self._bars: list[Bar] = []
        self._tally: Tally | None = None  # the counts shown, which never fall (set by begin)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("replications"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=not self._terminal or quiet(),
        )
        self._tasks: list[TaskID] = []

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
        self._started = self._last_line = time.monotonic()
        self._tasks = [
            self._progress.add_task(escape(b.title), total=b.total, completed=b.done) for b in bars
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
        self._progress.update(self._tasks[bar], completed=self._tally.shown[bar])
        if not self._terminal and time.monotonic() - self._last_line >= self._line_every_s:
            self._line()

    def _line(self) -> None:
        """One plain line of progress for a log: each part's replications done and the time left."""
        self._last_line = now = time.monotonic()
        elapsed = now - self._started
        parts = []
        for k, b in enumerate(self._bars):
            completed = self._tally.shown[k] if self._tally is not None else float(b.done)
            progressed = completed - b.done
            left = ""
            if progressed > 0 and completed < b.total:
                left = f", about {_clock((b.total - completed) * elapsed / progressed)} left"
            parts.append(f"{b.title}: {completed:.1f}/{b.total} replications{left}")
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
                f"  worker traceback: {escape(str(f.details))}", highlight=False, soft_wrap=True
            )
    for e in experiments:
        if e.failed:
            err_console.print(
                escape(
                    f"{e.finished} of {e.replications} replications of {e.scenario.name} finished "
                    f"and are kept in {e.folder}"
                ),
                highlight=False,
                soft_wrap=True,
            )
    err_console.print(escape(hint), highlight=False, soft_wrap=True)
