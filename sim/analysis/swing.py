"""How far each policy's effect moves over the ranges of its own assumptions.

A policy file may state its own uncertain assumptions (``uncertain:`` keys the base does not have: the
share of drivers who follow the platform, the room at another province's gate, the compliance with a
hold). A ranking at the file's central values hides how much the policy's advantage rests on them.
``compare --swing`` runs each policy again with each of its own assumptions at the low and at the high end
of its range, one at a time, with the same random numbers as the base; this module turns those runs into

- the swing table (:func:`swing_table`): one row per variant, gate, direction and metric, the variant's
  paired difference from the base with its 95% interval (the comparison's own columns), so that the
  swing of any objective can be read back from the saved table;
- each policy's swing on the objective (:func:`swings_of`): its least and most favourable effect over
  those variants, and which assumption at which end gives each.

One at a time, not every corner: a swing says which assumption moves the effect and by how much, as a
tornado does; the joint spread over all assumptions at once is the ``robust`` study's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from sim.analysis.compare import comparison

SWING_KEYS = ["policy", "input", "end", "value"]  # what each variant is: one assumption at one end
LOW, HIGH = "low", "high"


@dataclass(frozen=True)
class Variant:
    """One policy run with one of its own assumptions at one end of its range."""

    policy: str
    input: str
    end: str  # LOW or HIGH
    value: str  # the value set, as written in the scenario (a date as its date)
    per_rep: pd.DataFrame  # the variant's metrics per replication (as a run's metrics table)


def swing_table(
    base: str,
    base_per_rep: pd.DataFrame,
    variants: Sequence[Variant],
    unmodelled: Mapping[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Each variant's paired difference from the base on every metric (the comparison's columns, with
    :data:`SWING_KEYS` first); empty without variants."""
    unmodelled = unmodelled or {}
    if not variants:
        return pd.DataFrame(columns=SWING_KEYS)
    keys = [f"\0variant {k}" for k in range(len(variants))]  # never a scenario's name
    per_rep = {base: base_per_rep, **{key: v.per_rep for key, v in zip(keys, variants, strict=True)}}
    marks = {base: unmodelled.get(base, set())}
    marks |= {key: unmodelled.get(v.policy, set()) for key, v in zip(keys, variants, strict=True)}
    comp = comparison(per_rep, base, unmodelled=marks)  # the base summarised once for every variant
    frames = []
    for key, v in zip(keys, variants, strict=True):
        rows = comp[comp["scenario"] == key].drop(columns=["scenario", "role"])
        for k, name in enumerate(SWING_KEYS):
            rows.insert(k, name, getattr(v, name))
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Swing:
    """A policy's effect on the objective at the ends of its own assumptions: the least favourable
    (``worst``) and the most favourable (``best``) paired difference from the base, each with the
    assumption and end that give it."""

    policy: str
    worst: float
    worst_input: str
    worst_end: str
    worst_value: str
    best: float
    best_input: str
    best_end: str
    best_value: str
    variants: int


def _text(value: object) -> str:
    """A value as the scenario writes it: a whole number without '.0' (a saved table reads 5 back as 5.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def swings_of(table: pd.DataFrame | None, objective: object, good: int) -> list[Swing]:
    """Each policy's swing on ``objective`` (a :class:`sim.analysis.decision.MetricRef`) from a swing
    table; ``good``: +1 when more is better, -1 when less is (0: the lower difference is called worst)."""
    if table is None or table.empty:
        return []
    rows = objective.rows(table)  # type: ignore[attr-defined]
    rows = rows[pd.to_numeric(rows["diff"], errors="coerce").map(lambda x: math.isfinite(x))]
    out = []
    for policy, of in rows.groupby("policy", sort=False):
        diff = of["diff"].astype(float)
        favourable = diff * (good or 1)
        worst, best = of.loc[favourable.idxmin()], of.loc[favourable.idxmax()]
        out.append(
            Swing(
                str(policy),
                float(worst["diff"]),
                str(worst["input"]),
                str(worst["end"]),
                _text(worst["value"]),
                float(best["diff"]),
                str(best["input"]),
                str(best["end"]),
                _text(best["value"]),
                len(of),
            )
        )
    return out
