"""Backlog and yard over calendar time, per gate: where trucks pile up, and when.

Left column: trucks queueing outside the yard (the backlog on the highway); right column: trucks inside
the yard, against its capacity. One line per scenario (the mean over replications) with its 95% band.
Closures are shaded: scheduled closures and bans, which are the same in every replication, in solid
colours; random stoppages, which differ between replications, lightly, each replication's on top of the
others (the darker, the more replications had one then).

Runs longer than six weeks are shown as each day's peak (the highest hourly sample): a year of hourly
saw-teeth (the queue grows overnight and melts in opening hours) would be a solid block of ink, and a
daily mean would hide what a planner sizes a yard for, the evening when it is full.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.errors import UserError
from sim.present.plots import style
from sim.store.reader import RunData, Study

DAILY_AFTER_DAYS = 42
CLOSURE_STYLE = {
    "closure": ("#7f7f7f", 0.30, "scheduled closure"),
    "ban": ("#e6a100", 0.30, "ban on some trucks"),
    "random": ("#d62728", 0.10, "random stoppage"),
}
COLUMNS = (("outside_queue", "Backlog outside the yard"), ("yard_occupancy", "Trucks in the yard"))


def _series(run: RunData, gate: str, column: str, daily: bool) -> tuple[np.ndarray, np.ndarray]:
    """Times (calendar) and values (replications x times) of one gate's sampled column."""
    gs = run.table("gate_series", ["time", "gate", column])
    gs = gs[gs["gate"] == gate]
    if daily:
        gs = gs.assign(time=np.floor(gs["time"] * run.unit_hours / 24.0) * 24.0 / run.unit_hours)
        gs = gs.groupby(["replication", "time"], as_index=False)[column].max()
    wide = gs.pivot_table(index="replication", columns="time", values=column, aggfunc="mean")
    return run.to_calendar(wide.columns.to_numpy(dtype=float)), wide.to_numpy(dtype=float)


def _closures(study: Study, gate: str) -> list[tuple[str, str, float, float, str]]:
    """Closures of a gate in any of the scenarios: (kind, stages, start, end, scenarios if not all)."""
    rows: dict[tuple[str, str, float, float], list[str]] = {}
    for run in study.runs:
        try:
            table = run.table("closures")
        except UserError:  # results written before closures were recorded: nothing to shade
            continue
        table = table[table["gate"] == gate]
        for r in table.itertuples():
            key = (str(r.kind), str(r.applies_to), float(r.start), min(float(r.end), run.horizon))
            if run.name not in rows.setdefault(key, []):
                rows[key].append(run.name)
    every = len(study.runs)
    return [(*key, "" if len(who) == every else ", ".join(who)) for key, who in rows.items()]


def _shade(ax: Axes, study: Study, gate: str, seen: dict[str, set[str]]) -> None:
    n = max(len(r.replications) for r in study.runs)
    for kind, stages, t0, t1, who in _closures(study, gate):
        colour, alpha, _ = CLOSURE_STYLE.get(kind, CLOSURE_STYLE["closure"])
        x0, x1 = study.base.to_calendar(np.array([t0, t1]))
        ax.axvspan(
            x0,
            x1,
            color=colour,
            alpha=alpha if kind != "random" else max(0.04, 2 * alpha / n),
            lw=0,
            zorder=0,
        )
        notes = seen.setdefault(kind, set())
        if kind != "random":
            notes.add("all stages" if stages in ("all", "") else stages.replace(",", ", "))
        if who:
            notes.add(f"only {who}")


def _legend_patches(seen: dict[str, set[str]], n_reps: int) -> list[Patch]:
    patches = []
    for kind, (colour, alpha, text) in CLOSURE_STYLE.items():
        if kind not in seen:
            continue
        notes = sorted(seen[kind])
        if kind == "random" and n_reps > 1:
            notes.append(f"any of {n_reps} replications")
        label = text + (f" ({'; '.join(notes)})" if notes else "")
        patches.append(Patch(color=colour, alpha=max(alpha, 0.2), label=label))
    return patches


def backlog(study: Study, out: Path, source: str) -> list[style.Written]:
    """Per gate: the queue waiting outside the yard and the yard's occupancy over time, closures shaded."""
    gates = study.gates()
    daily = max(r.days for r in study.runs) > DAILY_AFTER_DAYS
    fig, axes = style.figure(len(gates), 2, 2.8, sharex=True)
    n_reps = max(len(r.replications) for r in study.runs)
    seen: dict[str, set[str]] = {}
    for i, gate in enumerate(gates):
        for j, (column, what) in enumerate(COLUMNS):
            ax = axes[i, j]
            _shade(ax, study, gate, seen)
            for k, run in study.iter_runs():
                if gate not in run.gates:
                    continue
                x, values = _series(run, gate, column, daily)
                mean, low, high = style.t_band(values)
                ax.plot(x, mean, label=run.name, **style.series_line(k))
                if values.shape[0] > 1:
                    ax.fill_between(x, low, high, **style.band(k))
            if study.base.warmup > 0:
                ax.axvline(
                    study.base.to_calendar(np.array([study.base.warmup]))[0], color="#555555", ls=":", lw=1
                )
            cap = study.base.yard_capacity(gate)
            if column == "yard_occupancy" and cap:
                style.level_line(ax, cap, f"yard capacity {cap}")
            ax.set_title(f"{study.gate_label(gate)}: {what.lower()}")
            ax.set_ylabel("trucks" + (" (daily peak)" if daily else ""))
            ax.set_ylim(0, max(5.0, ax.get_ylim()[1]))
            style.date_axis(ax)
            ax.tick_params(labelbottom=True)
    handles, _ = axes[0, 0].get_legend_handles_labels()
    if n_reps > 1:
        handles.append(Patch(color="#888888", alpha=0.3, label=style.band_label(n_reps)))
    handles.append(Line2D([], [], color="black", ls="--", lw=1, label="yard capacity"))
    if study.base.warmup > 0:
        handles.append(Line2D([], [], color="#555555", ls=":", lw=1, label="end of warm-up"))
    handles += _legend_patches(seen, n_reps)
    sampling = "each day's peak of the hourly samples" if daily else "hourly samples"
    title = f"Backlog outside and trucks in the yard, per gate ({sampling})"
    style.suptitle(fig, title)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)))
    caption = (
        "Left: trucks queueing outside the yard (the backlog on the road); right: trucks inside the yard, "
        f"with its capacity dashed. Lines are means over replications ({sampling}) with their 95% band; "
        "shaded spans are closures (grey: scheduled, amber: bans on some trucks, red: random stoppages, "
        "darker where more replications had one)."
    )
    return [style.save(fig, out, "backlog", title, caption, source)]
