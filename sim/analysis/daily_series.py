"""Trucks waiting at one time of day, day by day: the daily series a study of many runs keeps.

A replication's exact ``backlog_series`` (one row at every change, :mod:`sim.analysis.backlog`) is the
largest thing a multi-run study would otherwise keep just to read a few numbers from it later (an
uncertainty study of the winter kept about 33 MB a replication). :class:`DailyWaiting` reads those numbers
in the worker, while the tables are still in memory: the trucks waiting at ``at_hour`` local time on every
date, for every (gate, direction) group of :func:`daily_groups`. The runner writes its table
(``daily_waiting``) beside the replication's metrics, and the tables themselves are never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from sim.analysis.backlog import FlowChanges, daily_at
from sim.groups import ALL
from sim.model.records import Tables
from sim.scenario import Scenario
from sim.scenario.schema import DIRECTIONS

DAILY_TABLE = "daily_waiting"  # its per-replication folder in a run folder


def daily_groups(s: Scenario) -> list[tuple[str, str]]:
    """The (gate, direction) groups of the daily series: the province and each gate, each direction and
    both, where the gate has that direction."""
    out = [(ALL, d) for d in (*DIRECTIONS, ALL)]
    for name, gate in s.gates.items():
        ds = [d for d in DIRECTIONS if gate.flow(d) is not None]
        out += [(name, d) for d in ds] + ([(name, ALL)] if len(ds) > 1 else [])
    return out


def daily_waiting(tables: Tables, s: Scenario, at_hour: float) -> pd.DataFrame:
    """One replication's trucks waiting at ``at_hour`` on every date, per group (date, gate, direction,
    value; NaN where that time is outside the run), from its exact backlog series."""
    run = s.run
    changes = FlowChanges.of(tables.backlog_series.reset_index(drop=True))
    frames = []
    for gate, direction in daily_groups(s):
        days = daily_at(
            changes.steps(gate, direction), run.start, run.unit_hours, run.horizon, at_hour=at_hour
        )
        frames.append(days.assign(gate=gate, direction=direction)[["date", "gate", "direction", "at"]])
    return pd.concat(frames, ignore_index=True).rename(columns={"at": "value"})


@dataclass(frozen=True)
class DailyWaiting:
    """The daily series as a worker derives it (picklable): ``{"daily_waiting": table}`` from one
    replication's tables. ``names`` tells the runner which tables it adds to a run folder."""

    at_hour: float
    names: ClassVar[tuple[str, ...]] = (DAILY_TABLE,)

    def __call__(self, tables: Tables, scenario: Scenario) -> dict[str, pd.DataFrame]:
        return {DAILY_TABLE: daily_waiting(tables, scenario, self.at_hour)}
