"""The oldest-truck study: how long the oldest truck waiting has been in the province, day by day.

It runs nothing: it reads a saved run's ``trucks`` table (each truck's arrival at its gate, its arrival
in the province and when it left) and gives each day's age of the oldest truck still waiting, read at a
time of day, with its 95% interval over the replications (:func:`sim.analysis.backlog.oldest_interval`).
``bordersim backlog --oldest`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.backlog import oldest_interval
from sim.analysis.observed import hour_text, parse_hour
from sim.errors import UserError
from sim.groups import ALL, DIRECTION_CHOICES
from sim.store.reader import RunData, load_run

TRUCK_COLUMNS = ["gate", "direction", "arrival", "origin_arrival", "exit"]


@dataclass
class OldestResult:
    """Each day's age (days) of the oldest truck waiting (``days``), for one gate and direction."""

    folder: Path
    run: RunData
    gate: str
    direction: str
    at_hour: float
    days: pd.DataFrame

    @property
    def at_text(self) -> str:
        """The time of day read, as HH:MM."""
        return hour_text(self.at_hour)


def read_oldest(
    folder: str | Path, *, gate: str = ALL, direction: str = ALL, at: str | float = "12:00"
) -> OldestResult:
    """The age of the oldest truck waiting at ``gate``/``direction``, each day at ``at`` (HH:MM or hours)."""
    at_hour = parse_hour(at) if isinstance(at, str) else float(at)
    if direction not in DIRECTION_CHOICES:
        raise UserError.single(None, "--direction", f"choose export, import or all (got {direction!r})")
    run = load_run(folder)
    if gate != ALL and gate not in run.gates:
        raise UserError.single(
            None, "--gate", f"{gate!r} is not a gate of this run; choose all or {', '.join(run.gates)}"
        )
    trucks = run.table("trucks", TRUCK_COLUMNS)
    days = oldest_interval(trucks, run.start, run.unit_hours, run.horizon, gate, direction, at_hour=at_hour)
    return OldestResult(Path(folder), run, gate, direction, at_hour, days)
