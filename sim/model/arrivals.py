"""Arrival times of one Poisson stream, homogeneous or varying by month, weekday and hour of day, and
by date (a ``schedule`` of rates or factors).

A rate varying only by month, weekday and hour is produced by thinning (Lewis and Shedler): candidates at
the peak rate, each kept with probability rate(t) / peak. Candidates and acceptance draws come in
vectorised blocks from two named streams, so the stream of a class at a gate is reproducible on its own.

A stream with a dated schedule is produced by inversion of its cumulative intensity: the k-th arrival is
at Lambda^-1(E_1 + ... + E_k), E_i unit exponentials from the stream's named generator. The rate is
piecewise constant on the calendar's hours (every factor and every schedule date changes on an hour), so
Lambda is exact and cheap to invert. Inversion keeps common random numbers across schedules: truck k
uses the same exponential (and the same attribute draws) whatever the rates, only its time moves.
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
        """The largest factor the profile reaches (the thinning's candidate rate over the base rate)."""
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
    if arr.schedule:
        edges, rates = hourly_rates(arr, cal, horizon, base, profile)
        yield from _by_inversion(edges, rates, stream(seed, "arrivals", name))
        return
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


def schedule_levels(arr: Arrival, cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """The schedule as (start times, multipliers of the base rate); before the first date the base holds."""
    starts = np.array([cal.from_datetime(c.start) for c in arr.schedule], dtype=float)
    levels = np.array([c.factor if c.factor is not None else c.rate / arr.rate for c in arr.schedule])
    return starts, levels


def hourly_rates(
    arr: Arrival, cal: Calendar, horizon: float, base: float, profile: RateProfile
) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (the calendar's whole hours in [0, horizon], plus both ends) and the rate in each bin."""
    first_hour = -cal.midnight_offset_hours  # hours from start to the midnight before it
    n = int(np.ceil(cal.to_hours(horizon) - first_hour)) + 1
    inner = cal.from_hours(first_hour + np.arange(n, dtype=float))
    edges = np.unique(np.concatenate([[0.0], inner[(inner > 0.0) & (inner < horizon)], [horizon]]))
    mids = (edges[:-1] + edges[1:]) / 2.0
    starts, levels = schedule_levels(arr, cal)
    k = np.searchsorted(starts, mids, side="right") - 1
    multiplier = np.where(k >= 0, levels[np.maximum(k, 0)], 1.0)
    return edges, base * profile(mids) * multiplier


def _by_inversion(edges: np.ndarray, rates: np.ndarray, gen: np.random.Generator) -> Iterator[float]:
    """Arrival times of the Poisson process with piecewise-constant ``rates`` on ``edges``, by inversion."""
    cumulative = np.concatenate([[0.0], np.cumsum(rates * np.diff(edges))])
    total = float(cumulative[-1])
    s = 0.0
    while True:
        marks = s + np.cumsum(gen.exponential(1.0, BLOCK))
        s = float(marks[-1])
        marks = marks[marks < total]
        bins = np.searchsorted(cumulative, marks, side="right") - 1
        times = edges[bins] + (marks - cumulative[bins]) / rates[bins]
        yield from times.tolist()
        if s >= total:
            return
