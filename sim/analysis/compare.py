"""Policy comparison: every metric per scenario with its interval, and each policy's paired difference
from the base, as one tidy table (its readable wide tables and Markdown: :mod:`sim.present.comparison_text`).

All scenarios must have been run with the same root seed and replications 0..R-1, so that replication k
of each shares its random numbers (common random numbers) and the differences pair up.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.analysis.metrics import flag_modelled, summarize_metrics
from sim.analysis.stats import BY, CONFIDENCE, paired_differences

DIFF_COLUMNS = [
    "n_pairs",
    "diff",
    "diff_sd",
    "diff_half_width",
    "diff_low",
    "diff_high",
    "diff_pct",
    "significant",
    "unpaired_half_width",
]


def comparison(
    per_rep: Mapping[str, pd.DataFrame],
    base: str,
    confidence: float = CONFIDENCE,
    unmodelled: Mapping[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Tidy comparison: one row per scenario, gate, direction and metric.

    Columns: ``scenario``, ``role`` (base / policy), the keys, ``n``, ``mean``, ``sd``, ``half_width``,
    ``ci_low``, ``ci_high``; and for policies the paired difference from the base (``diff`` ...
    ``significant``, see :func:`sim.analysis.stats.paired_differences`); empty for the base. ``modelled``
    is False for a metric the scenario does not model (``unmodelled``, per scenario name; see
    :func:`sim.analysis.metrics.not_modelled`): its statistics are NaN, and so is a policy's difference
    when either side does not model it.
    """
    unmodelled = unmodelled or {}
    frames = []
    for name, df in per_rep.items():
        s = summarize_metrics(df, confidence=confidence)
        if name == base:
            s = s.assign(**{c: np.nan for c in DIFF_COLUMNS}).astype({"significant": "boolean"})
        else:
            d = paired_differences(per_rep[base], df, confidence=confidence)
            # the same difference in every replication has a zero-width interval that "excludes 0": that
            # is no evidence of an effect (two replications agreeing by chance), so it is not significant
            d.loc[d["diff_sd"].eq(0) & d["n"].ge(2), "significant"] = False
            s = s.merge(d.rename(columns={"n": "n_pairs"})[[*BY, *DIFF_COLUMNS]], on=list(BY), how="left")
        s = flag_modelled(s, unmodelled.get(name, set()))
        if name != base:  # no difference from a base that does not model the metric
            absent = s["metric"].isin(sorted(unmodelled.get(base, set())))
            s.loc[absent, [c for c in DIFF_COLUMNS if c != "significant"]] = np.nan
            s.loc[absent, "significant"] = pd.NA
        s.insert(0, "role", "base" if name == base else "policy")
        s.insert(0, "scenario", name)
        frames.append(s)
    out = pd.concat(frames, ignore_index=True)
    out["significant"] = out["significant"].astype("boolean")  # empty (not False) for the base
    return out


def is_modelled(row: pd.Series) -> bool:
    """Whether a row of a summary or comparison has a value to show (tables saved before the ``modelled``
    column existed count as modelled)."""
    value = row.get("modelled", True)
    return True if pd.isna(value) else bool(value)
