"""Figures of an uncertainty study (``bordersim uncertainty``), drawn from its saved tables, never by
running anything:

- ``uncertainty_band``: trucks waiting day by day at the study's reading time, per gate (rows) and
  direction (columns): the median over the input sets as a line, the 5-95% band shaded;
- ``uncertainty_drivers``: which inputs drive the band, as a grid of Spearman rank correlations of each
  input (rows, strongest on top) with each headline metric of the province (columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.metrics import metric_info
from sim.groups import ALL, DIRECTION_CHOICES
from sim.present.input_names import input_labels
from sim.present.plots import style
from sim.present.uncertainty_text import few_sets_caveat
from sim.store import bands as study
from sim.store import layout
from sim.store.outputs import StudyFolder
from sim.store.reader import study_gate_names
from sim.store.tables import read_csv

BAND_COLOUR = "#1f77b4"
MAX_INPUTS = 30


def _read(folder: Path, name: str) -> pd.DataFrame:
    return read_csv(StudyFolder(study.KIND, Path(folder)).path(name))


def band_figure(
    daily: pd.DataFrame,
    out: Path,
    source: str,
    at: str,
    samples: int,
    gate_names: Mapping[str, str] | None = None,
) -> style.Written:
    """The daily band of trucks waiting: one panel a gate (the province first) and direction, each gate
    as its scenario names it (``gate_names``), else its key title-cased."""
    daily = daily.copy()
    daily["date"] = pd.to_datetime(daily["date"].astype(str))
    gates = list(dict.fromkeys([ALL, *daily["gate"].astype(str)]))
    directions = [d for d in DIRECTION_CHOICES if d in set(daily["direction"])]
    with plt.rc_context(style.RC):
        fig, axes = style.figure(len(gates), len(directions), 2.4, sharex=True)
        for i, gate in enumerate(gates):
            for j, direction in enumerate(directions):
                ax = axes[i, j]
                rows = daily[(daily["gate"] == gate) & (daily["direction"] == direction)].sort_values("date")
                if rows.empty:
                    ax.set_axis_off()
                    continue
                x = rows["date"].to_numpy()
                ax.fill_between(
                    x,
                    rows["p5"],
                    rows["p95"],
                    color=BAND_COLOUR,
                    alpha=0.25,
                    lw=0,
                    label="5-95% of input sets",
                )
                ax.plot(x, rows["p50"], color=BAND_COLOUR, lw=1.4, label="median")
                name = (gate_names or {}).get(gate) or gate.replace("_", " ").title()
                where = "Province (all gates)" if gate == ALL else name
                ax.set_title(f"{where}: {'both directions' if direction == ALL else direction}")
                ax.set_ylabel(f"trucks waiting at {at}")
                ax.set_ylim(0, max(5.0, ax.get_ylim()[1]))
                style.date_axis(ax)
                ax.tick_params(labelbottom=True)
        handles, _ = axes[0, 0].get_legend_handles_labels()
        title = f"Trucks waiting at {at}: the band over {samples} input sets drawn from the uncertain ranges"
        style.suptitle(fig, title)
        style.figure_legend(fig, handles, max_cols=2)
    caption = (
        f"Each input set's trucks waiting (arrived, not yet crossed, turned back or diverted) at {at} "
        "local time from the exact backlog series, the mean over its replications; the line is the "
        "median over the input sets and the band holds the middle 90% of them. The band is the spread of "
        "the answer over the inputs' ranges, not a confidence interval."
    )
    return style.save(fig, out, "uncertainty_band", title, caption, source)


def drivers_figure(
    drivers: pd.DataFrame,
    out: Path,
    source: str,
    samples: int | None = None,
    gate_names: Mapping[str, str] | None = None,
) -> style.Written | None:
    """Spearman rank correlations of the inputs with the province's headline metrics, as a grid; each
    input by its readable name (``gate_names``: the scenario's names of its gates), not its dotted key."""
    table = drivers.dropna(subset=["spearman"])
    if table.empty:
        return None
    table = table.assign(column=table["metric"] + "|" + table["direction"])
    grid = table.pivot_table(index="input", columns="column", values="spearman", sort=False)
    order = grid.abs().max(axis=1).sort_values(ascending=False).index[:MAX_INPUTS]
    grid = grid.loc[order]
    labels = []
    for column in grid.columns:
        metric, direction = column.split("|")
        labels.append(f"{metric_info(metric).label}\n({'both' if direction == ALL else direction})")
    with plt.rc_context(style.RC):
        fig, axes = style.figure(1, 1, max(0.36 * len(grid), 2.5))
        ax = axes[0][0]
        image = ax.imshow(grid.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        for (r, c), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            if np.isfinite(value):
                ink = "white" if abs(value) > 0.6 else "black"  # readable on the dark ends of the scale
                ax.text(c, r, f"{value:+.2f}", ha="center", va="center", fontsize=8, color=ink)
        # rotated: fifteen metric names side by side at 8 pt ran into each other
        ax.set_xticks(range(len(labels)), labels, fontsize=8, rotation=60, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(len(grid)), input_labels([str(k) for k in grid.index], gate_names), fontsize=8)
        ax.grid(False)
        fig.colorbar(image, ax=ax, label="Spearman rank correlation over the input sets")
        title = "Which uncertain inputs drive the band: rank correlation with the province's metrics"
        caveat = few_sets_caveat(samples)  # the terminal's drivers table says the same
        if caveat:
            title += f"\n({caveat})"
        style.suptitle(fig, title)
    caption = (
        "Spearman's rank correlation of each input (rows, strongest first) with each headline metric "
        "(columns) over the input sets: near +1, the metric rises with the input; near -1, it falls; near "
        "0, the input does not move it (within the samples' noise). Blank: the metric did not vary."
    )
    return style.save(fig, out, "uncertainty_drivers", title, caption, source)


def uncertainty_figures(folder: Path, out: Path, source: str) -> list[style.Written]:
    """Both figures of an uncertainty folder, into ``out``."""
    daily = _read(folder, layout.UNCERTAINTY_SERIES)
    samples = int(daily["samples"].max()) if len(daily) else 0
    manifest_at = study.reading_time(folder)
    names = study_gate_names(Path(folder))
    written = [band_figure(daily, Path(out), source, manifest_at, samples, names)]
    drivers = drivers_figure(_read(folder, layout.UNCERTAINTY_DRIVERS), Path(out), source, samples, names)
    return written + ([drivers] if drivers is not None else [])
