"""The forecast on the terminal: the daily fan, when the queue falls below the level, the outcomes and
each policy's paired differences and decision summary; and a saved run's state (``backlog --state-at``)."""

from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta

import pandas as pd
from rich.table import Table

from sim.analysis.metrics import metric_info
from sim.groups import ALL
from sim.present.console import plain, warning
from sim.present.decision_text import print_decision
from sim.present.terminal import out_console, say

LABELS = {
    "cleared": "crossed",
    "trucks_turned_back": "turned back",
    "trucks_diverted": "diverted to another gate",
    "spoiled_trucks": "cargoes spoiled",
    "spoiled_before_start": "  of which past shelf life at the start",
    "still_inside": "still waiting at the end",
    "peak_waiting": "peak trucks waiting",
}


def _ci(mean: float, low: float, high: float, decimals: int = 0) -> str:
    if not math.isfinite(mean):
        return "-"

    def text(x: float) -> str:  # a value that rounds to zero prints 0, never '-0' (+ 0.0 clears the sign)
        return f"{round(x, decimals) + 0.0:,.{decimals}f}"

    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{text(mean)} (no interval)"
    return f"{text(mean)} ({text(low)} to {text(high)})"


def print_state(table: pd.DataFrame, when: datetime, replication: int, fmt: str = "table") -> None:
    """A saved run's state at ``when``: the rows of a state file (csv, json), or counts by place."""
    if fmt == "csv":
        sys.stdout.write(table.to_csv(index=False))
        return
    if fmt == "json":
        sys.stdout.write(table.to_json(orient="records", indent=2) + "\n")
        return
    counts = table.groupby(["gate", "direction", "where"], sort=False)["count"].sum().reset_index()
    out = Table(title=plain(f"Trucks waiting at {when:%Y-%m-%d %H:%M}, replication {replication}"))
    for c in ("gate", "direction", "where", "trucks"):
        out.add_column(c, justify="right" if c == "trucks" else "left")
    for row in counts.itertuples(index=False):
        out.add_row(plain(row.gate), plain(row.direction), plain(row.where), f"{row.count:,}")
    out_console.print(out)
    say(f"{int(table['count'].sum()):,} trucks; add --format csv to write them as a state file.")


def print_forecast(result, fmt: str = "table", gates: bool = True) -> None:  # result: ForecastResult
    """The forecast (csv and json: the outcome table; the daily rows are in forecast_daily.csv)."""
    if fmt in ("csv", "json"):
        data = result.summary
        sys.stdout.write(
            data.to_csv(index=False) if fmt == "csv" else data.to_json(orient="records", indent=2) + "\n"
        )
        return
    base = result.variants[0]
    say(
        f"Forecast of {result.scenario} from {result.start:%Y-%m-%d %H:%M}, {result.days:g} days, "
        f"{result.state_trucks:,} trucks in the starting state, {result.replications} replications "
        "(mean and 95% interval over them; counts of trucks: the quasi-Poisson interval, never below 0; "
        "paired differences: the t-interval)"
    )
    stale_state_warning(result.state_age_h, result.start)
    _daily(result, base, gates)
    _until(result)
    _outcomes(result)
    for name, decision in result.decisions.items():
        say("")
        say(f"Policy {name} against {base} (paired over the same replications: common random numbers)")
        print_decision(decision)


STALE_STATE_H = 48.0  # a queue read at --start has trucks that arrived within hours of it, not days


def stale_state_warning(age_h: float | None, start: datetime) -> None:
    """Say when the state's newest truck arrived days before ``--start``: the state was probably taken on
    another day, and the trucks that arrived and left in between are missing from the forecast."""
    if age_h is not None and age_h > STALE_STATE_H:
        warning(
            f"the newest truck of the starting state arrived {age_h / 24:,.1f} days before --start "
            f"{start:%Y-%m-%d %H:%M}: a state is the queue at --start; if it was read on another day, "
            "give that day as --start"
        )


def _daily(result, base: str, gates: bool) -> None:
    daily = result.daily
    rows = daily[(daily["variant"] == base)]
    groups = [(g, result.direction) for g in rows["gate"].unique() if g != ALL] if gates else []
    groups.append((ALL, result.direction))
    out = Table(
        title=plain(
            f"Trucks waiting ({result.direction if result.direction != ALL else 'both directions'}), "
            f"{base}, at {result.start:%H:%M} each day (day 0: the state)"
        )
    )
    out.add_column("date")
    for g, _ in groups:
        out.add_column(plain("province" if g == ALL else g), justify="right")
    dates = sorted(rows["date"].unique())
    step = max(1, math.ceil(len(dates) / 30))
    for k, d in enumerate(dates):
        if k % step and k != len(dates) - 1:
            continue
        cells = []
        for g, dirn in groups:
            r = rows[(rows["gate"] == g) & (rows["direction"] == dirn) & (rows["date"] == d)]
            cells.append(_ci(*r[["mean", "ci_low", "ci_high"]].iloc[0].tolist()) if len(r) else "-")
        out.add_row(str(d), *cells)
    out_console.print(out)
    if step > 1:
        say(f"(every {step} days shown; every day is in forecast_daily.csv)")


def _until(result) -> None:
    if result.until_below is None:
        return
    rows = result.summary[result.summary["metric"] == "days_until_below"]
    what = "trucks waiting" + ("" if result.direction == ALL else f" ({result.direction})")
    for r in rows.itertuples(index=False):
        if r.n == 0:
            say(
                f"{r.variant}: the province's {what} do not fall below {int(r.level):,} "
                f"within {result.days:g} days "
                f"(in none of {r.n + r.never} replications)."
            )
            continue
        day = result.start + timedelta(days=r.mean)
        text = (
            f"{r.variant}: the province's {what} first fall below {int(r.level):,} on {day:%Y-%m-%d %H:%M} "
            f"({r.mean:.1f} days"
        )
        if math.isfinite(r.half_width):
            lo, hi = result.start + timedelta(days=r.ci_low), result.start + timedelta(days=r.ci_high)
            text += f", 95% interval of the mean {lo:%d %b %H:%M} to {hi:%d %b %H:%M}"
        early = result.start + timedelta(days=r.earliest)
        late = result.start + timedelta(days=r.latest)
        text += f"; replications from {early:%d %b} to {late:%d %b})"
        if r.never:
            text += (
                f"; {r.never} of {r.n + r.never} replications not within {result.days:g} days, so this is "
                "the mean of the others (an early estimate)"
            )
        say(text + ".")
        diff = getattr(r, "diff", math.nan)
        if isinstance(diff, float) and math.isfinite(diff):
            say(
                f"  paired difference from {result.variants[0]}: {diff:+.1f} days "
                f"({r.diff_low:+.1f} to {r.diff_high:+.1f})"
            )


def _outcomes(result) -> None:
    s = result.summary
    s = s[(s["gate"] == ALL) & (s["direction"] == result.direction) & s["metric"].isin(list(LABELS))]
    out = Table(
        title=plain(
            f"By {result.start + timedelta(days=result.days):%Y-%m-%d %H:%M}: trucks, "
            f"{'both directions' if result.direction == ALL else result.direction}, all gates"
        )
    )
    out.add_column("outcome")
    for name in result.variants:
        out.add_column(plain(name), justify="right")
        if name != result.variants[0]:
            out.add_column(plain(f"{name} - {result.variants[0]} (paired)"), justify="right")
    for metric, label in LABELS.items():
        cells = []
        for name in result.variants:
            r = s[(s["variant"] == name) & (s["metric"] == metric)]
            if r.empty:
                cells.append("-")
            elif "modelled" in r and not bool(r["modelled"].iloc[0]):
                cells.append("not modelled")
            else:
                cells.append(_ci(*r[["mean", "ci_low", "ci_high"]].iloc[0].astype(float).tolist()))
            if name != result.variants[0]:
                if r.empty or not math.isfinite(float(r["diff"].iloc[0])):
                    cells.append("-")
                else:
                    cells.append(_ci(*r[["diff", "diff_low", "diff_high"]].iloc[0].astype(float).tolist()))
        out.add_row(label if metric in LABELS else metric_info(metric).label, *cells)
    out_console.print(out)
