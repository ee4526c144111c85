"""Dated changes of a stage (``changes: [{from: DATE, ...}]``) turned into what the pools and trucks use.

A change holds from local midnight of its date until the next change that sets the same thing. Hours
become one list of open intervals (each period's hours, clipped to the period, minus the gate's
closures); a daily cap becomes the quota each midnight refills; servers become (time, size) resizes;
a service distribution becomes one more alternative of the stage's draw, chosen by the time the service
starts (:func:`period_at`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

from sim.model.calendar import Calendar, open_intervals
from sim.scenario.schema import Hours, StageChange


def change_times(changes: Sequence[StageChange], cal: Calendar) -> list[float]:
    """Simulation times at which the changes start."""
    return [cal.from_datetime(c.start) for c in changes]


def period_at(starts: Sequence[float], now: float) -> int:
    """Which period is in force at ``now``: 0 before the first change, k after the k-th."""
    return bisect_right(starts, now)


def dated_intervals(
    hours: Hours | None,
    changes: Sequence[StageChange],
    cal: Calendar,
    horizon: float,
    cuts: list[tuple[float, float]],
) -> list[tuple[float, float]]:
    """Open intervals of a pool whose hours change by date (closures ``cuts`` subtracted)."""
    pieces: list[tuple[float, Hours | None]] = [(0.0, hours)]
    for c, t in zip(changes, change_times(changes, cal), strict=True):
        if c.hours is not None:
            pieces.append((t, c.hours))
    out: list[tuple[float, float]] = []
    for i, (t0, h) in enumerate(pieces):
        t1 = pieces[i + 1][0] if i + 1 < len(pieces) else horizon
        if t1 <= max(t0, 0.0):
            continue
        for a, b in open_intervals(h, cal, horizon, cuts):
            lo, hi = max(a, t0), min(b, t1)
            if hi > lo:
                if out and abs(out[-1][1] - lo) < 1e-12:
                    out[-1] = (out[-1][0], hi)
                else:
                    out.append((lo, hi))
    return out


def hours_change(changes: Sequence[StageChange]) -> bool:
    """Whether any change sets the hours."""
    return any(c.hours is not None for c in changes)


def service_periods(
    default: object, changes: Sequence[StageChange], cal: Calendar
) -> tuple[list[float], list[object]]:
    """Start times of the periods after each service change, and the default distribution of every
    period (the first is the stage's own)."""
    starts, specs = [], [default]
    for c, t in zip(changes, change_times(changes, cal), strict=True):
        if c.service is not None:
            starts.append(t)
            specs.append(c.service)
    return starts, specs


def daily_caps(
    daily_cap: int | None, changes: Sequence[StageChange], cal: Calendar, refills: Sequence[float]
) -> tuple[int | None, list[float]]:
    """The cap in force at time 0 and the quota each refill restores (``inf``: uncapped); ``[]`` if no
    change touches the cap."""
    dated = [(t, c.daily_cap) for c, t in zip(changes, change_times(changes, cal), strict=True)]
    dated = [(t, cap) for t, cap in dated if cap is not None]
    if not dated:
        return daily_cap, []

    def cap_at(t: float) -> float:
        cap: float = daily_cap if daily_cap is not None else math.inf
        for start, value in dated:
            if start <= t:
                cap = math.inf if value == "none" else float(value)  # type: ignore[arg-type]
        return cap

    first = cap_at(0.0)
    return (None if math.isinf(first) else int(first)), [cap_at(t) for t in refills]


def resizes(changes: Sequence[StageChange], cal: Calendar) -> list[tuple[float, int]]:
    """(time, servers) of the changes that set the number of servers."""
    return [
        (t, int(c.servers))
        for c, t in zip(changes, change_times(changes, cal), strict=True)
        if c.servers is not None
    ]
