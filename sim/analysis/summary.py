"""The per-stage time breakdown of one replication's records (the metrics with confidence intervals
across replications live in :mod:`sim.analysis.metrics` and :mod:`sim.analysis.stats`).

Times are reported in hours whatever the scenario's time unit; trucks that arrived during the warm-up
are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def after_warmup(trucks: pd.DataFrame, warmup: float) -> pd.DataFrame:
    """The trucks that arrived at or after the warm-up: the ones the statistics describe."""
    return trucks[trucks["arrival"] >= warmup]


def stage_breakdown(
    trucks: pd.DataFrame, stages: pd.DataFrame, unit_hours: float, warmup: float = 0.0
) -> pd.DataFrame:
    """Where the hours go (in the spirit of the WCO Time Release Study): per gate, direction and stage,
    the mean waiting and service time in hours of the trucks that passed the stage, in route order.

    The wait for a yard place (queueing outside, the backlog) is its own row, ``yard (outside)``: it is
    the time from the end of the truck's last stage before the yard (or its arrival) to its yard entry.
    """
    t = after_warmup(trucks, warmup)
    st = stages[stages["truck"].isin(t["truck"])]
    rows = (
        st.groupby(["gate", "direction", "stage"], observed=True)
        .agg(
            order=("stage_order", "min"),
            trucks=("truck", "size"),
            wait=("wait", "mean"),
            service=("service", "mean"),
        )
        .reset_index()
    )
    rows[["wait", "service"]] *= unit_hours
    entered = t[t["yard_entry"].notna()][["truck", "gate", "direction", "arrival", "yard_entry"]]
    with_entry = st.merge(entered[["truck", "yard_entry"]], on="truck")
    before = with_entry[with_entry["end"] <= with_entry["yard_entry"]].groupby("truck")["end"].max()
    reached = entered.set_index("truck")["arrival"].combine(
        before.reindex(entered["truck"]), max, fill_value=-np.inf
    )
    entered = entered.assign(yard_wait=(entered["yard_entry"].to_numpy() - reached.to_numpy()) * unit_hours)
    # the yard row sits just before the stage a truck queues for on entering the yard
    at_entry = with_entry[with_entry["queued"] == with_entry["yard_entry"]]
    yard_order = at_entry.groupby(["gate", "direction"], observed=True)["stage_order"].min() - 0.5
    yard = (
        entered.groupby(["gate", "direction"], observed=True)
        .agg(trucks=("truck", "size"), wait=("yard_wait", "mean"))
        .reset_index()
        .assign(stage="yard (outside)", service=0.0)
    )
    yard["order"] = [
        yard_order.get((g, d), -0.5) for g, d in zip(yard["gate"], yard["direction"], strict=True)
    ]
    out = pd.concat([rows, yard], ignore_index=True)
    out["gate"] = out["gate"].astype(str)
    out["direction"] = out["direction"].astype(str)
    out["stage"] = out["stage"].astype(str)
    return out.sort_values(["gate", "direction", "order"], kind="stable").reset_index(drop=True)
