"""How good the morning twin's forecasts would have been (``assimilate --hindcast``).

For each observation date D of the file (after the first), the rows known by D's midnight (a day's
count at the end of its day, so the crossings of D-1 are among them) are assimilated
(:meth:`sim.studies.assimilate.Twin.filter`) and the later rows are forecast: each particle's count with
the observation's error drawn on top (:func:`sim.analysis.scores.predictive`), scored at its horizon
(days from D's midnight to the row's time) by CRPS, 50% and 90% coverage and log ratio
(:mod:`sim.analysis.scores`). Two baselines are scored the same way on the same rows:

- **prior**: particles drawn from the ranges and run from the start without any observation (equal
  weights, one filter of no step, run once for every origin): the band without assimilation;
- **persistence**: the last count of the same gate, direction and quantity known by D, carried forward.

The table gives the mean per horizon band (1-3, 4-7, 8-14, 15-30 days) and method.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.scores import by_band, point_rows, predictive, score_rows


def hindcast_scores(twin: Any, particles: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hindcast's table by horizon band and its rows (see the module docstring)."""
    rows = twin.rows
    end = max(rows["when"])
    scored = []
    dates = sorted(set(rows["date"]))
    prior: np.ndarray | None = None  # every row's count by the prior particles (no observation), once
    for k, day in enumerate(dates[1:], start=1):
        cut = datetime.combine(day, datetime.min.time())
        # a day's count is known at its midnight: the crossings of D-1 are counted by D's morning, so they
        # are assimilated, not forecast at a horizon of 0 days (and scored in the 1-3 day band)
        past = rows[rows["when"] <= cut].reset_index(drop=True)
        later = rows[rows["when"] > cut]
        if past.empty or later.empty:
            continue
        found, _ = twin.filter(past, end, particles, k, predict=later.reset_index(drop=True))
        cols = np.arange(len(past), len(past) + len(later))
        snap = found.steps[-1]
        snap = type(snap)(snap.rows, snap.ess, snap.resampled, snap.moved, found.values, found.weights)
        rng = np.random.default_rng([twin.root_seed, k])
        rel, abs_ = later["rel_error"].to_numpy(float), later["abs_error"].to_numpy(float)
        y = later["value"].to_numpy(float)
        horizon = [(w - cut) / timedelta(days=1) for w in later["when"]]
        if prior is None:
            prior = twin.filter(rows.iloc[:0], end, particles, len(dates), predict=rows)[0].values
        equal = np.full(particles, 1.0 / particles)
        ahead = prior[:, later.index.to_numpy()]
        methods = {
            "assimilated": score_rows(predictive(snap.values[:, cols], rel, abs_, rng), snap.weights, y),
            "prior": score_rows(predictive(ahead, rel, abs_, rng), equal, y),
            "persistence": point_rows(_persistence(past, later), y),
        }
        for method, table in methods.items():
            scored.append(
                table.assign(
                    method=method,
                    origin=day.isoformat(),
                    when=[w.isoformat() for w in later["when"]],
                    gate=later["gate"].to_numpy(),
                    direction=later["direction"].to_numpy(),
                    what=later["what"].to_numpy(),
                    observed=y,
                    horizon_days=horizon,
                )
            )
    if not scored:
        return pd.DataFrame(), pd.DataFrame()
    all_rows = pd.concat(scored, ignore_index=True)
    return by_band(all_rows), all_rows


def _persistence(past: pd.DataFrame, later: pd.DataFrame) -> np.ndarray:
    """The last count before the cut of each later row's group (NaN if that group has none)."""
    last = past.groupby(["gate", "direction", "what"])["value"].last()
    keys = zip(later["gate"], later["direction"], later["what"], strict=True)
    return np.array([last.get(k, np.nan) for k in keys], dtype=float)
