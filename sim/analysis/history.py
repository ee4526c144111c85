"""Metrics that reported history speaks of: one replication's value of a reported figure.

The figures to compare come from a data file (``data/reported_2021.yaml``): each names a metric kind
computed here (below), the reported number and its source. The study :mod:`sim.studies.history` runs
the replications and puts simulated beside reported.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.backlog import group_steps, peak, value_at
from sim.groups import ALL
from sim.model.records import Tables
from sim.scenario.schema import Scenario

KINDS = {
    "cleared_value_musd",
    "value_ratio",
    "cleared_per_day",
    "share",
    "peak_outside_queue",
    "peak_waiting",
    "waiting_on",
    "count_status",
    "spoiled",
}


def _time_of(s: Scenario, when: date | datetime) -> float:
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    return (when - s.run.start).total_seconds() / 3600.0 / s.run.unit_hours


def _window(s: Scenario, m: dict[str, Any]) -> tuple[float, float]:
    start = _time_of(s, m["start"]) if "start" in m else s.run.warmup
    end = _time_of(s, m["end"] + timedelta(days=1)) if "end" in m else s.run.horizon
    return max(start, 0.0), min(end, s.run.horizon)


def _in_period(s: Scenario, tables: Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trucks a figure of the run's period speaks of, and those of them cleared: a warm-up (a run
    started before the period, e.g. the winter's November) is left out. A truck counts if it left (cleared,
    turned back, diverted) after the warm-up or is still inside."""
    trucks = tables.trucks
    if s.run.warmup > 0:
        trucks = trucks[~(trucks["exit"] < s.run.warmup)]
    return trucks, trucks[trucks["status"] == "cleared"]


def _select(trucks: pd.DataFrame, m: dict[str, Any]) -> pd.DataFrame:
    for key in ("gate", "direction"):
        if key in m:
            trucks = trucks[trucks[key] == m[key]]
    return trucks


def metric_value(s: Scenario, tables: Tables, m: dict[str, Any]) -> float:
    """One replication's value of one metric, over the run's period (after its warm-up)."""
    trucks, cleared = _in_period(s, tables)
    days = s.run.unit_hours / 24.0
    kind = m["kind"]
    if kind == "cleared_value_musd":
        c = _select(cleared, m)
        if "months" in m:
            when = s.run.start + pd.to_timedelta(c["cleared"] * s.run.unit_hours, unit="h")
            c = c[when.dt.month.isin(m["months"]).to_numpy()]
            return c["value_usd"].sum() / 1e6 / (len(m["months"]) if m.get("per_month") else 1)
        return c["value_usd"].sum() / 1e6
    if kind in ("cleared_per_day", "value_ratio"):
        t0, t1 = _window(s, m)
        c = _select(cleared, m)
        inside = c[(c["cleared"] >= t0) & (c["cleared"] < t1)]
        if kind == "cleared_per_day":
            return len(inside) / ((t1 - t0) * days)
        window_rate = inside["value_usd"].sum() / (t1 - t0)
        return window_rate / (c["value_usd"].sum() / (s.run.horizon - s.run.warmup))
    if kind == "share":
        return float((cleared[m["by"]] == m["value"]).mean())
    if kind in ("peak_outside_queue", "peak_waiting"):
        steps = group_steps(tables.backlog_series, m.get("gate", ALL), m.get("direction", ALL))
        return peak(steps, "outside" if kind == "peak_outside_queue" else "waiting", s.run.warmup)
    if kind == "waiting_on":  # trucks waiting (exact) at noon of that day
        steps = group_steps(tables.backlog_series, m.get("gate", ALL), m.get("direction", ALL))
        return float(value_at(steps, np.array([_time_of(s, m["date"]) + 12.0 / s.run.unit_hours]))[0])
    if kind == "count_status":
        return float(_select(trucks, m)["status"].isin(m["status"]).sum())
    if kind == "spoiled":
        return float(_select(trucks, m)["spoiled"].sum())
    raise ValueError(kind)  # unreachable: load_reported checked the kinds


OUTSIDE = "outside the simulated period"


def _as_datetime(when: date | datetime) -> datetime:
    return when if isinstance(when, datetime) else datetime(when.year, when.month, when.day)


def outside_reason(s: Scenario, m: dict[str, Any]) -> str | None:
    """Why the scenario cannot give this figure (its period, or a gate it lacks), or None if it can.

    A figure of dates the run does not wholly cover would be computed over part of its window or none
    of it ("0 +- 0, ratio 0.00"): it is marked instead of compared. The run's period starts after its
    warm-up."""
    first = s.run.start + timedelta(hours=s.run.warmup * s.run.unit_hours)
    last = s.run.end
    try:
        if "start" in m or "end" in m:
            lo = _as_datetime(m["start"]) if "start" in m else first
            hi = _as_datetime(m["end"]) + timedelta(days=1) if "end" in m else last
            if lo < first or hi > last:
                return OUTSIDE
        if "date" in m:
            noon = _as_datetime(m["date"]) + timedelta(hours=12)
            if not first <= noon <= last:
                return OUTSIDE
        for month in m.get("months", []):
            starts = [datetime(y, month, 1) for y in range(first.year, last.year + 1)]
            ends = [datetime(y + (month == 12), month % 12 + 1, 1) for y in range(first.year, last.year + 1)]
            if not any(first <= a and b <= last for a, b in zip(starts, ends, strict=True)):
                return OUTSIDE
    except (TypeError, ValueError, OverflowError):
        return OUTSIDE  # a date the data file gives in a form we cannot place
    gate = m.get("gate", m.get("value") if m.get("by") == "gate" else None)
    if gate is not None and gate not in s.gates:
        return f"no gate '{gate}' in this scenario"
    return None


def history_values(tables: Tables, scenario: Scenario, metrics: list[dict[str, Any]]) -> list[float]:
    """One replication's value of each metric (a reducer for the runner); NaN where the scenario cannot
    give it (:func:`outside_reason`)."""
    return [
        float("nan") if outside_reason(scenario, m) else metric_value(scenario, tables, m) for m in metrics
    ]
