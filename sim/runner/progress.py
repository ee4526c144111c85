"""How the runner tells whoever is watching that replications finish, without knowing who watches.

Studies describe their work as bars (a title, how many replications in all and how many are already done)
and call :meth:`Monitor.advance` as each replication ends. Between those, :meth:`Monitor.running` says how
far the replications still running have got (local workers report their simulated time about once per
simulated day), so a bar moves within a replication and its time-left estimate is right early. The command
line passes a monitor that draws progress bars; the Python API and tests pass none.

A count shown must never fall. The runner reports a finished replication in two steps, ``advance`` (one
more done) and then ``running`` (the running ones' progress without it), and a monitor that showed done
plus running after each step showed a finished replication twice for a moment ("3.0/4", then "2.4/4").
:class:`Tally` keeps a monitor's counts so that what it shows only rises: after ``advance`` the running
progress is stale until the next ``running`` report, so it is not added again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Bar:
    """One line of progress: a title, the replications it counts, and how many were done before."""

    title: str
    total: int
    done: int = 0


class Monitor(Protocol):
    """Receives progress: the bars once, then one ``advance(bar)`` per finished replication."""

    def begin(self, bars: list[Bar]) -> None: ...

    def advance(self, bar: int) -> None: ...

    def running(self, bar: int, replications: float) -> None:
        """How much of ``bar``'s running replications is done, in replications (e.g. 1.5: three halves)."""

    def disk(self, nbytes: float, free: int | None) -> None:
        """The study's files are expected to take about ``nbytes`` on a disk with ``free`` bytes free
        (None: unknown); said once before the replications start."""


class Silent:
    """A monitor that shows nothing (the default for the Python API and tests)."""

    def begin(self, bars: list[Bar]) -> None:
        """Show nothing."""
        pass

    def advance(self, bar: int) -> None:
        """Show nothing."""
        pass

    def running(self, bar: int, replications: float) -> None:
        """Show nothing."""
        pass

    def disk(self, nbytes: float, free: int | None) -> None:
        """Show nothing."""
        pass


class Tally:
    """A monitor's counts per bar (replications done, the running ones' progress) and what to show:
    done plus running, at most the bar's total, and never less than shown before."""

    def __init__(self, bars: list[Bar]) -> None:
        self.totals = [float(b.total) for b in bars]
        self.done = [float(b.done) for b in bars]
        self.running = [0.0] * len(bars)
        self.shown = [min(float(b.done), float(b.total)) for b in bars]
        self._stale = [False] * len(bars)

    def advance(self, bar: int) -> float:
        """One more replication of ``bar`` finished; returns the count to show."""
        self.done[bar] += 1
        self._stale[bar] = True  # the running progress still counts the replication that just finished
        return self._show(bar)

    def set_running(self, bar: int, replications: float) -> float:
        """The running replications of ``bar`` have done ``replications`` worth; returns the count."""
        self.running[bar] = max(0.0, float(replications))
        self._stale[bar] = False
        return self._show(bar)

    def _show(self, bar: int) -> float:
        running = 0.0 if self._stale[bar] else self.running[bar]
        value = min(self.done[bar] + running, self.totals[bar])
        self.shown[bar] = max(self.shown[bar], value)
        return self.shown[bar]
