"""Validation against history: reported figures beside the model's, with confidence intervals.

The figures to compare come from a data file (``data/reported_2021.yaml``): each names a metric the model
computes (below), the reported number and its source. Rows without a reported number are outputs the
model produces and nobody tuned it to (the winter backlog). Each replication gives one value of every
metric; the table shows their mean, a 95% t-interval and the ratio simulated / reported.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from sim.errors import UserError
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.runner.backends import Backend, executor
from sim.scenario.schema import Scenario

KINDS = {
    "cleared_value_musd",
    "value_ratio",
    "cleared_per_day",
    "share",
    "peak_outside_queue",
    "waiting_on",
    "count_status",
    "spoiled",
}


def load_reported(path: Path, section: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError.single(str(path), "", f"cannot read the reported figures ({exc})") from None
    rows = (data or {}).get(section)
    if not isinstance(rows, list):
        raise UserError.single(str(path), section, "expected a list of reported figures")
    for i, row in enumerate(rows):
        kind = (row.get("metric") or {}).get("kind")
        if kind not in KINDS:
            raise UserError.single(str(path), f"{section}.{i}.metric.kind", f"one of {sorted(KINDS)}")
    return rows


def _time_of(s: Scenario, when: date | datetime) -> float:
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    return (when - s.run.start).total_seconds() / 3600.0 / s.run.unit_hours


def _window(s: Scenario, m: dict[str, Any]) -> tuple[float, float]:
    start = _time_of(s, m["start"]) if "start" in m else 0.0
    end = _time_of(s, m["end"] + timedelta(days=1)) if "end" in m else s.run.horizon
    return max(start, 0.0), min(end, s.run.horizon)


def _select(trucks: pd.DataFrame, m: dict[str, Any]) -> pd.DataFrame:
    for key in ("gate", "direction"):
        if key in m:
            trucks = trucks[trucks[key] == m[key]]
    return trucks


def metric_value(s: Scenario, tables: Any, m: dict[str, Any]) -> float:
    """One replication's value of one metric."""
    trucks = tables.trucks
    cleared = trucks[trucks["status"] == "cleared"]
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
        return window_rate / (c["value_usd"].sum() / s.run.horizon)
    if kind == "share":
        return float((cleared[m["by"]] == m["value"]).mean())
    series = tables.gate_series
    if kind == "peak_outside_queue":
        return float(series.loc[series["gate"] == m["gate"], "outside_queue"].max())
    if kind == "waiting_on":
        t = _time_of(s, m["date"]) + 12.0 / s.run.unit_hours  # noon of that day
        at = series[np.isclose(series["time"], series["time"].iloc[(series["time"] - t).abs().argmin()])]
        if "gate" in m:
            at = at[at["gate"] == m["gate"]]
        return float((at["outside_queue"] + at["yard_occupancy"]).sum())
    if kind == "count_status":
        return float(_select(trucks, m)["status"].isin(m["status"]).sum())
    if kind == "spoiled":
        return float(_select(trucks, m)["spoiled"].sum())
    raise ValueError(kind)  # unreachable: load_reported checked the kinds


def _replication_metrics(s: Scenario, seed: int, rep: int, metrics: list[dict[str, Any]]) -> list[float]:
    tables = run_replication(s, replication_seed(seed, rep))
    return [metric_value(s, tables, m) for m in metrics]


def compare_history(
    s: Scenario, rows: list[dict[str, Any]], replications: int, seed: int, backend: Backend
) -> pd.DataFrame:
    metrics = [r["metric"] for r in rows]
    with executor(backend, replications) as pool:
        futures = [pool.submit(_replication_metrics, s, seed, k, metrics) for k in range(replications)]
        values = np.array([f.result() for f in futures])  # replications x metrics
    out = []
    for j, row in enumerate(rows):
        x = values[:, j]
        half = (
            float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
            if len(x) > 1
            else math.nan
        )
        reported = row.get("reported")
        out.append(
            {
                "figure": row["label"],
                "reported": reported,
                "simulated": float(x.mean()),
                "ci95_half_width": half,
                "ratio": float(x.mean()) / reported if reported else math.nan,
                "source": row.get("source", "model output (not compared)"),
            }
        )
    return pd.DataFrame(out)
