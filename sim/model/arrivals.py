"""Arrival times of one Poisson stream, homogeneous or varying by month, weekday and hour of day.

A time-varying rate is produced by thinning (Lewis and Shedler): candidates at the peak rate, each kept
with probability rate(t) / peak. Candidates and acceptance draws come in vectorised blocks from two named
streams, so the stream of a class at a gate is reproducible on its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim.model.calendar import Calendar
from sim.model.random_streams import BLOCK, stream
from sim.scenario.schema import Arrival


def rate_per_time_unit(arr: Arrival, cal: Calendar) -> float:
    """The base rate in trucks per simulation time unit."""
    if arr.per == "hour":
        return arr.rate * cal.unit_hours
    if arr.per == "day":
        return arr.rate * cal.unit_hours / 24.0
    return arr.rate


class RateProfile:
    """rate(t) / base rate: the product of the month, weekday and hour-of-day factors at time t."""

    def __init__(self, arr: Arrival, cal: Calendar, horizon: float):
        self.cal = cal
        self.month = np.asarray(arr.month_factors or [1.0] * 12, dtype=float)
        self.weekday = np.asarray(arr.weekday_factors or [1.0] * 7, dtype=float)
        self.hour = np.asarray(arr.hour_factors or [1.0] * 24, dtype=float)
        self.constant = arr.month_factors is None and arr.weekday_factors is None and arr.hour_factors is None
        days = cal.day_index(horizon) + 2
        dates = [cal.date_of_day(d) for d in range(days)]
        self._day_month = np.array([d.month - 1 for d in dates], dtype=np.int64)
        self._day_weekday = np.array([d.weekday() for d in dates], dtype=np.int64)

    @property
    def peak(self) -> float:
        return float(self.month.max() * self.weekday.max() * self.hour.max())

    def __call__(self, t: np.ndarray) -> np.ndarray:
        hours = np.asarray(t, dtype=float) * self.cal.unit_hours + self.cal.midnight_offset_hours
        day = np.minimum((hours // 24.0).astype(np.int64), len(self._day_month) - 1)
        hour = (hours - 24.0 * day).astype(np.int64).clip(0, 23)
        return self.month[self._day_month[day]] * self.weekday[self._day_weekday[day]] * self.hour[hour]


def arrival_times(
    arr: Arrival, cal: Calendar, horizon: float, seed: np.random.SeedSequence, name: str
) -> Iterator[float]:
    """Arrival times in [0, horizon), ascending."""
    base = rate_per_time_unit(arr, cal)
    profile = RateProfile(arr, cal, horizon)
    peak = base * profile.peak
    candidates = stream(seed, "arrivals", name)
    acceptance = None if profile.constant else stream(seed, "thinning", name)
    t = 0.0
    while t < horizon:
        times = t + np.cumsum(candidates.exponential(1.0 / peak, BLOCK))
        t = float(times[-1])
        if acceptance is not None:
            keep = acceptance.random(BLOCK) * profile.peak < profile(times)
            times = times[keep]
        yield from times[times < horizon].tolist()
