"""Scores of a forecast of counts against what was then counted (``assimilate --hindcast``).

A forecast of a count is a weighted sample (the particles' counts, each with the observation's error drawn
on top, :func:`predictive`): the count a platform would report, not the model's true count. Per row:

- **CRPS**, the continuous ranked probability score ``E|X - y| - E|X - X'| / 2`` of the sample against the
  count ``y`` (trucks; lower is better; a point forecast's is its absolute error);
- whether the central **50% and 90% intervals** held the count (a calibrated forecast holds it 50% and
  90% of the time; a point forecast has no interval: NaN);
- the **log ratio** ``ln(median / y)`` where both are above zero (0 is right; 0.69 a factor of 2 high).

Rows are summarised by horizon band (:data:`BANDS`, days from the forecast's start to the count).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.likelihood import FLOOR, errors
from sim.analysis.smc import weighted_quantiles

BANDS = ((1, 3), (4, 7), (8, 14), (15, 30))


def predictive(values: np.ndarray, rel: np.ndarray, abs_: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One reported count per particle and row (particles x rows): the default error model's negative
    binomial (:mod:`sim.analysis.likelihood`) around each particle's count."""
    m = np.maximum(np.asarray(values, dtype=float), FLOOR)
    r, a = errors(rel, abs_)
    extra = np.maximum((r * m) ** 2 + a**2, 1e-9)
    n = m**2 / extra
    return rng.negative_binomial(n, n / (n + m)).astype(float)


def crps(sample: np.ndarray, weights: np.ndarray, y: float) -> float:
    """The CRPS of a weighted sample against ``y``."""
    x = np.asarray(sample, dtype=float)
    w = np.asarray(weights, dtype=float)
    spread = np.abs(x[:, None] - x[None, :])
    return float(w @ np.abs(x - y) - 0.5 * w @ spread @ w)


def score_rows(sample: np.ndarray, weights: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """CRPS, 50% and 90% coverage and log ratio of each row (a column of ``sample``) against its count."""
    q = weighted_quantiles(sample, weights, (0.05, 0.25, 0.5, 0.75, 0.95))
    y = np.asarray(observed, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where((q[2] > 0) & (y > 0), np.log(q[2] / y), np.nan)
    return pd.DataFrame(
        {
            "crps": [crps(sample[:, j], weights, y[j]) for j in range(len(y))],
            "in50": (q[1] <= y) & (y <= q[3]),
            "in90": (q[0] <= y) & (y <= q[4]),
            "log_ratio": log_ratio,
            "p50": q[2],
        }
    )


def point_rows(point: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """The same scores of a point forecast (persistence): CRPS is the absolute error; no intervals."""
    y = np.asarray(observed, dtype=float)
    p = np.asarray(point, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where((p > 0) & (y > 0), np.log(p / y), np.nan)
    nan = np.full(len(y), np.nan)
    return pd.DataFrame({"crps": np.abs(p - y), "in50": nan, "in90": nan, "log_ratio": log_ratio, "p50": p})


def band_of(days: float) -> str:
    """The horizon band of a forecast ``days`` ahead (``1-3`` ... ``15-30``; ``>30`` beyond)."""
    for low, high in BANDS:
        if days <= high:
            return f"{low}-{high}"
    return ">30"


def by_band(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows (method, horizon_days, crps, in50, in90, log_ratio) summarised per method and horizon band:
    the count, mean CRPS, share inside each interval and root mean square of the log ratio."""
    rows = rows.assign(band=[band_of(h) for h in rows["horizon_days"]])
    order = {f"{lo}-{hi}": k for k, (lo, hi) in enumerate(BANDS)} | {">30": len(BANDS)}
    out = (
        rows.groupby(["band", "method"], sort=False)
        .agg(
            n=("crps", "size"),
            crps=("crps", "mean"),
            cover50=("in50", lambda s: s.astype(float).mean()),
            cover90=("in90", lambda s: s.astype(float).mean()),
            rms_log_ratio=(
                "log_ratio",
                lambda s: float(np.sqrt(np.nanmean(s**2))) if s.notna().any() else np.nan,
            ),
        )
        .reset_index()
    )
    return out.sort_values(
        ["band", "method"], key=lambda c: c.map(order) if c.name == "band" else c
    ).reset_index(drop=True)
