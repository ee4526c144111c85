"""Statistics across replications: means with Student-t intervals, and paired differences between policies.

Replications of one scenario are independent (each has its own spawned seed), so the mean of a metric over
them has a Student-t interval. Two policies run with the same root seed share replication k's random
numbers (common random numbers): their difference in replication k is one observation of the policy
effect, with the shared noise cancelled, and the t-interval of those differences (the paired interval) is
what says whether a policy changed anything. The unpaired (Welch) interval is reported beside it to show
how much the pairing bought.

Input everywhere is a tidy table of per-replication metrics: columns ``replication``, the group keys
(``gate``, ``direction``, ``metric``) and ``value``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

CONFIDENCE = 0.95
BY = ("gate", "direction", "metric")


def half_width(sd: ArrayLike, n: ArrayLike, confidence: float = CONFIDENCE) -> np.ndarray:
    """Half-width of the Student-t interval of a mean: t quantile x sd / sqrt(n).

    The one place the t-interval is computed. NaN below two replications (no interval), 0 when every
    replication agrees.
    """
    n = np.asarray(n, dtype=float)
    df = np.where(n >= 2, n - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return stats.t.ppf(0.5 + confidence / 2, df) * np.asarray(sd, dtype=float) / np.sqrt(n)


def t_half_width(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> float:
    """Half-width of the Student-t interval of the mean of independent ``values`` (NaN below two)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float("nan")
    return float(half_width(x.std(ddof=1), len(x), confidence))


def summarize(per_rep: pd.DataFrame, by: Sequence[str] = BY, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean, standard deviation and t-interval of ``value`` over replications, per group.

    Replications where a statistic is undefined (NaN, e.g. no truck cleared) are left out; ``n`` says how
    many were used.
    """
    g = per_rep.groupby(list(by), sort=False, observed=True)["value"]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["half_width"] = half_width(out["sd"], out["n"], confidence)
    out["ci_low"] = out["mean"] - out["half_width"]
    out["ci_high"] = out["mean"] + out["half_width"]
    return out


def _welch_half_width(a: np.ndarray, b: np.ndarray, confidence: float) -> float:
    if len(a) < 2 or len(b) < 2:
        return np.nan
    with warnings.catch_warnings():  # two constant samples (e.g. no spoilage anywhere) give NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)
    return float(ci.high - ci.low) / 2


def paired_differences(
    base: pd.DataFrame,
    policy: pd.DataFrame,
    by: Sequence[str] = BY,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Policy minus base, replication by replication, summarised per group.

    Columns: ``n`` (pairs), ``diff`` (mean difference), ``diff_half_width``, ``diff_low``, ``diff_high``,
    ``significant`` (the paired interval excludes 0), ``diff_pct`` (mean difference as a percentage of
    the base mean) and ``unpaired_half_width`` (Welch's interval on the same replications, for contrast).
    """
    keys = [*by, "replication"]
    pairs = base[[*keys, "value"]].merge(
        policy[[*keys, "value"]], on=keys, suffixes=("_base", "_policy"), how="inner"
    )
    pairs = pairs.dropna(subset=["value_base", "value_policy"])
    pairs["value"] = pairs["value_policy"] - pairs["value_base"]
    out = summarize(pairs, by, confidence).rename(
        columns={
            "mean": "diff",
            "sd": "diff_sd",
            "half_width": "diff_half_width",
            "ci_low": "diff_low",
            "ci_high": "diff_high",
        }
    )
    out["significant"] = (out["diff_low"] > 0) | (out["diff_high"] < 0)
    base_mean = pairs.groupby(list(by), sort=False, observed=True)["value_base"].mean()
    out["diff_pct"] = 100 * out["diff"] / out.set_index(list(by)).index.map(base_mean).to_numpy(dtype=float)
    out.loc[~np.isfinite(out["diff_pct"]), "diff_pct"] = np.nan
    welch = pairs.groupby(list(by), sort=False, observed=True)[["value_policy", "value_base"]].apply(
        lambda g: _welch_half_width(g["value_policy"].to_numpy(), g["value_base"].to_numpy(), confidence)
    )
    out["unpaired_half_width"] = out.set_index(list(by)).index.map(welch).to_numpy(dtype=float)
    return out
