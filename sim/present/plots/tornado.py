"""The tornado chart of a sensitivity study: the assumptions that move the metric most at the top.

One-at-a-time: for each assumption, a bar from the base to the metric's change at the low end of its
range and one to its change at the high end, each with its paired 95% interval. Morris: a bar of mu*
(the mean absolute elementary effect) with its bootstrap interval. Drawn from the study's table, never by
running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.metrics import metric_info
from sim.present.input_names import input_labels
from sim.present.plots import style

LOW_COLOUR, HIGH_COLOUR = "#4575b4", "#d73027"
MAX_ROWS = 25


def tornado(
    table: pd.DataFrame,
    metric: str,
    where: str,
    method: str,
    out: Path,
    source: str,
    gate_names: Mapping[str, str] | None = None,
) -> style.Written:
    """Tornado chart: the assumptions' swings of one metric, the largest on top, each assumption by its
    readable name and its file (``gate_names``: the scenario's names of its gates)."""
    info = metric_info(metric)
    rows = table.head(MAX_ROWS).iloc[::-1]
    y = np.arange(len(rows))
    with plt.rc_context(style.RC):
        fig, axes = style.figure(1, 1, max(0.32 * len(rows), 2.5))
        ax = axes[0][0]
        if method == "oat":
            for col, colour, label in (("low", LOW_COLOUR, "low end"), ("high", HIGH_COLOUR, "high end")):
                d = rows[f"{col}_diff"].to_numpy(dtype=float) / info.scale
                h = rows[f"{col}_half_width"].to_numpy(dtype=float) / info.scale
                ax.barh(y, d, color=colour, alpha=0.75, label=f"assumption at the {label} of its range")
                ax.errorbar(d, y, xerr=np.nan_to_num(h), fmt="none", ecolor="black", lw=0.8, capsize=2)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_xlabel(f"change of {info.label} from the base ({info.unit}), paired 95% interval")
            ax.legend(loc="lower right")
        else:
            m = rows["mu_star"].to_numpy(dtype=float) / info.scale
            c = rows["mu_star_conf"].to_numpy(dtype=float) / info.scale
            ax.barh(y, m, color=HIGH_COLOUR, alpha=0.75)
            ax.errorbar(m, y, xerr=np.nan_to_num(c), fmt="none", ecolor="black", lw=0.8, capsize=2)
            ax.set_xlabel(f"Morris mu*: mean absolute effect on {info.label} ({info.unit})")
        names = input_labels([str(a) for a in rows["assumption"]], gate_names)
        ax.set_yticks(y, [f"{a}  ({f})" for a, f in zip(names, rows["file"], strict=True)])
        ax.grid(axis="y", visible=False)
        title = f"Which assumptions move {info.label} ({where}) the most"
        style.suptitle(fig, title)
    caption = "Each '# assumption' of the scenario files varied over the range written beside it or ±25% " + (
        "one at a time, with common random numbers; bars are paired differences from the base."
        if method == "oat"
        else "all at once along Morris trajectories (SALib)."
    )
    return style.save(fig, out, "tornado", title, caption, source)
