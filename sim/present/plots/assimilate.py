"""The morning twin's figures, drawn from an assimilate folder's tables (:mod:`sim.studies.assimilate`).

- ``assimilate_inputs``: each uncertain input's prior and posterior 90% interval and median, on the
  scale of its own range (left end the range's low, right end its high, both written beside the row):
  inputs of different units share one axis, and how far the counts narrowed each shows at a glance.
- ``assimilate_series``: per observed series (a gate, a direction, a count), the model's daily count over
  the particles, median and 50% and 90% bands (the spread of outcomes: where one day's count may fall),
  grey before the first count, blue while filtered, orange for the forecast fan after ``--until``; the
  counts given as black points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.errors import UserError
from sim.present.assimilate_text import group_name, number
from sim.present.plots import style
from sim.store.layout import ASSIMILATE_DAILY, POSTERIOR_TABLE
from sim.store.tables import read_csv

PARTS = {
    "prior": ("#888888", "before the first count"),
    "filtered": ("#1f77b4", "filtered"),
    "forecast": ("#ff7f0e", "forecast fan"),
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise UserError.single(str(folder), "", f"not an assimilate folder (no {name})")
    return read_csv(path)


def inputs_figure(folder: Path, out: Path) -> style.Written:
    """Prior beside posterior, each input on its range's scale."""
    table = _read(folder, POSTERIOR_TABLE)
    n = len(table)
    fig, axes = style.figure(1, 1, 0.55 * n + 0.6)
    ax = axes[0, 0]
    for k, r in enumerate(table.itertuples(index=False)):
        span = (r.high - r.low) or 1.0

        def at(x: float, r=r, span=span) -> float:
            return (x - r.low) / span

        y = n - 1 - k
        for dy, (p5, p50, p95, colour, label) in zip(
            (0.15, -0.15),
            (
                (r.prior_p5, r.prior_p50, r.prior_p95, "#888888", "prior"),
                (r.posterior_p5, r.posterior_p50, r.posterior_p95, "#1f77b4", "posterior"),
            ),
            strict=True,
        ):
            ax.plot(
                [at(p5), at(p95)],
                [y + dy] * 2,
                color=colour,
                lw=5,
                solid_capstyle="butt",
                label=f"{label}: 5-95%" if k == 0 else None,
            )
            ax.plot(
                [at(p50)],
                [y + dy],
                "|",
                color="black",
                ms=12,
                mew=2,
                label="median" if k == 0 and dy < 0 else None,
            )
        dated = bool(getattr(r, "dated", False))
        ax.text(-0.02, y, number(r.low, dated), ha="right", va="center", fontsize=8)
        ax.text(1.02, y, number(r.high, dated), ha="left", va="center", fontsize=8)
    ax.set_yticks(range(n), list(reversed(table["input"].astype(str).tolist())))
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xticks([0, 0.5, 1], ["low end of the range", "middle", "high end"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize="small")
    title = "What the counts taught: each uncertain input's prior and posterior (5-95% and median)"
    style.suptitle(fig, title)
    caption = (
        "Each row is one input of the scenario's uncertain: section, on the scale of its range (its low and "
        "high written at the ends). Grey: the prior (the range's distribution); blue: the posterior, the "
        "weighted particles after the last count."
    )
    return style.save(fig, out, "assimilate_inputs", title, caption, str(folder))


def series_figure(folder: Path, out: Path) -> style.Written:
    """The filtered daily series with its bands and the counts, then the forecast fan."""
    daily = _read(folder, ASSIMILATE_DAILY)
    daily["date"] = pd.to_datetime(daily["date"])
    groups = list(daily.groupby(["what", "gate", "direction"], sort=False))
    fig, axes = style.figure(len(groups), 1, 2.4, sharex=True)
    for ax, ((what, gate, direction), rows) in zip(axes[:, 0], groups, strict=True):
        rows = rows.sort_values("date")
        for part, (colour, label) in PARTS.items():
            # each part's band joins the one before, so the line is unbroken at the boundary
            mask = (rows["part"] == part).to_numpy()
            if not mask.any():
                continue
            first = int(np.flatnonzero(mask)[0])
            seg = rows.iloc[max(first - 1, 0) : int(np.flatnonzero(mask)[-1]) + 1]
            ax.fill_between(
                seg["date"],
                seg["p5"],
                seg["p95"],
                color=colour,
                alpha=0.15,
                lw=0,
                label=f"{label}: 90% of outcomes",
            )
            ax.fill_between(
                seg["date"], seg["p25"], seg["p75"], color=colour, alpha=0.3, lw=0, label=f"{label}: 50%"
            )
            ax.plot(seg["date"], seg["p50"], color=colour, lw=1.8, label=f"{label}: median")
        seen = rows[rows["observed"].notna()]
        ax.plot(seen["date"], seen["observed"], "o", color="black", ms=4, zorder=10, label="counts given")
        fan = rows[rows["part"] == "forecast"]
        if len(fan):
            ax.axvline(fan["date"].iloc[0] - pd.Timedelta(hours=12), color="black", lw=0.8, ls=":")
        ax.set_title(group_name(gate, direction, what), loc="left")
        ax.set_ylabel("trucks")
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 5))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # trucks are whole
        ax.set_xlim(
            daily["date"].min() - pd.Timedelta(hours=12), daily["date"].max() + pd.Timedelta(hours=12)
        )
    style.date_axis(axes[-1, 0])
    style.figure_legend(fig, axes[0, 0].get_legend_handles_labels()[0])  # below the panels, off the data
    title = "The filtered past and the forecast fan: the model's daily count over the particles"
    style.suptitle(fig, title)
    caption = (
        "Median line, 50% band (darker) and 90% band (lighter) of the particles' counts: the spread of "
        "outcomes, where one day's count may fall. Each filtered day is weighted by the counts known by "
        "then; the dotted line parts the days read by --until (filtered) from the forecast fan."
    )
    return style.save(fig, out, "assimilate_series", title, caption, str(folder))


def assimilate_figures(folder: str | Path, out: str | Path | None = None) -> list[style.Written]:
    """Both figures of an assimilate folder, into ``out`` (default ``folder/plots``)."""
    folder = Path(folder)
    target = Path(out) if out is not None else folder / "plots"
    return [inputs_figure(folder, target), series_figure(folder, target)]
