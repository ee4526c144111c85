"""Is a run's answer a steady state? Flows where many trucks are still inside at the horizon.

Clearance statistics describe the trucks that cleared. When arrivals outrun what a gate can clear, the
backlog grows without bound: most trucks never clear before the horizon, and the mean clearance of the
few that do says little (it grows with the horizon). Such a run is not wrong, but its summary must say so.
This module finds those flows from the summary across replications: the mean share of the trucks that
arrived after the warm-up and were still inside at the horizon, counting the trucks still held upstream
(never arrived) as not through either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

INSIDE_SHARE_LIMIT = 0.10  # above this share still inside at the horizon, a flow is flagged
FLAG = "unstable"
SHARE = "still_inside_share"  # of the trucks that arrived or are held upstream: inside or held at the end
HELD = "trucks_held_upstream"  # a metric of scenarios that hold trucks upstream (sim/model/upstream.py)


def inside_shares(summary: pd.DataFrame) -> pd.DataFrame:
    """Per gate and direction (including the ``all`` groups): mean arrived, mean still inside, mean still
    held upstream at the end, the share of the trucks not through (inside or held, of arrived or held),
    and whether it exceeds INSIDE_SHARE_LIMIT. A truck held upstream for good never arrives: counted
    among the arrivals only, a gate whose every truck is held (``daily_quota: 0``) would read 0 of 0,
    stable. Empty if the summary lacks those metrics."""
    means = summary[summary["metric"].isin(["arrived", "still_inside", HELD])]
    wide = means.pivot_table(index=["gate", "direction"], columns="metric", values="mean", sort=False)
    if not {"arrived", "still_inside"} <= set(wide.columns):
        return pd.DataFrame(columns=["gate", "direction", "arrived", "still_inside", HELD, SHARE, FLAG])
    if HELD not in wide.columns:
        wide[HELD] = 0.0
    wide[HELD] = wide[HELD].fillna(0.0)
    arrived = wide["arrived"].to_numpy(dtype=float)
    held = wide[HELD].to_numpy(dtype=float)
    inside = wide["still_inside"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(arrived + held > 0, (inside + held) / (arrived + held), 0.0)
    out = wide[["arrived", "still_inside", HELD]].reset_index()
    out[SHARE] = share
    out[FLAG] = share > INSIDE_SHARE_LIMIT
    out.columns.name = None
    return out


def mark_unstable(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with two columns per row's group: the share still inside and the ``unstable`` flag."""
    shares = inside_shares(summary)[["gate", "direction", SHARE, FLAG]]
    out = summary.drop(columns=[SHARE, FLAG], errors="ignore").merge(
        shares, on=["gate", "direction"], how="left"
    )
    out[FLAG] = out[FLAG].fillna(False).astype(bool)
    return out


def unstable_flows(summary: pd.DataFrame) -> pd.DataFrame:
    """The flagged groups, worst first."""
    shares = inside_shares(summary)
    return shares[shares[FLAG]].sort_values(SHARE, ascending=False, kind="stable").reset_index(drop=True)
