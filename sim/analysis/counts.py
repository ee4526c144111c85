"""The counts a particle of ``assimilate`` keeps from its run: the model's value of each observation and
of each day of the observed groups, read from one replication's tables and nothing else kept.

- ``waiting``: trucks waiting (arrived at the gate, not yet crossed, turned back or diverted) at a time,
  from the exact step series (:mod:`sim.analysis.backlog`), after every change at that instant;
- ``crossed``: trucks cleared (crossed the border) in a half-open window, a calendar day [00:00, 24:00);
- ``turned_back``: trucks that turned back in that window.

:class:`CountReader` is a picklable reducer: a worker runs the replication, calls it, and sends back one
row of numbers, so a particle costs its counts, not its tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.backlog import FlowChanges, value_at
from sim.groups import ALL


@dataclass(frozen=True)
class Query:
    """One count: its group, what is counted, and when (a time for ``waiting``, a window for the others),
    in the scenario's time unit from its start."""

    gate: str
    direction: str
    what: str
    start: float
    end: float


def _select(trucks: pd.DataFrame, gate: str, direction: str) -> pd.DataFrame:
    rows = trucks
    if gate != ALL:
        rows = rows[rows["gate"].astype(str) == gate]
    if direction != ALL:
        rows = rows[rows["direction"].astype(str) == direction]
    return rows


@dataclass(frozen=True)
class CountReader:
    """Reads the queries' values from one replication's tables (a reducer for the runner's tasks)."""

    queries: tuple[Query, ...]

    def __call__(self, tables: object, scenario: object = None) -> np.ndarray:
        out = np.zeros(len(self.queries))
        series = tables.backlog_series  # type: ignore[attr-defined]
        trucks = tables.trucks  # type: ignore[attr-defined]
        changes = FlowChanges.of(series.reset_index(drop=True)) if len(series) else None
        steps: dict[tuple[str, str], pd.DataFrame] = {}
        for k, q in enumerate(self.queries):
            if q.what == "waiting":
                if changes is None:
                    continue
                key = (q.gate, q.direction)
                if key not in steps:
                    steps[key] = changes.steps(q.gate, q.direction)
                out[k] = value_at(steps[key], np.array([q.start]))[0]
                continue
            rows = _select(trucks, q.gate, q.direction)
            if q.what == "crossed":
                t = rows.loc[rows["status"].astype(str) == "cleared", "cleared"].to_numpy(dtype=float)
            else:
                t = rows.loc[rows["status"].astype(str) == "turned_back", "exit"].to_numpy(dtype=float)
            out[k] = float(np.count_nonzero((t >= q.start) & (t < q.end)))
        return out
