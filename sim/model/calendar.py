"""Simulation time and the calendar.

Simulation time is a float in the scenario's time unit, counted from ``run.start`` (local time at the
border). Opening hours are turned once, before the run, into a sorted list of open intervals in
simulation time, so the model never does date arithmetic while trucks move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sim.scenario import schema as S


@dataclass(frozen=True)
class Calendar:
    """The scenario's clock: simulation time in ``unit_hours`` hours, counted from local time ``start``."""

    start: datetime
    unit_hours: float

    def to_hours(self, t: float) -> float:
        """Hours in ``t`` time units."""
        return t * self.unit_hours

    def from_hours(self, hours: float) -> float:
        """Time units in ``hours`` hours."""
        return hours / self.unit_hours

    def from_datetime(self, when: datetime) -> float:
        """The simulation time of a local date and time."""
        return self.from_hours((when - self.start).total_seconds() / 3600.0)

    @property
    def midnight_offset_hours(self) -> float:
        """Hours from the local midnight before ``start`` to ``start``."""
        s = self.start
        return s.hour + s.minute / 60.0 + s.second / 3600.0

    def day_index(self, t: float) -> int:
        """Days since the midnight starting the calendar's first day."""
        return math.floor((self.to_hours(t) + self.midnight_offset_hours) / 24.0)

    def date_of_day(self, day: int) -> datetime:
        """The local midnight starting day ``day`` of the run (day 0 holds ``start``)."""
        first = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        return first + timedelta(days=day)


def closure_span(c: S.Closure, cal: Calendar) -> tuple[float, float]:
    """A closure's [start, end) in simulation time."""
    return cal.from_datetime(c.start), cal.from_datetime(c.end)


def open_intervals(
    hours: S.Hours | None,
    cal: Calendar,
    horizon: float,
    extra_closed: list[tuple[float, float]] = (),  # type: ignore[assignment]
) -> list[tuple[float, float]]:
    """The intervals of [0, horizon] during which a pool serves, in simulation time, merged.

    ``hours=None`` means always open; ``extra_closed`` are closures from outside the hours (gate
    closures, random stoppages) in simulation time.
    """
    hours = hours or S.Hours()
    spans = hours.spans()
    days = {S.WEEKDAYS.index(d) for d in hours.days}
    closed = [closure_span(c, cal) for c in hours.closed] + list(extra_closed)
    out: list[tuple[float, float]] = []
    last_day = cal.day_index(horizon)
    for day in range(0, last_day + 1):
        date = cal.date_of_day(day)
        if date.weekday() not in days:
            continue
        day_start_h = day * 24.0 - cal.midnight_offset_hours
        for a, b in spans:
            lo = max(0.0, cal.from_hours(day_start_h + a))
            hi = min(horizon, cal.from_hours(day_start_h + b))
            if hi > lo:
                for piece in _subtract((lo, hi), closed):
                    if out and abs(out[-1][1] - piece[0]) < 1e-12:
                        out[-1] = (out[-1][0], piece[1])
                    else:
                        out.append(piece)
    return out


def midnights(cal: Calendar, horizon: float) -> list[float]:
    """Simulation times of the local midnights in (0, horizon]: where daily caps are refilled."""
    first = cal.from_hours(24.0 - cal.midnight_offset_hours) if cal.midnight_offset_hours else 0.0
    step = cal.from_hours(24.0)
    out, t = [], first
    while t <= horizon:
        if t > 0:
            out.append(t)
        t += step
    return out


def _subtract(span: tuple[float, float], cuts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    pieces = [span]
    for c0, c1 in cuts:
        nxt = []
        for a, b in pieces:
            if c1 <= a or c0 >= b:
                nxt.append((a, b))
                continue
            if a < c0:
                nxt.append((a, c0))
            if c1 < b:
                nxt.append((c1, b))
        pieces = nxt
    return pieces
