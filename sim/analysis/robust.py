"""Robust decision numbers: which policy holds up across many plausible input sets (``bordersim robust``).

Every function here takes plain tables: ``wide`` has one row an input set and one column a policy (the
metric's mean over the set's replications, the base among the columns), and ``better`` is -1 when less
is better, +1 when more is. Because every policy ran the same input sets with common random numbers, a
row is a paired comparison: the regret of a policy in a set is its gap to the best policy *of that set*.

- :func:`robustness`: per policy, the band of its paired difference from the base, P(best) with a
  bootstrap interval over the input sets, expected and worst regret, the share meeting a target, and the
  ranking by minimax regret (ties by expected regret) beside the ranking at the central values;
- :func:`discover`: scenario discovery, the box of inputs where a policy fails (a shallow CART tree of
  scikit-learn, read as a box with its coverage and density);
- :func:`value_of_information`: per input, how much the chosen policy's expected regret would fall if
  the input were known before choosing (the input sets split into quantile bins of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ROBUST_RULE = "minimax regret (ties: lower expected regret)"
BOOTSTRAP = 2000  # resamples of the input sets for P(best)'s interval


def regret(wide: pd.DataFrame, better: int) -> pd.DataFrame:
    """Each policy's gap to the best policy of each input set (0 for the best; >= 0 always)."""
    if better > 0:
        return wide.max(axis=1).to_numpy()[:, None] - wide
    return wide - wide.min(axis=1).to_numpy()[:, None]


def wins(wide: pd.DataFrame, better: int) -> pd.DataFrame:
    """1 for the best policy of each input set (a tie shares the win equally), else 0."""
    best = regret(wide, better).to_numpy() == 0
    return pd.DataFrame(best / best.sum(axis=1, keepdims=True), index=wide.index, columns=wide.columns)


def p_best(wide: pd.DataFrame, better: int, seed: int = 0, resamples: int = BOOTSTRAP) -> pd.DataFrame:
    """Per policy, the share of input sets in which it is the best, with a 95% percentile bootstrap
    interval over the input sets (resampled whole, so the policies' shares stay paired)."""
    w = wins(wide, better).to_numpy()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(w), size=(resamples, len(w)))
    shares = w[picks].mean(axis=1)  # resamples x policies
    low, high = np.percentile(shares, [2.5, 97.5], axis=0)
    shares_now = {"p_best": w.mean(axis=0), "p_best_low": low, "p_best_high": high}
    return pd.DataFrame(shares_now, index=wide.columns)


def meets(wide: pd.DataFrame, op: str, bound: float) -> pd.Series:
    """Per policy, the share of input sets in which it meets ``METRIC op bound`` (satisficing)."""
    ok = wide <= bound if op == "<=" else wide >= bound
    return ok.mean(axis=0)


def rank_robust(table: pd.DataFrame) -> list[str]:
    """The policies by minimax regret, ties by expected regret (``table`` indexed by policy)."""
    order = table.sort_values(["worst_regret", "expected_regret"], kind="stable")
    return list(order.index)


def rank_central(central: pd.Series, better: int) -> list[str]:
    """The policies by their value at the central input values (the file's own values)."""
    return list(central.sort_values(ascending=better < 0, kind="stable").index)


def robustness(
    wide: pd.DataFrame,
    base: str,
    better: int,
    central: pd.Series | None = None,
    target: tuple[str, float] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One row a policy (the base included): mean, the 5-50-95% band of the paired difference from the
    base, P(best) and its interval, expected and worst regret, the share meeting ``target`` (op, bound),
    the value and rank at the central values, and the robust rank."""
    diff = wide.sub(wide[base], axis=0)
    r = regret(wide, better)
    out = pd.DataFrame(
        {
            "mean": wide.mean(axis=0),
            "diff_p5": diff.quantile(0.05),
            "diff_p50": diff.quantile(0.50),
            "diff_p95": diff.quantile(0.95),
            "diff_mean": diff.mean(axis=0),
        }
    )
    out = out.join(p_best(wide, better, seed))
    out["expected_regret"] = r.mean(axis=0)
    out["worst_regret"] = r.max(axis=0)
    if target is not None:
        out["meets_target"] = meets(wide, *target)
    robust = rank_robust(out)
    out["robust_rank"] = [robust.index(p) + 1 for p in out.index]
    if central is not None:
        central = central.reindex(wide.columns)
        out["central"] = central
        order = rank_central(central, better)
        out["central_rank"] = [order.index(p) + 1 for p in out.index]
    out.index.name = "policy"
    return out.sort_values("robust_rank").reset_index()


@dataclass(frozen=True)
class Limit:
    """One side of a box: ``input`` below (``<``) or at least (``>=``) ``value``."""

    input: str
    op: str
    value: float


@dataclass
class Box:
    """A region of the inputs where a policy fails: its limits, and how well it holds the failures."""

    limits: list[Limit] = field(default_factory=list)
    coverage: float = math.nan  # share of all failing input sets that fall in the box
    density: float = math.nan  # share of the box's input sets that fail
    sets: int = 0  # input sets in the box
    failures: int = 0  # failing input sets in all


def discover(inputs: pd.DataFrame, failed: np.ndarray, depth: int = 2, least: int | None = None) -> Box:
    """The box of inputs where ``failed`` is mostly true: a shallow classification tree (CART, scikit-
    learn) is grown on the input sets, and its leaf with the most failures among those where failures
    are the majority (else the densest) becomes the box (its path's limits, merged per input and side).
    ``least`` is the fewest input sets a leaf may hold (default: a tenth of them, at least 3)."""
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(failed, dtype=bool)
    box = Box(failures=int(y.sum()))
    if y.all() or not y.any():
        box.sets = len(y) if y.all() else 0
        box.coverage, box.density = (1.0, 1.0) if y.all() else (math.nan, math.nan)
        return box
    x = inputs.to_numpy(dtype=float)
    leaf_size = least or max(3, len(y) // 10)
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf_size, random_state=0).fit(x, y)
    leaves = tree.apply(x)
    best_leaf, best_key = -1, (-1.0, -1.0, -1.0)
    for leaf in np.unique(leaves):
        inside = leaves == leaf
        fails, density = float(y[inside].sum()), float(y[inside].mean())
        key = (float(density > 0.5), fails if density > 0.5 else density, density)
        if key > best_key:
            best_leaf, best_key = int(leaf), key
    t = tree.tree_
    node, path = 0, []  # walk down to the chosen leaf, keeping each split on the way
    parents = {}
    for n in range(t.node_count):
        for child, side in ((t.children_left[n], "<"), (t.children_right[n], ">=")):
            if child >= 0:
                parents[child] = (n, side)
    node = best_leaf
    while node in parents:
        parent, side = parents[node]
        path.append(Limit(str(inputs.columns[t.feature[parent]]), side, float(t.threshold[parent])))
        node = parent
    merged: dict[tuple[str, str], Limit] = {}
    for limit in reversed(path):  # the tightest limit per input and side
        key = (limit.input, limit.op)
        old = merged.get(key)
        tighter = old is None or (limit.value < old.value if limit.op == "<" else limit.value > old.value)
        if tighter:
            merged[key] = limit
    inside = leaves == best_leaf
    box.limits = list(merged.values())
    box.sets = int(inside.sum())
    box.coverage = float(y[inside].sum() / y.sum())
    box.density = float(y[inside].mean())
    return box


def value_of_information(
    inputs: pd.DataFrame, regrets: pd.DataFrame, chosen: str, bins: int = 4
) -> pd.DataFrame:
    """Per input: the expected regret of choosing without it (the policy of least expected regret over
    all input sets), and what it would be if the input were known before choosing (the input sets split
    into ``bins`` quantile bins of the input; in each bin the policy of least expected regret there is
    chosen). Their difference is the value of knowing the input (in the metric's unit; >= 0; with few
    sets per bin part of it is chance, so compare inputs with each other). ``switch`` names the policies
    chosen instead of ``chosen`` in some bin (empty: knowing the input would not change the choice)."""
    now = float(regrets.mean(axis=0).min())
    rows = []
    for name in inputs.columns:
        x = inputs[name].to_numpy(dtype=float)
        k = min(bins, len(np.unique(x)))
        known, switch = now, []
        if k >= 2:
            groups = pd.qcut(x, k, labels=False, duplicates="drop")
            per_bin = regrets.groupby(groups).mean()
            known = float((regrets.groupby(groups).size() * per_bin.min(axis=1)).sum() / len(regrets))
            switch = sorted({str(p) for p in per_bin.idxmin(axis=1) if p != chosen})
        rows.append(
            {
                "input": name,
                "expected_regret": now,
                "with_input_known": known,
                "value": now - known,
                "switch": ", ".join(switch),
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)
