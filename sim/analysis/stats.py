"""Statistics across replications: means with Student-t intervals, and paired differences between policies.

Replications of one scenario are independent (each has its own spawned seed), so the mean of a metric over
them has a Student-t interval. Two policies run with the same root seed share replication k's random
numbers (common random numbers): their difference in replication k is one observation of the policy
effect, with the shared noise cancelled, and the t-interval of those differences (the paired interval) is
what says whether a policy changed anything. The unpaired (Welch) interval is reported beside it to show
how much the pairing bought.

Counts of trucks (arrived, crossed, turned back, a peak of trucks waiting...) cannot be negative, and the
symmetric t-interval of a small or rare count crosses 0 ("60 (-105 to 225)"). Their mean gets the
quasi-Poisson score interval instead (:func:`count_interval`): never below 0, wider above the mean than
below it, and the same as the t-interval when the mean is large. A paired difference of counts between
two policies can be negative, so differences keep the t-interval.

Input everywhere is a tidy table of per-replication metrics: columns ``replication``, the group keys
(``gate``, ``direction``, ``metric``) and ``value``.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

CONFIDENCE = 0.95
BY = ("gate", "direction", "metric")
T_INTERVAL = "t"  # the ``interval`` column of a summary: which interval ci_low and ci_high are
COUNT_INTERVAL = "quasi-Poisson"


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


def count_interval(
    mean: ArrayLike, sd: ArrayLike, n: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """The quasi-Poisson (overdispersed Poisson) score interval of the mean of ``n`` replications of a count.

    With the dispersion phi = sd^2 / mean (variance = phi x mean, as for a Poisson count when phi = 1),
    the interval is every mu >= 0 with (mean - mu)^2 <= t^2 phi mu / n: the roots of a quadratic in mu,
    mean + c/2 -+ sqrt(c mean + c^2/4) with c = t^2 phi / n. The lower root is never below 0 (the
    product of the roots is mean^2), the interval is longer above the mean than below it, and when c is
    small beside the mean (many replications, a large count) it is mean -+ t sd / sqrt(n): the t-interval.

    Replications that all agree (sd = 0, a count of 0 in every one included) give the degenerate interval
    [mean, mean], as the t-interval does, and the tables say "every replication" rather than print a
    range: a count fixed by the inputs (the starting state on a forecast's day 0) has no spread, and
    assuming one would invent it. No floor is put under phi otherwise: counts held by a capacity vary
    less than a Poisson count (phi < 1), and a floor would make their interval wider than the t-interval
    even with many replications. NaN below two replications.
    """
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    df = np.where(n >= 2, n - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + confidence / 2, df)
        phi = np.where(sd > 0, sd**2 / mean, 0.0)  # sd = 0: c = 0, low = high = mean
        c = t**2 * phi / n
        root = np.sqrt(c * mean + c**2 / 4)
        low = np.maximum(mean + c / 2 - root, 0.0)  # max: rounding only, the root is >= 0 in exact terms
        high = mean + c / 2 + root
    bad = ~(np.isfinite(low) & np.isfinite(high) & (mean >= 0))
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def summarize(
    per_rep: pd.DataFrame,
    by: Sequence[str] = BY,
    confidence: float = CONFIDENCE,
    counts: bool | Collection[str] = False,
) -> pd.DataFrame:
    """Mean, standard deviation and interval of ``value`` over replications, per group.

    ``counts`` says which rows are counts of trucks: True for all, or the names in the ``metric``
    column. Their interval (``ci_low``, ``ci_high``) is :func:`count_interval`, the others' the
    t-interval; ``interval`` names which, and ``half_width`` is half the interval's length (for a count,
    not the distance from the mean to either end: the ends are ``ci_low`` and ``ci_high``).

    Replications where a statistic is undefined (NaN, e.g. no truck cleared) are left out; ``n`` says how
    many were used.
    """
    g = per_rep.groupby(list(by), sort=False, observed=True)["value"]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["half_width"] = half_width(out["sd"], out["n"], confidence)
    out["ci_low"] = out["mean"] - out["half_width"]
    out["ci_high"] = out["mean"] + out["half_width"]
    if counts is True:
        is_count = np.ones(len(out), dtype=bool)
    elif counts and "metric" in out:
        is_count = out["metric"].isin(list(counts)).to_numpy()
    else:
        is_count = np.zeros(len(out), dtype=bool)
    out["interval"] = np.where(is_count, COUNT_INTERVAL, T_INTERVAL)
    if is_count.any():
        part = out[is_count]
        low, high = count_interval(part["mean"], part["sd"], part["n"], confidence)
        out.loc[is_count, "ci_low"], out.loc[is_count, "ci_high"] = low, high
        out.loc[is_count, "half_width"] = (high - low) / 2
    return out


def _welch_half_width(a: np.ndarray, b: np.ndarray, confidence: float) -> float:
    if len(a) < 2 or len(b) < 2:
        return np.nan
    with warnings.catch_warnings():  # two constant samples (e.g. no spoilage anywhere) give NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)
    return float(ci.high - ci.low) / 2


PAIRED_COLUMNS = (
    "n",
    "diff",
    "diff_sd",
    "diff_half_width",
    "diff_low",
    "diff_high",
    "significant",
    "diff_pct",
    "unpaired_half_width",
)


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
    if pairs.empty:  # no replication has both values (e.g. the queue never fell below a level): no rows
        return pd.DataFrame(columns=[*by, *PAIRED_COLUMNS])
    pairs["value"] = pairs["value_policy"] - pairs["value_base"]
    out = (
        summarize(pairs, by, confidence)
        .rename(
            columns={
                "mean": "diff",
                "sd": "diff_sd",
                "half_width": "diff_half_width",
                "ci_low": "diff_low",
                "ci_high": "diff_high",
            }
        )
        .drop(columns="interval")
    )  # a difference of counts can be negative: always the t-interval
    out["significant"] = (out["diff_low"] > 0) | (out["diff_high"] < 0)
    base_mean = pairs.groupby(list(by), sort=False, observed=True)["value_base"].mean()
    out["diff_pct"] = 100 * out["diff"] / out.set_index(list(by)).index.map(base_mean).to_numpy(dtype=float)
    out.loc[~np.isfinite(out["diff_pct"]), "diff_pct"] = np.nan
    welch = pairs.groupby(list(by), sort=False, observed=True)[["value_policy", "value_base"]].apply(
        lambda g: _welch_half_width(g["value_policy"].to_numpy(), g["value_base"].to_numpy(), confidence)
    )
    out["unpaired_half_width"] = out.set_index(list(by)).index.map(welch).to_numpy(dtype=float)
    return out
