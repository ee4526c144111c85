"""Figures of a sweep: how a metric responds to each grid axis, and what each step along it changes.

Top row: the metric's mean over replications at every value of the axis, with its 95% interval (one line
per combination of the other axes' values). Bottom row: the paired difference between neighbouring
values of the axis, with its 95% interval: the points share their random numbers (replication k of every
point uses the same seed), so the difference is taken replication by replication, and an interval that
excludes 0 says that step changed something. Metrics of the whole province.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.metrics import metric_info
from sim.analysis.stats import t_half_width
from sim.groups import ALL
from sim.present.plots import style
from sim.store.reader import Study

METRICS = ("mean_clearance_h", "p95_clearance_h", "cleared_per_day")
MAX_LINES = 6


def _numeric(values: list) -> bool:
    return all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values
    )


def _per_rep(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    part = table[(table["gate"] == ALL) & (table["direction"] == ALL) & (table["metric"] == metric)]
    return part.pivot_table(index="replication", columns="point", values="value", aggfunc="first")


def response(study: Study, out: Path, source: str) -> list[style.Written]:
    """Response curves of a sweep: each headline metric against each grid axis, with 95% intervals."""
    sweep = study.sweep
    if sweep is None:
        return []
    table = sweep.table
    metrics = [m for m in METRICS if m in set(table["metric"])]
    point_axes = table.drop_duplicates("point").set_index("point")[sweep.axes]
    written = []
    for k, axis in enumerate(sweep.axes):
        values = sweep.values(axis)
        xs = values if _numeric(values) else list(range(len(values)))
        others = [a for a in sweep.axes if a != axis]
        combos = list(itertools.product(*(sweep.values(a) for a in others)))[:MAX_LINES]
        fig, axes = style.figure(2, len(metrics), 2.6)
        for j, metric in enumerate(metrics):
            info = metric_info(metric)
            reps = _per_rep(table, metric)
            top, bottom = axes[0][j], axes[1][j]
            for c, combo in enumerate(combos):
                order = []
                for v in values:
                    match = point_axes[(point_axes[axis] == v)]
                    for a, ov in zip(others, combo, strict=True):
                        match = match[match[a] == ov]
                    order.append(int(match.index[0]) if len(match) else None)
                label = ", ".join(f"{a.split('.')[-1]}={ov}" for a, ov in zip(others, combo, strict=True))
                mean, half = [], []
                for p in order:
                    x = reps[p].dropna().to_numpy() / info.scale if p in reps else np.array([])
                    mean.append(x.mean() if len(x) else np.nan)
                    half.append(t_half_width(x) if len(x) else np.nan)
                mean, half = np.array(mean), np.array(half)
                kw = {"color": style.colour(c), "label": label or None}
                top.plot(xs, mean, marker="o", **kw)
                top.fill_between(xs, mean - half, mean + half, alpha=0.18, color=style.colour(c), lw=0)
                mids, diffs, halves = [], [], []
                for i in range(len(order) - 1):
                    a, b = order[i], order[i + 1]
                    if a is None or b is None or a not in reps or b not in reps:
                        continue
                    d = ((reps[b] - reps[a]).dropna() / info.scale).to_numpy()
                    mids.append((xs[i] + xs[i + 1]) / 2)
                    diffs.append(d.mean() if len(d) else np.nan)
                    halves.append(t_half_width(d) if len(d) else np.nan)
                bottom.errorbar(mids, diffs, yerr=np.nan_to_num(halves), fmt="s", capsize=3, **kw)
            top.set_title(f"{info.label} ({info.unit})")
            bottom.axhline(0, color="black", lw=0.8)
            bottom.set_title("step to the next value (paired by replication)", fontsize=9)
            for ax in (top, bottom):
                ax.set_xticks(xs, [str(v) for v in values])
                ax.set_xlabel(axis)
            if combos and combos[0] and j == 0:
                top.legend()
        title = f"Sweep of {study.folder.name}: response to {axis}, all gates, 95% intervals"
        style.suptitle(fig, title)
        caption = (
            f"Top: each metric's mean over replications at each value of {axis}, with its 95% interval. "
            "Bottom: the paired difference between neighbouring values (the points share their random "
            "numbers), with its 95% interval; an interval away from 0 means the step changes the metric."
        )
        written.append(style.save(fig, out, f"sweep_{k}", title, caption, source))
    return written
