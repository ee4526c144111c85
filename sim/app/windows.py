"""Time windows of a what-if: the base scenario's whole period, a season or a month of it.

A window is a pair of ``--set`` overrides (``run.horizon`` and ``run.warmup``) applied to the base and the
policy alike, so that the saved policy file stays a pure policy (the window is part of the command line
that reruns it). A window starts from the state the base has on its first day, never from an empty
border: the run still begins at the base's start, and everything before the window is warm-up (counted
in no statistic). In a replay of a crisis that state is the whole point (a January of the winter replay
starts with thousands of trucks already waiting); the price is that a later month simulates the months
before it too. A window the base's own warm-up covers has no statistics and is not offered (the winter
replay's November).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sim.scenario.schema import Run

SEASONS = (("Jan-Mar", 1), ("Apr-Jun", 4), ("Jul-Sep", 7), ("Oct-Dec", 10))


@dataclass(frozen=True)
class Window:
    """A simulated period: its label and the overrides that select it (none for the whole period)."""

    label: str
    overrides: tuple[str, ...]


def _add_months(d: datetime, months: int) -> datetime:
    y, m = divmod(d.month - 1 + months, 12)
    return d.replace(year=d.year + y, month=m + 1, day=1)


def _window(run: Run, label: str, start: datetime, months: int) -> Window | None:
    end = _add_months(start, months)
    if start < run.start or end > run.end:
        return None  # outside the base's period: its arrivals (or calendar) may not cover it
    hours = run.unit_hours * 3600.0
    horizon = (end - run.start).total_seconds() / hours
    warmup = max(run.warmup, (start - run.start).total_seconds() / hours)  # the lead-in is warm-up
    if warmup >= horizon:
        return None  # the base's own warm-up covers the window: nothing would be measured
    if start > run.start:
        label += f" (runs from {run.start.day} {run.start:%b} for its starting state)"
    return Window(label, (f"run.horizon={horizon:g}", f"run.warmup={warmup:g}"))


def windows(run: Run) -> list[Window]:
    """The whole period, then each quarter and each month that lies inside it, in calendar order."""
    end = run.end
    out = [Window(f"whole period ({run.start:%d %b %Y} to {end:%d %b %Y})", ())]
    first = run.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    d = first
    while d < end:
        months.append(d)
        d = _add_months(d, 1)
    for m in months:
        for name, month in SEASONS:
            if m.month == month:
                w = _window(run, f"season {name} {m.year}", m, 3)
                if w:
                    out.append(w)
    for m in months:
        w = _window(run, f"month {m:%B %Y}", m, 1)
        if w:
            out.append(w)
    return out
