"""How the runner tells whoever is watching that replications finish, without knowing who watches.

Studies describe their work as bars (a title, how many replications in all and how many are already done)
and call :meth:`Monitor.advance` as each replication ends. Between those, :meth:`Monitor.running` says how
far the replications still running have got (local workers report their simulated time about once per
simulated day), so a bar moves within a replication and its time-left estimate is right early. The command
line passes a monitor that draws progress bars; the Python API and tests pass none.
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
