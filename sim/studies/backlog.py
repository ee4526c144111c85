"""The backlog study: a saved run's exact count of trucks day by day, read at a time of day.

It runs nothing: it reads the run's ``backlog_series`` table (every arrival, yard entry, crossing,
turn-back and diversion) and gives each day's count with its 95% interval over the replications, and
each replication's exact peak with its time. ``bordersim backlog`` prints it; ``sim.backlog`` returns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from sim.analysis.backlog import daily_interval, peak_by_replication
from sim.analysis.observed import hour_text, parse_hour
from sim.analysis.state_at import sim_time
from sim.analysis.state_at import state_at as state_table
from sim.errors import UserError
from sim.groups import ALL, DIRECTION_CHOICES
from sim.store.reader import RunData, load_run
from sim.studies.forecast import parse_datetime

COUNTS = ("waiting", "outside", "in_yard", "before_yard")


@dataclass
class BacklogResult:
    """A run's daily counts (``days``) and each replication's exact peak (``peaks``), for one group."""

    folder: Path
    run: RunData
    gate: str
    direction: str
    count: str
    at_hour: float
    days: pd.DataFrame
    peaks: pd.DataFrame

    @property
    def at_text(self) -> str:
        """The time of day read, as HH:MM."""
        return hour_text(self.at_hour)


def read_backlog(
    folder: str | Path,
    *,
    gate: str = ALL,
    direction: str = ALL,
    count: str = "waiting",
    at: str | float = "12:00",
) -> BacklogResult:
    """The daily count of ``count`` trucks at ``gate``/``direction`` read at ``at`` (HH:MM or hours)."""
    at_hour = parse_hour(at) if isinstance(at, str) else float(at)
    if count not in COUNTS:
        raise UserError.single(None, "--count", f"choose from {', '.join(COUNTS)} (got {count!r})")
    if direction not in DIRECTION_CHOICES:
        raise UserError.single(None, "--direction", f"choose export, import or all (got {direction!r})")
    run = load_run(folder)
    if gate != ALL and gate not in run.gates:
        raise UserError.single(
            None, "--gate", f"{gate!r} is not a gate of this run; choose all or {', '.join(run.gates)}"
        )
    series = run.table("backlog_series")
    group = {"gate": gate, "direction": direction, "column": count}
    days = daily_interval(series, run.start, run.unit_hours, run.horizon, at_hour=at_hour, **group)
    peaks = peak_by_replication(series, run.start, run.unit_hours, **group)
    return BacklogResult(Path(folder), run, gate, direction, count, at_hour, days, peaks)


def read_state(folder: str | Path, state_at: str, replication: int = 0) -> tuple[pd.DataFrame, datetime]:
    """The trucks present in replication ``replication`` of a saved run at ``state_at`` (a local date and
    time inside the run), as the rows of a state file (see sim/analysis/state_at.py), and that time."""

    run = load_run(folder)
    when = parse_datetime(state_at, "--state-at")
    at = sim_time(run.scenario, when)
    if not 0.0 <= at <= run.horizon:
        where = f"{when.isoformat()} is outside the run ({run.window_text()})"
        raise UserError.single(None, "--state-at", where)
    if replication not in run.replications:
        shown = ", ".join(map(str, run.replications)) or "none"
        raise UserError.single(
            None, "--replication", f"replication {replication} is not in this run (it has {shown})"
        )
    trucks = run.table(
        "trucks",
        ["truck", "gate", "direction", "truck_class", "arrival", "origin_arrival", "yard_entry", "exit"],
        replication=replication,
    )
    stages = run.table("stages", ["truck", "stage_order", "end"], replication=replication)
    return state_table(trucks, stages, run.scenario, at), when
