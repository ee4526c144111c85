"""Backlog and yard over calendar time, for the province and per gate: where trucks pile up, and when.

Read from the exact backlog series (``backlog_series``: every change, no sampling; see
:mod:`sim.analysis.backlog`). Left column: trucks queueing outside the yard (the backlog on the highway);
middle: trucks inside the yard, against its capacity; right: export trucks waiting (arrived at the gate,
not yet crossed, turned back or diverted), with observed values drawn as points when given
(``validate-history --observed``: then one such column per direction observed, ``all`` being both);
last, where any scenario holds trucks at their origin (a flow's ``upstream`` hold), the trucks held there:
they wait too, though no gate sees them, and a hold that only moves the queue upstream must show it.
One line per scenario (the mean over replications) with its 95% band. Closures are shaded: scheduled
closures and bans, which are the same in every replication, in solid colours; random stoppages, which
differ between replications, lightly, each replication's on top of the others (the darker, the more
replications had one then).

Runs longer than six weeks are shown day by day: the outside queue and the yard as each day's exact
peak (a year of saw-teeth, the queue growing overnight and melting in opening hours, would be a solid
block of ink, and a daily mean would hide the evening a yard is full), the trucks waiting at noon, or at
the hour observations were read at (the value they are compared with). Shorter runs are drawn every
quarter of an hour, except trucks waiting beside observations on a run of more than a week: day by day at
the reading hour, the very values the observations are compared with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.analysis.backlog import HELD, FlowChanges, daily, value_at
from sim.errors import UserError
from sim.groups import ALL, DIRECTION_CHOICES
from sim.present.plots import style
from sim.store.reader import RunData, Study

DAILY_AFTER_DAYS = 42
OBSERVED_DAILY_AFTER_DAYS = 7  # with observations, a run longer than this draws waiting day by day
CLOSURE_STYLE = {
    "closure": ("#7f7f7f", 0.30, "scheduled closure"),
    "ban": ("#e6a100", 0.30, "ban on some trucks"),
    "random": ("#d62728", 0.10, "random stoppage"),
}
COLUMNS = (
    ("outside", ALL, "Backlog outside the yard"),
    ("in_yard", ALL, "Trucks in the yard"),
    ("waiting", "export", "Export trucks waiting"),
)
HELD_COLUMN = (HELD, ALL, "Trucks held at their origin")  # drawn when a scenario holds any (upstream)
CLIPPED = "0 and the yard capacity"  # what the bands are clipped to (see _possible)
GRID_H = 0.25  # hours between the points drawn for a short run
NOON = 12.0


def _replication_changes(run: RunData) -> list[FlowChanges]:
    """Each replication's backlog changes, read and worked out once for every panel of the figure (a year
    has about a million rows a replication; the figure asks for 15 groups)."""
    table = run.table("backlog_series")
    return [
        FlowChanges.of(reps.reset_index(drop=True)) for _, reps in table.groupby("replication", sort=True)
    ]


def _series(
    run: RunData,
    changes: list[FlowChanges],
    gate: str,
    column: str,
    direction: str,
    daily_: bool,
    at_hour: float = NOON,
) -> tuple[np.ndarray, np.ndarray]:
    """Times (calendar) and values (replications x times) of one gate's (or the province's) exact count,
    from the run's per-replication ``changes``."""
    rows = []
    for replication in changes:
        steps = replication.steps(gate, direction)
        if column not in steps:  # a scenario that holds nobody upstream: none held, all run long
            steps[column] = 0
        if daily_:
            days = daily(steps, run.start, run.unit_hours, run.horizon, column, at_hour)
            rows.append(days["at" if column == "waiting" else "peak"].to_numpy(dtype=float))
        else:
            rows.append(value_at(steps, _grid(run), column))
    if daily_:
        first = run.start.replace(hour=0, minute=0, second=0, microsecond=0)
        hours = (first - run.start).total_seconds() / 3600.0 + 24.0 * np.arange(len(rows[0]))
        hours = hours + (at_hour if column == "waiting" else 0.0)
        x = run.to_calendar(hours / run.unit_hours)
    else:
        x = run.to_calendar(_grid(run))
    return x, np.vstack(rows)


def _holds(changes: dict[int, list[FlowChanges]]) -> bool:
    """Whether any scenario held any truck at its origin (its series has a held count that moved)."""
    return any(
        HELD in c.columns and bool(np.any(c.deltas[:, c.columns.index(HELD)]))
        for reps in changes.values()
        for c in reps
    )


def _grid(run: RunData) -> np.ndarray:
    return np.arange(0.0, run.horizon + 1e-9, GRID_H / run.unit_hours)


def _closures(study: Study, gate: str) -> list[tuple[str, str, float, float, str]]:
    """Closures of a gate in any of the scenarios, clipped to the run's window (both ends: a closure
    after the horizon would otherwise become a span from the horizon to its start, and widen the time
    axis to it); those wholly outside are left out. (kind, stages, start, end, scenarios if not all)."""
    rows: dict[tuple[str, str, float, float], list[str]] = {}
    for run in study.runs:
        try:
            table = run.table("closures")
        except UserError:  # results written before closures were recorded: nothing to shade
            continue
        table = table[table["gate"] == gate]
        for r in table.itertuples():
            start, end = max(float(r.start), 0.0), min(float(r.end), run.horizon)
            if end <= start:  # wholly before the start or after the end of the run
                continue
            key = (str(r.kind), str(r.applies_to), start, end)
            if run.name not in rows.setdefault(key, []):
                rows[key].append(run.name)
    every = len(study.runs)
    return [(*key, "" if len(who) == every else ", ".join(who)) for key, who in rows.items()]


def _window(study: Study) -> tuple[np.datetime64, np.datetime64]:
    """The time axis: from the start to the end of the longest run, whatever else is drawn."""
    ends = [run.to_calendar(np.array([0.0, run.horizon])) for run in study.runs]
    return min(e[0] for e in ends), max(e[1] for e in ends)


def _possible(run: RunData, gate: str, column: str) -> float | None:
    """The most trucks a count can hold: the yard's capacity for trucks in the yard (the sum over the
    gates for the province, when every gate has one); None where nothing bounds it."""
    if column != "in_yard":
        return None
    gates = run.gates if gate == ALL else [gate]
    caps = [run.yard_capacity(g) for g in gates]
    return float(sum(caps)) if caps and all(caps) else None


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
    """The backlog figure from the exact series: trucks waiting and the queue outside the yard, per gate."""
    return backlog_with_observed(study, out, source, None)


def _observed_points(
    observed: pd.DataFrame | None, gate: str, direction: str = "export", at_hour: float = NOON
) -> tuple[np.ndarray, np.ndarray]:
    """Observed trucks waiting at a gate (or ``all``) in a direction (or ``all``), as the reading time of
    their date and the value."""
    if observed is None or observed.empty:
        return np.array([], dtype="datetime64[ms]"), np.array([])
    rows = observed[(observed["gate"] == gate) & (observed["direction"] == direction)]
    when = pd.to_datetime(rows["date"].astype(str)) + pd.Timedelta(hours=at_hour)
    return when.to_numpy(dtype="datetime64[ms]"), rows["value"].to_numpy(dtype=float)


def _columns(observed: pd.DataFrame | None) -> list[tuple[str, str, str]]:
    """The figure's columns: outside, in the yard, then trucks waiting in each direction observed
    (export alone without observations)."""
    seen = set() if observed is None else set(observed["direction"].astype(str))
    directions = [d for d in DIRECTION_CHOICES if d in seen] or ["export"]
    words = {"export": "Export trucks waiting", "import": "Import trucks waiting", ALL: "Trucks waiting"}
    return [*COLUMNS[:2], *(("waiting", d, words[d]) for d in directions)]


def backlog_with_observed(
    study: Study, out: Path, source: str, observed: pd.DataFrame | None, at_hour: float = NOON
) -> list[style.Written]:
    """The backlog figure; ``observed`` (columns date, gate, direction, value) adds points to it, in a
    trucks-waiting column per direction observed, read at ``at_hour`` local time on a run of days."""
    columns = _columns(observed)
    at = "noon" if at_hour == NOON else f"{int(at_hour):02d}:{round(at_hour % 1 * 60):02d}"
    gates = [ALL, *study.gates()]
    days = max(r.days for r in study.runs)
    is_daily = days > DAILY_AFTER_DAYS
    # with observations, trucks waiting is drawn as the value they are compared with (each day's value at
    # the reading hour) unless the run is a few days, when the saw-tooth itself is readable
    daily_waiting = is_daily or (
        observed is not None and not observed.empty and days > OBSERVED_DAILY_AFTER_DAYS
    )
    changes = {k: _replication_changes(run) for k, run in study.iter_runs()}
    held = _holds(changes)
    if held:  # trucks kept at their origin wait too: their own column, never left out of the picture
        columns.append(HELD_COLUMN)
    fig, axes = style.figure(len(gates), len(columns), 2.8, sharex=True)
    n_reps = max(len(r.replications) for r in study.runs)
    seen: dict[str, set[str]] = {}
    observed_drawn = False
    for i, gate in enumerate(gates):
        for j, (column, direction, what) in enumerate(columns):
            ax = axes[i, j]
            if gate != ALL:
                _shade(ax, study, gate, seen)
            for k, run in study.iter_runs():
                if gate != ALL and gate not in run.gates:
                    continue
                by_day = daily_waiting if column == "waiting" else is_daily
                x, values = _series(run, changes[k], gate, column, direction, by_day, at_hour)
                mean, low, high = style.t_band(values, lower=0.0, upper=_possible(run, gate, column))
                ax.plot(x, mean, label=run.name, **style.series_line(k))
                if values.shape[0] > 1:
                    ax.fill_between(x, low, high, **style.band(k))
            if study.base.warmup > 0:
                ax.axvline(
                    study.base.to_calendar(np.array([study.base.warmup]))[0], color="#555555", ls=":", lw=1
                )
            cap = study.base.yard_capacity(gate, direction) if gate != ALL else None
            if column == "in_yard" and cap:
                style.level_line(ax, cap, f"yard capacity {cap}")
            if column == "waiting":
                ox, oy = _observed_points(observed, gate, direction, at_hour)
                if len(oy):
                    ax.scatter(ox, oy, color="black", marker="D", s=16, zorder=5, label="observed")
                    observed_drawn = True
            label = "Province (all gates)" if gate == ALL else study.gate_label(gate)
            sep = ": " if len(columns) <= 3 else "\n"  # two lines where more columns share the width
            ax.set_title(f"{label}{sep}{what.lower()}")
            if column == "waiting":
                when = f" (at {at})" if daily_waiting else ""
            else:
                when = " (daily peak)" if is_daily else ""
            ax.set_ylabel("trucks" + when)
            ax.set_ylim(0, max(5.0, ax.get_ylim()[1]))
            style.date_axis(ax)
            ax.set_xlim(*_window(study))
            ax.tick_params(labelbottom=True)
    handles, _ = axes[0, 0].get_legend_handles_labels()
    if n_reps > 1:
        handles.append(Patch(color="#888888", alpha=0.3, label=style.band_label(n_reps, CLIPPED)))
    handles.append(Line2D([], [], color="black", ls="--", lw=1, label="yard capacity"))
    if observed_drawn:
        handles.append(Line2D([], [], color="black", marker="D", ls="", label="observed trucks waiting"))
    if study.base.warmup > 0:
        handles.append(Line2D([], [], color="#555555", ls=":", lw=1, label="end of warm-up"))
    handles += _legend_patches(seen, n_reps)
    if is_daily:
        sampling = f"exact series: daily peaks, waiting at {at}"
    else:
        sampling = f"exact series, waiting at {at} each day" if daily_waiting else "exact series"
    waits = [c for c in columns if c[0] == "waiting"]
    waiting = "export trucks waiting" if len(waits) == 1 and waits[0][1] == "export" else "trucks waiting"
    origin = ", held at their origin" if held else ""
    title = f"Backlog outside, trucks in the yard{origin} and {waiting} ({sampling})"
    style.suptitle(fig, title)
    style.figure_legend(fig, handles)
    caption = (
        "Left: trucks queueing outside the yard (the backlog on the road); middle: trucks inside the yard, "
        f"with its capacity dashed; right: {waiting} at the gate (arrived, not yet crossed, "
        "turned back or diverted)"
        + (
            "; last column: trucks held at their origin (ready to leave, kept there by the hold "
            "upstream, not yet released or cancelled), which wait too though no gate sees them"
            if held
            else ""
        )
        + ("; diamonds: the observed values. " if observed_drawn else ". ")
        + f"Lines are means over replications ({sampling}); the band is the mean's 95% CI clipped to "
        + f"{CLIPPED}"
        + (f" ({style.unreliable_text(n_reps)})" if style.unreliable(n_reps) else "")
        + "; "
        "shaded spans are closures (grey: scheduled, amber: bans on some trucks, red: random stoppages, "
        "darker where more replications had one)."
    )
    return [style.save(fig, out, "backlog", title, caption, source)]
