"""Observations set against an uncertainty study's daily band (split from :mod:`sim.analysis.observed`,
whose reader reads the file): how many fall inside the band, and the median's log ratio."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def compare_band(observed: pd.DataFrame, bands: pd.DataFrame) -> pd.DataFrame:
    """Observed beside an uncertainty study's daily band (``bands_daily.csv``: date, gate, direction,
    p5, p50, p95), a row per observation: the band's median and 5% and 95% points on that date, the
    ratio median / observed and its natural log, and whether the observation lies inside the 90% band.

    The band is the spread of the model's answer over its uncertain inputs; an observation inside it is
    one the model can give with some input set in the ranges, outside it one it cannot (at the band's
    sampling precision)."""
    indexed = bands.set_index(["date", "gate", "direction"])[["p5", "p50", "p95"]]
    keys = list(zip(observed["date"], observed["gate"], observed["direction"], strict=True))
    found = indexed.reindex(pd.MultiIndex.from_tuples(keys, names=["date", "gate", "direction"]))
    obs = observed["value"].to_numpy(dtype=float)
    p5, p50, p95 = (found[c].to_numpy(dtype=float) for c in ("p5", "p50", "p95"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(obs > 0, p50 / obs, np.nan)
        log_ratio = np.where((obs > 0) & (p50 > 0), np.log(p50 / obs), np.nan)
    return pd.DataFrame(
        {
            "date": [d.isoformat() for d in observed["date"]],
            "gate": observed["gate"].to_numpy(),
            "direction": observed["direction"].to_numpy(),
            "observed": obs,
            "p5": p5,
            "p50": p50,
            "p95": p95,
            "ratio": ratio,
            "log_ratio": log_ratio,
            "inside_band": (p5 <= obs) & (obs <= p95),
            "source": observed["source"].to_numpy(),
        }
    )


def band_error(table: pd.DataFrame) -> dict[str, float | int]:
    """The summary of :func:`compare_band`: observations, those compared (both values above zero), the
    root mean square and the geometric mean of the median's ratio to the observed, and how many
    observations fall inside the 90% band."""
    logs = table["log_ratio"].to_numpy(dtype=float)
    logs = logs[np.isfinite(logs)]
    return {
        "observations": len(table),
        "compared": len(logs),
        "rms_log_ratio": float(np.sqrt(np.mean(logs**2))) if len(logs) else math.nan,
        "geometric_mean_ratio": float(np.exp(logs.mean())) if len(logs) else math.nan,
        "inside_band": int(table["inside_band"].sum()),
    }
