"""The forecast fan: trucks waiting day by day from the starting state, per variant, with the spread.

Drawn from a forecast folder's ``forecast_daily.csv`` (:mod:`sim.studies.forecast`): the province and
each gate, for one direction, one line per variant (the base thick, policies dashed) with the 5th to 95th
percentile of the replications: the spread of outcomes a planner must expect from one future, not the
interval of the mean (with 20 replications several times narrower). The first point of every line is
the starting state itself (day 0: the same count in every replication, so the band closes on it); the
level the queue must fall below (``--until-below``) is drawn as a dashed line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.errors import UserError
from sim.groups import ALL
from sim.present.plots import style
from sim.store.layout import FORECAST_DAILY, FORECAST_TABLE
from sim.store.reader import study_gate_names
from sim.store.tables import read_csv

NAME = "forecast_fan"


def plot_forecast(folder: str | Path, direction: str = ALL, out: str | Path | None = None) -> list[Path]:
    """Draw the fan of a forecast folder into ``out`` (default ``folder/plots``); the files written."""
    folder = Path(folder)
    path = folder / FORECAST_DAILY
    if not path.is_file():
        raise UserError.single(str(folder), "", "not a forecast folder (no forecast_daily.csv)")
    daily = read_csv(path, parse_dates=["date"])
    daily = daily[daily["direction"] == direction]
    summary = read_csv(folder / FORECAST_TABLE) if (folder / FORECAST_TABLE).is_file() else pd.DataFrame()
    level = None
    if "level" in summary and summary["level"].notna().any():
        level = float(summary["level"].dropna().iloc[0])
    variants = list(dict.fromkeys(daily["variant"]))
    names = study_gate_names(folder)  # as the scenario names them ('Hữu Nghị'), from the base variant
    gates = [ALL, *[g for g in dict.fromkeys(daily["gate"]) if g != ALL]]
    # the spread of outcomes where the folder has it; a folder from before it was saved: the interval of
    # the mean, and the title says so (it is far narrower than what one future may look like)
    spread = {"p5", "p95"} <= set(daily.columns) and daily["p5"].notna().any()
    low, high = ("p5", "p95") if spread else ("ci_low", "ci_high")
    n = int(daily["n"].max()) if "n" in daily and len(daily) else 0
    band = (
        f"mean and the 5-95% of {n} replications (the spread of outcomes)"
        if spread
        else f"mean and the 95% interval of the mean over {n} replications (not the spread of outcomes)"
    )
    if style.unreliable(n):  # the same warning every figure gives a band over 2 to 4 replications
        band += f"; unreliable with so few: run {style.SUGGESTED_REPLICATIONS}"
    fig, axes = style.figure(len(gates), 1, 2.2, sharex=True)
    for ax, gate in zip(axes[:, 0], gates, strict=True):
        for k, name in enumerate(variants):
            rows = daily[(daily["variant"] == name) & (daily["gate"] == gate)].sort_values("date")
            ax.fill_between(rows["date"], rows[low].clip(lower=0), rows[high], **style.band(k))
            ax.plot(rows["date"], rows["mean"], ls=style.line_style(k), label=name, **style.series_line(k))
            if k == 0 and len(rows):
                ax.plot(
                    rows["date"].iloc[:1],
                    rows["mean"].iloc[:1],
                    "o",
                    color="black",
                    ms=4,
                    zorder=10,
                    label="the starting state",
                )
        if gate == ALL and level is not None:
            style.level_line(ax, level, f"{level:,.0f} trucks")
        title = "Province" if gate == ALL else names.get(gate, gate.replace("_", " ").title())
        ax.set_title(title, loc="left")
        ax.set_ylabel("trucks waiting")
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 10))  # a gate with none waiting: 0-10, not 0-0.05
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # trucks are whole: no 0.01 ticks
    axes[0, 0].legend(loc="upper right", fontsize="small")
    style.date_axis(axes[-1, 0])
    which = "both directions" if direction == ALL else f"{direction}s"
    title = f"Forecast from the starting state: trucks waiting ({which}), {band}"
    style.suptitle(fig, title)
    caption = (
        "Trucks waiting (arrived at a gate, not yet crossed, turned back or diverted), read each day "
        "at the start's time of day; day 0 is the state. "
        + (
            "The band holds the middle 90% of the replications each day: where one future may fall."
            if spread
            else "The band is the 95% interval of the mean: where the average over many futures lies."
        )
    )
    written = style.save(
        fig, Path(out) if out is not None else folder / "plots", NAME, title, caption, str(folder)
    )
    return list(written.files)
