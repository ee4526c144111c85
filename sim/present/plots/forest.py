"""The forest plot of a comparison: each policy's paired difference from the base, with its 95% interval,
for the metrics a planner weighs (mean and p95 clearance, cleared value, spoiled cargoes, waiting cost).

One panel per metric, one row per policy. The shaded band is the practical-relevance threshold the
comparison was summarised with (``--min-effect``, saved in its manifest): an interval inside it is a change
too small to matter, whatever its significance. A point is green when the change is better and relevant,
red when it is worse and relevant, grey otherwise (see :mod:`sim.analysis.decision`). A metric a scenario
does not model says so instead of showing a zero; a one-replication comparison says it has no interval.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.decision import KEY_METRICS, Effect, classify, good_direction, settings
from sim.analysis.metrics import metric_info
from sim.present.cells import ref_group
from sim.present.plots import style
from sim.store.reader import Study

EFFECT_COLOUR = {Effect.BETTER: "#1a9850", Effect.WORSE: "#d73027"}
NEUTRAL_COLOUR = "#555555"
BAND_COLOUR = "#fee08b"


def forest(study: Study, out: Path, source: str) -> list[style.Written]:
    """The forest plot of a comparison folder (nothing for a single run: it has no differences)."""
    comp = study.comparison
    if study.kind != "comparison" or comp is None:
        return []
    objective, thresholds = settings(study.manifest)
    comp = comp.astype({"gate": str, "direction": str})
    part = comp[(comp["gate"] == objective.gate) & (comp["direction"] == objective.direction)]
    policies = [n for n in study.names[1:] if n in set(part["scenario"])]
    metrics = list(dict.fromkeys([objective.metric, *KEY_METRICS]))
    fig, axes = style.figure(1, len(metrics), max(0.55 * len(policies), 1.2), sharey=True)
    y = np.arange(len(policies))[::-1]
    for ax, metric in zip(axes[0], metrics, strict=True):
        _panel(ax, part, metric, policies, y, thresholds.get(metric))
    axes[0][0].set_yticks(y, policies)
    axes[0][0].set_ylim(-0.7, len(policies) - 0.3)
    where = ref_group(objective)
    title = f"Policy minus base ({study.names[0]}), paired by replication, with 95% intervals: {where}"
    style.suptitle(fig, title)
    banded = [m for m in metrics if m in thresholds]
    caption = (
        "Each point is a policy's mean difference from the base over replications that share their random "
        "numbers; the bar is its paired 95% interval. Green: better by at least the relevance threshold with "
        "an interval excluding 0; red: worse, likewise; grey: neither."
    )
    if banded:
        caption += (
            " The shaded band is the change you consider too small to matter (--min-effect: "
            + ", ".join(f"{metric_info(m).label} {thresholds[m].text(m)}" for m in banded)
            + ")."
        )
    return [style.save(fig, out, "forest", title, caption, source)]


def _panel(ax, part: pd.DataFrame, metric: str, policies: list[str], y: np.ndarray, threshold) -> None:
    info = metric_info(metric)
    rows = part[part["metric"] == metric].set_index("scenario")
    base = part[(part["metric"] == metric) & (part["role"] == "base")]
    base_mean = float(base["mean"].iloc[0]) if len(base) else math.nan
    limit = threshold.absolute(metric, base_mean) if threshold is not None else 0.0
    ax.set_title(f"{info.label}" + (f" ({info.unit})" if info.unit else ""))
    ax.axvline(0, color="black", lw=0.8)
    if limit and math.isfinite(limit):
        ax.axvspan(-limit / info.scale, limit / info.scale, color=BAND_COLOUR, alpha=0.5, lw=0)
    good = good_direction(metric)
    ax.set_xlabel("Δ, " + {-1: "less is better", 1: "more is better"}.get(good, "policy - base"))
    for name, yy in zip(policies, y, strict=True):
        if name not in rows.index:
            ax.text(0.5, yy, "not in this comparison", transform=ax.get_yaxis_transform(), ha="center")
            continue
        row = rows.loc[name].to_dict() | {"scenario": name}
        effect = classify(row, good, limit)
        if effect is Effect.NOT_MODELLED:
            ax.set_xticks([])
            ax.text(
                0.5,
                yy,
                "not modelled",
                transform=ax.get_yaxis_transform(),
                ha="center",
                va="center",
                color="#777777",
                style="italic",
            )
            continue
        d = float(row["diff"]) / info.scale
        colour = EFFECT_COLOUR.get(effect, NEUTRAL_COLOUR)
        if effect in (Effect.NO_INTERVAL, Effect.CONSTANT):  # a point, never a zero-width interval
            ax.plot([d], [yy], "o", color=colour)
            note = "no interval" if effect is Effect.NO_INTERVAL else "the same in every replication"
            ax.annotate(note, (d, yy), xytext=(4, 4), textcoords="offset points", fontsize=8)
            continue
        low, high = float(row["diff_low"]) / info.scale, float(row["diff_high"]) / info.scale
        ax.errorbar([d], [yy], xerr=[[d - low], [high - d]], fmt="o", color=colour, capsize=3, lw=1.6)
    ax.grid(axis="y", visible=False)
