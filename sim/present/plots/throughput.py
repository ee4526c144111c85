"""Daily throughput against demand and capacity, per gate and direction.

What a gate clears in a day (trucks, and the value of their cargo) beside what arrived that day (the
demand) and, where the scenario sets one, the daily cap that limits it (e.g. the Chinese side accepting
at most 300 trucks a day). Cleared below demand day after day is a backlog building up; cleared flat at
the cap is the cap binding. Where no cap is set, capacity comes from servers and opening hours and is not
one number: the legend says so rather than drawing a line that would be a guess.

Days are calendar days from midnight; only days wholly inside the run are drawn.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from sim.present.plots import style
from sim.scenario.schema import DIRECTIONS
from sim.store.reader import RunData, Study

WEEKLY_AFTER_DAYS = 56  # longer runs are shown as weekly means of the daily values
NO_CAP = "(no daily cap): no cap in the scenario;\ncapacity is set by servers and opening hours"


def _day_index(run: RunData, t: pd.Series) -> np.ndarray:
    """Calendar day of sim times, counted from the midnight of run.start."""
    midnight = datetime.combine(run.start.date(), datetime.min.time())
    offset_h = (run.start - midnight).total_seconds() / 3600.0
    return np.floor((offset_h + t.to_numpy(dtype=float) * run.unit_hours) / 24.0).astype("int64")


def _whole_days(run: RunData) -> tuple[np.ndarray, np.ndarray]:
    """Day indices wholly inside [0, horizon] and their dates (numpy datetime64)."""
    midnight = datetime.combine(run.start.date(), datetime.min.time())
    offset_h = (run.start - midnight).total_seconds() / 3600.0
    first = int(np.ceil(offset_h / 24.0))
    last = int(np.floor((offset_h + run.horizon * run.unit_hours) / 24.0)) - 1
    days = np.arange(first, last + 1)
    dates = np.array([np.datetime64(midnight + timedelta(days=int(d)), "ms") for d in days])
    return days, dates


def _daily(run: RunData, trucks: pd.DataFrame, when: str, what: str | None) -> np.ndarray:
    """Replications x whole days: trucks (``what`` None) or the sum of a column, per day of ``when``."""
    days, _ = _whole_days(run)
    out = np.zeros((len(run.replications), len(days)))
    rows = trucks[trucks[when].notna()]
    day = _day_index(run, rows[when])
    keep = (day >= days[0]) & (day <= days[-1]) if len(days) else np.zeros(len(day), bool)
    rep_pos = {r: i for i, r in enumerate(run.replications)}
    r_idx = rows["replication"].map(rep_pos).to_numpy()[keep]
    d_idx = day[keep] - (days[0] if len(days) else 0)
    weights = None if what is None else rows[what].to_numpy(dtype=float)[keep]
    np.add.at(out, (r_idx, d_idx), 1.0 if weights is None else weights)
    return out


def _weekly(dates: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means over whole weeks (from the first whole day), dated at each week's middle: a year of daily
    values swings with every weekend closure and hides the trend a planner looks for."""
    weeks = len(dates) // 7
    if weeks == 0:
        return dates, values
    folded = values[..., : weeks * 7].reshape(*values.shape[:-1], weeks, 7).mean(axis=-1)
    return dates[3 : weeks * 7 : 7], folded


def _trucks(run: RunData) -> pd.DataFrame:
    return run.table("trucks", ["gate", "direction", "arrival", "cleared", "value_usd"])


def _cap_series(run: RunData, gate: str, direction: str, weekly: bool) -> tuple[np.ndarray, dict]:
    """The x of the flow's points and, per place a cap applies (a stage, a lane, a pool), the cap in
    force each whole day (NaN: no cap that day), after the scenario's dated changes; weekly: its mean."""
    _, dates = _whole_days(run)
    series: dict[str, np.ndarray] = {}
    for i, day in enumerate(dates):
        for cap, where in run.daily_caps(gate, direction, on=pd.Timestamp(day).to_pydatetime()):
            series.setdefault(where, np.full(len(dates), np.nan))[i] = cap
    if weekly:
        x = _weekly(dates, np.zeros(len(dates)))[0]
        return x, {where: _weekly(dates, v)[1] for where, v in series.items()}
    return dates, series


def _draw_caps(
    ax: Axes, study: Study, having: list[tuple[int, RunData]], gate: str, direction: str, weekly: bool
) -> bool:
    """The flow's daily caps: a level where a cap holds all run long, a dash-dotted step where dated
    changes move it (a winter replay's caps are mostly dated). Whether any cap was drawn."""
    caps: dict[tuple[str, tuple[float, ...]], tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for _, run in having:
        x, series = _cap_series(run, gate, direction, weekly)
        for where, values in series.items():
            key = (where, tuple(np.nan_to_num(values, nan=-1.0)))
            caps.setdefault(key, (x, values, []))[2].append(run.name)
    for (where, _), (x, values, owners) in caps.items():
        who = "" if len(owners) == len(study.runs) else f", {', '.join(owners)}"
        finite = values[np.isfinite(values)]
        if len(finite) == len(values) and len(finite) and np.all(finite == finite[0]):
            style.level_line(ax, float(finite[0]), f"daily cap {finite[0]:g} ({where}{who})", ls="-.", lw=1.1)
            continue
        ax.plot(x, values, color="black", ls="-.", lw=1.1, drawstyle="steps-mid")
        first = int(np.flatnonzero(np.isfinite(values))[0]) if len(finite) else None
        if first is not None:
            ax.annotate(
                f"daily cap ({where}{who}), set by date",
                (x[first], values[first]),
                xytext=(2, 2),
                textcoords="offset points",
                fontsize=8,
            )
    return bool(caps)


def _only_in(study: Study, having: list[RunData]) -> str:
    """' (only in X)' where a flow is in some scenarios only (a policy adds a gate or a route)."""
    if len(having) == len(study.runs):
        return ""
    return f" (only in {', '.join(run.name for run in having)})"


def _handles(axes: np.ndarray) -> list:
    """Legend handles of every panel, each label once: a flow only a policy has adds its own lines."""
    seen: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    return list(seen.values())


def _plot(study: Study, out: Path, source: str, value: bool) -> style.Written:
    flows = study.flows()
    gates = list(dict.fromkeys(g for g, _ in flows))
    directions = [d for d in DIRECTIONS if any(d == fd for _, fd in flows)]
    fig, axes = style.figure(len(gates), len(directions), 2.8, sharex=True)
    scale, unit = (1e6, "USD million a day") if value else (1.0, "trucks a day")
    weekly = max(r.days for r in study.runs) > WEEKLY_AFTER_DAYS
    if weekly:
        unit += " (weekly mean)"
    column = "value_usd" if value else None
    tables = {run.name: _trucks(run) for run in study.runs}
    n_reps = max(len(r.replications) for r in study.runs)
    uncapped = False
    for i, gate in enumerate(gates):
        for j, direction in enumerate(directions):
            ax = axes[i, j]
            if (gate, direction) not in flows:
                style.no_data(ax, f"{study.gate_label(gate)} has no {direction} flow")
                continue
            having = [(k, run) for k, run in study.iter_runs() if (gate, direction) in run.flows()]
            for k, run in having:  # a scenario without this flow draws nothing, not a line at zero
                t = tables[run.name]
                t = t[(t["gate"] == gate) & (t["direction"] == direction)]
                _, days = _whole_days(run)
                dates, arrived = (
                    _weekly(days, _daily(run, t, "arrival", column))
                    if weekly
                    else (days, _daily(run, t, "arrival", column))
                )
                _, cleared = (
                    _weekly(days, _daily(run, t, "cleared", column))
                    if weekly
                    else (days, _daily(run, t, "cleared", column))
                )
                if k == having[0][0]:  # the demand of the first scenario with the flow (the base's)
                    ax.plot(
                        dates,
                        arrived.mean(axis=0) / scale,
                        color="#666666",
                        ls="--",
                        lw=1.3,
                        zorder=20,
                        label=f"arrived (demand), {run.name}",
                    )
                mean, low, high = style.t_band(cleared / scale, lower=0.0)  # never fewer than none
                ax.plot(dates, mean, label=f"cleared, {run.name}", **style.series_line(k))
                if len(run.replications) > 1:
                    ax.fill_between(dates, low, high, **style.band(k))
            title = f"{study.gate_label(gate)}, {direction}" + _only_in(study, [run for _, run in having])
            if not value:
                drawn = _draw_caps(ax, study, having, gate, direction, weekly)
                if not drawn:
                    title += " (no daily cap)"
                    uncapped = True
            ax.set_title(title)
            ax.set_ylabel(unit)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
            style.date_axis(ax)
            ax.tick_params(labelbottom=True)
    handles = _handles(axes)
    if n_reps > 1:
        handles.append(Line2D([], [], color="#888888", lw=6, alpha=0.3, label=style.band_label(n_reps, "0")))
    if not value:
        cap_label = "daily cap set in the scenario (in force that day)"
        handles.append(Line2D([], [], color="black", lw=1.1, ls="-.", label=cap_label))
        if uncapped:
            handles.append(Line2D([], [], color="none", label=NO_CAP))
    style.figure_legend(fig, handles)
    what = "Cleared value" if value else "Trucks cleared"
    title = f"{what} a day against demand" + ("" if value else " and daily caps")
    title += " (weekly means)" if weekly else ""
    style.suptitle(fig, title)
    caption = (
        f"{what} per calendar day"
        + (", averaged over each week," if weekly else "")
        + " (lines: mean over replications with their 95% band) and what arrived "
        "that day (dashed grey, the demand; of the first scenario with the flow, the base where it has it)"
        + ("." if value else "; dash-dotted black: daily caps where the scenario sets one.")
        + " Days partly outside the run are left out; the warm-up is included."
    )
    return style.save(fig, out, "daily_value" if value else "daily_trucks", title, caption, source)


def daily(study: Study, out: Path, source: str) -> list[style.Written]:
    """Trucks and value cleared each day, against demand and the daily caps."""
    return [_plot(study, out, source, value=False), _plot(study, out, source, value=True)]
