"""Per-replication summaries of the truck table.

Clearance time = cleared - arrival, reported in hours whatever the scenario's time unit. Trucks that
arrived during the warm-up are left out; trucks still inside at the end count as arrived, not cleared
(their clearance time is unknown, so percentiles are over cleared trucks and the count still inside is
shown beside them: a reader must see when a backlog hides the slowest trucks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUP = ["gate", "direction"]


def after_warmup(trucks: pd.DataFrame, warmup: float) -> pd.DataFrame:
    return trucks[trucks["arrival"] >= warmup]


def clearance_summary(trucks: pd.DataFrame, unit_hours: float, warmup: float = 0.0) -> pd.DataFrame:
    """One row per gate and direction (and an 'all' row): counts and clearance-time statistics in hours."""
    t = after_warmup(trucks, warmup)
    rows = []
    groups = list(t.groupby(GROUP, observed=True))
    groups.append((("all", "all"), t))
    for (gate, direction), g in groups:
        cleared = g.loc[g["status"] == "cleared", "clearance_time"].to_numpy() * unit_hours
        rows.append(
            {
                "gate": gate,
                "direction": direction,
                "arrived": len(g),
                "cleared": len(cleared),
                "inside": int((g["status"] == "inside").sum()),
                "mean_h": float(cleared.mean()) if len(cleared) else np.nan,
                "p50_h": float(np.percentile(cleared, 50)) if len(cleared) else np.nan,
                "p95_h": float(np.percentile(cleared, 95)) if len(cleared) else np.nan,
            }
        )
    return pd.DataFrame(rows)
