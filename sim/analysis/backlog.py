"""The exact backlog: step series of trucks before, outside and in the yard, summed over any group.

The model records ``backlog_series`` (:mod:`sim.model.records`): one row at every change of a gate and
direction's counters, holding until the next row of that gate and direction. Here those per-flow step
functions are added up over a group (a gate over both directions, a direction over all gates, the
province) exactly, by accumulating each row's change in event order; peaks are maxima of the exact step
function (no sampling can miss one), and a day's value is read at a stated time of day.

"Trucks waiting" (column ``waiting``) = trucks that arrived at a gate and have not yet crossed, turned
back or diverted: before the yard (health declaration, paperwork, tests), outside it (the highway queue)
and in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from sim.analysis.stats import summarize
from sim.groups import ALL

COUNTS = ("before_yard", "outside", "in_yard", "waiting")
HELD = "held_upstream"  # a fifth count in scenarios that hold trucks upstream (sim/model/upstream.py)


@dataclass(frozen=True)
class FlowChanges:
    """Each row's change of the four counts within its own gate and direction. Added up in time order
    over any group of flows, the changes give that group's exact step series. Working them out is the
    costly part (a year has about a million rows), so it is done once per series and shared by every
    group asked of it."""

    time: np.ndarray
    gate: np.ndarray  # a code per row, into ``gates``
    direction: np.ndarray  # a code per row, into ``directions``
    gates: tuple[str, ...]
    directions: tuple[str, ...]
    deltas: np.ndarray  # rows x columns, int64
    columns: tuple[str, ...] = COUNTS  # COUNTS, and HELD when the series has it

    @classmethod
    def of(cls, series: pd.DataFrame) -> FlowChanges:
        """The changes of a ``backlog_series`` table (rows in event order)."""
        gate, gates = pd.factorize(series["gate"])
        direction, directions = pd.factorize(series["direction"])
        columns = (*COUNTS, HELD) if HELD in series else COUNTS
        counts = series[list(columns)].to_numpy(dtype=np.int64)
        flow = gate.astype(np.int64) * (len(directions) + 1) + direction
        order = np.argsort(flow, kind="stable")  # each flow's rows together, still in event order
        by_flow, sorted_counts = flow[order], counts[order]
        changes = sorted_counts.copy()
        changes[1:] -= sorted_counts[:-1]
        first = np.ones(len(flow), dtype=bool)
        first[1:] = by_flow[1:] != by_flow[:-1]
        changes[first] = sorted_counts[first]  # a flow's first row changes it from zero
        deltas = np.empty_like(changes)
        deltas[order] = changes
        return cls(
            series["time"].to_numpy(dtype=float),
            gate,
            direction,
            tuple(map(str, gates)),
            tuple(map(str, directions)),
            deltas,
            columns,
        )

    def steps(self, gate: str = ALL, direction: str = ALL) -> pd.DataFrame:
        """The exact step series (time and the four counts) of a gate and direction, ``all`` summing."""
        mask = np.ones(len(self.time), dtype=bool)
        if gate != ALL:
            mask &= self.gate == _code(self.gates, gate)
        if direction != ALL:
            mask &= self.direction == _code(self.directions, direction)
        times = self.time[mask]
        order = np.argsort(times, kind="stable")
        running = np.cumsum(self.deltas[mask][order], axis=0)
        out = pd.DataFrame(running, columns=list(self.columns))
        out.insert(0, "time", times[order])
        return out


def _code(names: tuple[str, ...], name: str) -> int:
    """A name's code; a name the series never saw matches no row (factorize codes are >= -1)."""
    return names.index(name) if name in names else -2


def group_steps(series: pd.DataFrame, gate: str = ALL, direction: str = ALL) -> pd.DataFrame:
    """The exact step series (time and the four counts) of a gate and direction, ``all`` summing.
    For several groups of one series, build :class:`FlowChanges` once and ask it each."""
    return FlowChanges.of(series.reset_index(drop=True)).steps(gate, direction)


def value_at(steps: pd.DataFrame, times: np.ndarray, column: str = "waiting") -> np.ndarray:
    """The step function's value at each of ``times`` (after every change at that very time)."""
    i = np.searchsorted(steps["time"].to_numpy(), np.asarray(times, dtype=float), side="right") - 1
    values = steps[column].to_numpy(dtype=float)
    return np.where(i >= 0, values[np.maximum(i, 0)] if len(values) else 0.0, 0.0)


def peak(steps: pd.DataFrame, column: str, since: float = 0.0) -> float:
    """The highest value from ``since`` on (the value carried into ``since`` counts)."""
    after = steps.loc[steps["time"] >= since, column].to_numpy(dtype=float)
    carried = value_at(steps, np.array([since]), column)[0] if since > 0 else 0.0
    return float(max(after.max(initial=0.0), carried))


def peak_time(steps: pd.DataFrame, column: str) -> float:
    """When the highest value was first reached."""
    if steps.empty:
        return float("nan")
    return float(steps["time"].iloc[int(steps[column].to_numpy().argmax())])


def daily(
    steps: pd.DataFrame,
    start: datetime,
    unit_hours: float,
    horizon: float,
    column: str = "waiting",
    at_hour: float = 12.0,
) -> pd.DataFrame:
    """One row per calendar day of the run: the value at ``at_hour`` local time, and the day's peak."""
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset_h = (start - first).total_seconds() / 3600.0
    days = int(np.ceil((horizon * unit_hours + offset_h) / 24.0))
    midnights = (np.arange(days + 1) * 24.0 - offset_h) / unit_hours
    at = (np.arange(days) * 24.0 + at_hour - offset_h) / unit_hours
    times = steps["time"].to_numpy()
    values = steps[column].to_numpy(dtype=float)
    peaks = np.empty(days)
    for d in range(days):
        lo, hi = max(midnights[d], 0.0), min(midnights[d + 1], horizon)
        inside = values[(times >= lo) & (times < hi)]
        carried = value_at(steps, np.array([lo]), column)[0]
        peaks[d] = max(carried, inside.max(initial=carried))
    valid = (at >= 0) & (at <= horizon)
    return pd.DataFrame(
        {
            "date": [(first + timedelta(days=d)).date() for d in range(days)],
            "at": np.where(valid, value_at(steps, at, column), np.nan),
            "peak": peaks,
        }
    )


def daily_at(
    steps: pd.DataFrame,
    start: datetime,
    unit_hours: float,
    horizon: float,
    column: str = "waiting",
    at_hour: float = 12.0,
) -> pd.DataFrame:
    """The ``at`` column of :func:`daily` alone (one row per calendar day: the value at ``at_hour``
    local time, NaN where that time is outside the run), in one vectorised reading: what a study of many
    runs needs when it has no use for the days' peaks."""
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset_h = (start - first).total_seconds() / 3600.0
    days = int(np.ceil((horizon * unit_hours + offset_h) / 24.0))
    at = (np.arange(days) * 24.0 + at_hour - offset_h) / unit_hours
    valid = (at >= 0) & (at <= horizon)
    return pd.DataFrame(
        {
            "date": [(first + timedelta(days=d)).date() for d in range(days)],
            "at": np.where(valid, value_at(steps, at, column), np.nan),
        }
    )


def peaks_by_group(series: pd.DataFrame, groups: list[tuple[str, str]], since: float) -> pd.DataFrame:
    """Exact peak backlog outside the yard and peak trucks waiting, for each (gate, direction) group."""
    changes = FlowChanges.of(series.reset_index(drop=True))
    rows = []
    for gate, direction in groups:
        steps = changes.steps(gate, direction)
        rows.append(
            {
                "gate": gate,
                "direction": direction,
                "peak_backlog": peak(steps, "outside", since),
                "peak_waiting": peak(steps, "waiting", since),
            }
        )
    return pd.DataFrame(rows).set_index(["gate", "direction"])


def daily_by_replication(
    series: pd.DataFrame,
    start: datetime,
    unit_hours: float,
    horizon: float,
    gate: str = ALL,
    direction: str = ALL,
    column: str = "waiting",
    at_hour: float = 12.0,
) -> pd.DataFrame:
    """:func:`daily` of a group for every replication of a saved ``backlog_series`` (column
    ``replication``): one row per replication and calendar day."""
    frames = []
    for rep, rows in series.groupby("replication", sort=True):
        days = daily(group_steps(rows, gate, direction), start, unit_hours, horizon, column, at_hour)
        days.insert(0, "replication", rep)
        frames.append(days)
    return pd.concat(frames, ignore_index=True)


def daily_interval(
    series: pd.DataFrame,
    start: datetime,
    unit_hours: float,
    horizon: float,
    gate: str = ALL,
    direction: str = ALL,
    column: str = "waiting",
    at_hour: float = 12.0,
) -> pd.DataFrame:
    """Each calendar day's count at ``at_hour`` (and the day's peak) across replications: the mean and
    its 95% interval for a count, never below 0 (:func:`sim.analysis.stats.count_interval`), one row per
    date.

    This is the figure a reported "trucks waiting on date D" is set against: the question is what the
    model says for that day, with the noise of the replications stated, not one replication's count.
    Columns: ``date``, ``n``, ``mean``, ``half_width``, ``ci_low``, ``ci_high`` for the value at
    ``at_hour``, ``interval`` (which interval), and ``peak_mean``, ``peak_half_width``, ``peak_low``,
    ``peak_high`` for the day's exact peak."""
    per_rep = daily_by_replication(series, start, unit_hours, horizon, gate, direction, column, at_hour)
    at = summarize(per_rep.rename(columns={"at": "value"}), by=["date"], counts=True)
    peaks = summarize(per_rep.rename(columns={"peak": "value"}), by=["date"], counts=True)
    out = at[["date", "n", "mean", "half_width", "ci_low", "ci_high", "interval"]].merge(
        peaks[["date", "mean", "half_width", "ci_low", "ci_high"]].rename(
            columns={
                "mean": "peak_mean",
                "half_width": "peak_half_width",
                "ci_low": "peak_low",
                "ci_high": "peak_high",
            }
        ),
        on="date",
    )
    return out.sort_values("date").reset_index(drop=True)


def peak_by_replication(
    series: pd.DataFrame,
    start: datetime,
    unit_hours: float,
    gate: str = ALL,
    direction: str = ALL,
    column: str = "waiting",
) -> pd.DataFrame:
    """Each replication's exact peak of a group's count, when it was first reached (time and calendar
    date), one row per replication."""
    rows = []
    for rep, reps in series.groupby("replication", sort=True):
        steps = group_steps(reps, gate, direction)
        when = peak_time(steps, column)
        rows.append(
            {
                "replication": rep,
                "peak": peak(steps, column),
                "time": when,
                "date": (start + timedelta(hours=when * unit_hours)).date() if np.isfinite(when) else None,
            }
        )
    return pd.DataFrame(rows)


def oldest_by_replication(
    trucks: pd.DataFrame,
    start: datetime,
    unit_hours: float,
    horizon: float,
    gate: str = ALL,
    direction: str = ALL,
    at_hour: float = 12.0,
) -> pd.DataFrame:
    """How long the oldest truck waiting has been in the province, each calendar day at ``at_hour``, for
    every replication of a saved ``trucks`` table (column ``replication``).

    A truck row is waiting from its ``arrival`` at the gate until its ``exit`` (crossed, turned back or
    diverted; still inside at the horizon: until then), the same trucks the ``waiting`` count of the
    backlog holds; its age counts from ``origin_arrival`` (its arrival in the province, so a truck that
    diverted keeps the days it lost at the first gate). Columns: ``replication``, ``date``, ``waiting``
    (trucks waiting then), ``oldest_days`` (0 when none waits)."""
    rows = trucks
    if gate != ALL:
        rows = rows[rows["gate"].astype(str) == gate]
    if direction != ALL:
        rows = rows[rows["direction"].astype(str) == direction]
    day = 24.0 / unit_hours
    times = np.arange(at_hour / unit_hours, horizon, day)
    dates = [(start + timedelta(hours=float(t) * unit_hours)).date() for t in times]
    frames = []
    for rep in sorted(trucks["replication"].unique()):
        r = rows[rows["replication"] == rep]
        arrival = r["arrival"].to_numpy(dtype=float)
        gone = np.nan_to_num(r["exit"].to_numpy(dtype=float), nan=np.inf)
        origin = r["origin_arrival"].to_numpy(dtype=float)
        # trucks in order of province arrival: the oldest waiting is the first one waiting
        order = np.argsort(origin, kind="stable")
        arrival, gone, origin = arrival[order], gone[order], origin[order]
        waiting = np.zeros(len(times), dtype=np.int64)
        oldest = np.zeros(len(times))
        for k, t in enumerate(times):
            inside = (arrival <= t) & (gone > t)
            waiting[k] = int(inside.sum())
            if waiting[k]:
                oldest[k] = (t - origin[int(np.argmax(inside))]) * unit_hours / 24.0
        frames.append(
            pd.DataFrame({"replication": rep, "date": dates, "waiting": waiting, "oldest_days": oldest})
        )
    return pd.concat(frames, ignore_index=True)


def oldest_interval(
    trucks: pd.DataFrame,
    start: datetime,
    unit_hours: float,
    horizon: float,
    gate: str = ALL,
    direction: str = ALL,
    at_hour: float = 12.0,
) -> pd.DataFrame:
    """:func:`oldest_by_replication` across replications: each date's mean age of the oldest truck
    waiting (days) with its 95% Student-t interval, and the oldest of any replication (``max_days``)."""
    per_rep = oldest_by_replication(trucks, start, unit_hours, horizon, gate, direction, at_hour)
    out = summarize(per_rep.rename(columns={"oldest_days": "value"}), by=["date"])
    most = per_rep.groupby("date", sort=False)["oldest_days"].max().rename("max_days").reset_index()
    out = out[["date", "n", "mean", "half_width", "ci_low", "ci_high"]].merge(most, on="date")
    return out.sort_values("date").reset_index(drop=True)
