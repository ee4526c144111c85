"""The state of a saved run at a date and time: the trucks waiting then, as the rows of a state file.

``bordersim backlog RUN_DIR --state-at DATETIME --format csv`` writes it; a forecast started from it
(``run.initial_state``, :mod:`sim.scenario.state`) continues that replication's queue. A truck is in the
state when it had arrived at a gate and not yet crossed, turned back or diverted at that time (the
definition of "trucks waiting" of :mod:`sim.analysis.backlog`, so the state's count is the backlog
series' value at that instant).

Each truck's place is the stage it was queued for or in: the stage after the last one it had finished
(its ``stages`` rows ending by then), or its first stage. A truck past the stages before the yard and
not in it is ``outside``. Its arrival is its arrival in the province (``origin_arrival``: the cargo's
clock, from which spoilage is judged; for a truck that diverted, its patience at the new gate then also
counts from that first arrival). Trucks alike (gate, direction, class, place, arrival to the minute
below) are one row with their count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from sim.scenario.schema import Scenario
from sim.scenario.state import COLUMNS, yard_position


def state_at(trucks: pd.DataFrame, stages: pd.DataFrame, scenario: Scenario, at: float) -> pd.DataFrame:
    """The trucks of one replication waiting at simulated time ``at``, as state-file rows (see the
    module docstring). ``trucks`` and ``stages`` are that replication's tables."""
    present = (trucks["arrival"] <= at) & ~(trucks["exit"] <= at)  # exit NaN: still inside at the end
    here = trucks.loc[present].copy()
    done = stages[(stages["end"] <= at) & stages["truck"].isin(here["truck"])]
    last = done.groupby("truck")["stage_order"].max()
    here["next"] = here["truck"].map(last).fillna(-1).astype(int) + 1
    run = scenario.run
    places = []
    for gate, direction, nxt, yard in zip(
        here["gate"].astype(str), here["direction"].astype(str), here["next"], here["yard_entry"], strict=True
    ):
        flow = scenario.gates[gate].flow(direction)
        names = list(flow.stages)  # type: ignore[union-attr]
        in_yard = bool(np.isfinite(yard) and yard <= at)
        if in_yard or nxt < yard_position(flow):
            places.append(names[min(nxt, len(names) - 1)])
        else:
            places.append("outside")
    here["where"] = places
    minutes = np.floor(here["origin_arrival"].to_numpy(dtype=float) * run.unit_hours * 60.0 + 1e-9)
    here["arrived"] = [
        (run.start + timedelta(minutes=float(m))).isoformat(timespec="minutes") for m in minutes
    ]
    here["class"] = here["truck_class"].astype(str)
    keys = ["gate", "direction", "class", "where", "arrived"]
    out = (
        here.astype({"gate": str, "direction": str})
        .groupby(keys, sort=False)
        .size()
        .rename("count")
        .reset_index()
        .sort_values(["gate", "direction", "arrived", "where"], kind="stable")
    )
    out["waited_h"] = ""
    return out[list(COLUMNS)].reset_index(drop=True)


def sim_time(scenario: Scenario, when: datetime) -> float:
    """The simulated time of a local date and time of the scenario's run."""
    return (when - scenario.run.start) / timedelta(hours=1) / scenario.run.unit_hours
