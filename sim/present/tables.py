"""The result tables of every command (run, comparison, sweep, history, observations, listing,
backlog), each in the four formats: table, csv, json and markdown.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from rich.console import Console

from sim.analysis.stats import COUNT_INTERVAL, count_interval
from sim.groups import ALL
from sim.present.cells import (
    COUNTS_NOTE,
    ci_text,
    count_note,
    diff_cell,
    flag,
    group_label,
    interval_note,
    metric_label,
    modelled,
    one_line,
    range_text,
    value_cell,
)
from sim.present.layout import Block, Layout, emit

# ---- run summary ------------------------------------------------------------------------------------
RUN_COLUMNS = [  # metric, its header; a line break is where the wide table's header wraps
    ("arrived", "arrived"),
    ("cleared", "cleared"),
    ("still_inside", "inside\nat end"),
    ("cleared_per_day", "cleared\na day"),
    ("cleared_value_usd", "cleared value\n(USD m)"),
    ("mean_clearance_h", "mean\nclearance (h)"),
    ("p95_clearance_h", "p95\nclearance (h)"),
    ("peak_backlog", "peak outside\nqueue"),
    ("spoiled_trucks", "spoiled\ncargoes"),
    ("waiting_cost_usd", "waiting cost\n(USD m)"),
    ("trucks_held_upstream", "held upstream\nat end"),
]
# columns of levers few scenarios have: shown only where the scenario models them (the others would read
# 'not modelled' in every row)
LEVER_COLUMNS = {"trucks_held_upstream"}


def _columns(summary: pd.DataFrame) -> list[tuple[str, str]]:
    """RUN_COLUMNS without the lever columns the summary does not model anywhere."""
    shown = []
    for metric, label in RUN_COLUMNS:
        if metric in LEVER_COLUMNS:
            rows = summary[summary["metric"].astype(str) == metric]
            if not any(modelled(r) for _, r in rows.iterrows()):
                continue
        shown.append((metric, label))
    return shown


def _cells(summary: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    return {
        (str(r["gate"]), str(r["direction"]), str(r["metric"])): value_cell(r) for _, r in summary.iterrows()
    }


def _has_counts(table: pd.DataFrame) -> bool:
    """Whether a summary shows some interval as a count's 'mean (low to high)' (the caption says so)."""
    return "interval" in table and bool((table["interval"] == COUNT_INTERVAL).any())


def run_layouts(summary: pd.DataFrame, name: str, replications: int) -> list[Layout]:
    """The run summary, widest first: a row per gate and direction; a table per gate with a column per
    direction; a row per metric under each gate and direction."""
    cells = _cells(summary)
    columns = _columns(summary)
    groups = list(
        dict.fromkeys(zip(summary["gate"].astype(str), summary["direction"].astype(str), strict=True))
    )
    title = f"{name}: per gate and direction, after the warm-up"
    caption = interval_note(replications, counts=_has_counts(summary))

    wide = Block(title, ["gate", "dir.", *(label for _, label in columns)], caption=caption, text={0, 1})
    for g, d in groups:
        wide.rows.append([g, d, *(cells.get((g, d, m), "") for m, _ in columns)])

    per_gate: Layout = []
    for gate in dict.fromkeys(g for g, _ in groups):
        directions = [d for g, d in groups if g == gate]
        block = Block(
            f"{name}: {'all gates' if gate == ALL else gate}, after the warm-up",
            ["metric", *(("both" if d == ALL else d) for d in directions)],
        )
        for m, label in columns:
            row = [cells.get((gate, d, m), "") for d in directions]
            if any(row):
                block.rows.append([one_line(label), *row])
        per_gate.append(block)
    per_gate[-1].caption = caption

    long = Block(title, ["metric", "value"], caption=caption)
    for g, d in groups:
        long.heading(group_label(g, d))
        for m, label in columns:
            if (g, d, m) in cells:
                long.rows.append([one_line(label), cells[(g, d, m)]])
    return [[wide], per_gate, [long]]


def print_run_summary(
    summary: pd.DataFrame, name: str, replications: int, fmt: str = "table", console: Console | None = None
) -> None:
    """Per gate and direction: the headline metrics, each as mean ± 95% half-width."""
    emit(summary, run_layouts(summary, name, replications), fmt, console)


# ---- comparison ------------------------------------------------------------------------------------
def comparison_layouts(comp: pd.DataFrame, names: list[str], replications: int, seed: int) -> list[Layout]:
    """The province's metrics per scenario and each policy's paired difference from the base, widest
    first: a column per scenario and difference; a table per policy; a row per scenario under each metric."""
    part = comp[(comp["gate"].astype(str) == ALL) & (comp["direction"].astype(str) == ALL)]
    rows = {(str(r["scenario"]), str(r["metric"])): r for _, r in part.iterrows()}
    metrics = list(dict.fromkeys(part["metric"].astype(str)))
    base, policies = names[0], names[1:]
    title = f"{base} (base) vs {', '.join(policies)}: all gates, after the warm-up"
    caption = (
        f"mean ± 95% t-interval half-width over {replications} replications (root seed {seed}, common "
        "random numbers); Δ = policy - base, paired by replication; * = the paired interval excludes 0"
    ) + (f"; {COUNTS_NOTE}" if _has_counts(part) else "")

    def value(name: str, metric: str) -> str:
        r = rows.get((name, metric))
        return "-" if r is None else value_cell(r)

    def diff(name: str, metric: str) -> tuple[str, bool]:
        r = rows.get((name, metric))
        return ("-", False) if r is None else (diff_cell(r), bool(flag(r.get("significant"))))

    def table(which: list[str], block_title: str, block_caption: str) -> Block:
        headers = ["metric", base]
        for p in which:
            headers += [p, f"Δ {p}"]
        block = Block(block_title, headers, caption=block_caption)
        for m in metrics:
            row = [metric_label(m), value(base, m)]
            for p in which:
                d, significant = diff(p, m)
                if significant:
                    block.strong.add((len(block.rows), len(row) + 1))
                row += [value(p, m), d]
            block.rows.append(row)
        return block

    wide = [table(policies, title, caption)]
    per_policy = [table([p], f"{p} vs {base} (base): all gates", "") for p in policies]
    per_policy[-1].caption = caption
    long = Block(title, ["scenario", "value", "Δ vs base"], caption=caption)
    for m in metrics:
        long.heading(metric_label(m))
        long.rows.append([base, value(base, m), ""])
        for p in policies:
            d, significant = diff(p, m)
            if significant:
                long.strong.add((len(long.rows), 2))
            long.rows.append([p, value(p, m), d])
    return [wide, per_policy, [long]]


def print_comparison(
    comp: pd.DataFrame,
    names: list[str],
    replications: int,
    seed: int,
    fmt: str = "table",
    console: Console | None = None,
) -> None:
    """The province's metrics per scenario and each policy's paired difference from the base."""
    emit(comp, comparison_layouts(comp, names, replications, seed), fmt, console)


# ---- sweep -------------------------------------------------------------------------------------------
SWEEP_COLUMNS = [
    ("mean_clearance_h", "mean (h)"),
    ("p95_clearance_h", "p95 (h)"),
    ("cleared_per_day", "cleared/day"),
    ("peak_backlog", "peak backlog"),
]


def _short_keys(keys: list[str]) -> list[str]:
    """The shortest trailing parts of dotted keys that still tell them apart (for column headers)."""
    for n in range(2, max((k.count(".") + 1 for k in keys), default=1) + 1):  # two parts read better
        short = [".".join(k.split(".")[-n:]) for k in keys]
        if len(set(short)) == len(short):
            return short
    return keys


def sweep_layouts(summary: pd.DataFrame, keys: list[str], name: str, reps: Sequence[int]) -> list[Layout]:
    """One row per grid point (its values and the province's headline metrics), or, when narrow, a group
    of rows per point."""
    overall = summary[(summary["gate"].astype(str) == ALL) & (summary["direction"].astype(str) == ALL)]
    title = f"{name}: sweep, all gates, after the warm-up"
    caption = interval_note(list(reps), counts=_has_counts(overall)).strip("()") + " per point"
    short = _short_keys(keys)
    wide = Block(
        title,
        ["point", *short, *(label for _, label in SWEEP_COLUMNS)],
        caption=caption,
        text=set(range(1 + len(keys))),
    )
    long = Block(title, ["metric", "value"], caption=caption)
    for point, rows in overall.groupby("point", sort=True):
        by_metric = {str(r["metric"]): value_cell(r) for _, r in rows.iterrows()}
        values = [str(rows.iloc[0][k]) for k in keys]
        wide.rows.append([str(point), *values, *(by_metric.get(m, "-") for m, _ in SWEEP_COLUMNS)])
        long.heading(f"point {point}: " + ", ".join(f"{k}={v}" for k, v in zip(short, values, strict=True)))
        long.rows += [[label, by_metric.get(m, "-")] for m, label in SWEEP_COLUMNS]
    return [[wide], [long]]


def print_sweep(
    summary: pd.DataFrame,
    keys: list[str],
    name: str,
    reps: Sequence[int],
    fmt: str = "table",
    console: Console | None = None,
) -> None:
    """One row per grid point: its values and the province's headline metrics with intervals."""
    emit(summary, sweep_layouts(summary, keys, name, reps), fmt, console)


# ---- history ------------------------------------------------------------------------------------------
def _number(value: object, spec: str) -> str:
    if value is None or value != value:
        return "-"
    return format(value, spec)


def history_layouts(df: pd.DataFrame, title: str) -> list[Layout]:
    """Reported against simulated figures with the 95% interval and the ratio: a row per figure, or a
    group of rows per figure when narrow."""
    wide = Block(title, ["figure", "reported", "simulated", "ratio", "source"], text={0, 4})
    long = Block(title, ["figure", "value"])
    for _, r in df.iterrows():
        note = r.get("note")
        sim_text = f"{_number(r['simulated'], ',.4g')} ± {_number(r['ci95_half_width'], ',.2g')}"
        if isinstance(note, str) and note:  # e.g. the figure's period is outside the simulated one
            sim_text = note
        cells = [_number(r["reported"], ",.4g"), sim_text, _number(r["ratio"], ".2f")]
        wide.rows.append([str(r["figure"]), *cells, str(r["source"])])
        long.heading(f"{r['figure']} (source: {r['source']})")
        long.rows += [["reported", cells[0]], ["simulated", cells[1]], ["ratio", cells[2]]]
    return [[wide], [long]]


def print_history(df: pd.DataFrame, title: str, fmt: str = "table", console: Console | None = None) -> None:
    """Reported against simulated figures with the 95% interval and the ratio."""
    emit(df, history_layouts(df, title), fmt, console)


# ---- observations ------------------------------------------------------------------------------------
def observed_layouts(table: pd.DataFrame, error: dict[str, float | int], title: str) -> list[Layout]:
    """Observed against simulated trucks waiting, a row per observation (mean ± 95% half-width, ratio,
    inside the mean's interval and inside the prediction interval of one day, or not), then the summary
    error; a group of rows per observation when narrow."""
    wide = Block(
        title,
        ["date", "gate", "dir.", "observed", "simulated", "ratio", "in CI", "in PI"],
        text={0, 1, 2, 6, 7},
    )
    long = Block(title, ["observation", "value"])
    for _, r in table.iterrows():
        cells = [
            _number(r["observed"], ",.4g"),
            ci_text(float(r["simulated"]), float(r["ci95_half_width"]), lambda v: format(v, ",.4g")),
            _number(r["ratio"], ".2f"),
            "yes" if flag(r["inside"]) else "no",
            "yes" if flag(r.get("inside_prediction")) else "no",
        ]
        wide.rows.append([str(r["date"]), str(r["gate"]), str(r["direction"]), *cells])
        long.heading(f"{r['date']}, {group_label(str(r['gate']), str(r['direction']))}")
        long.rows += [
            [h, c] for h, c in zip(["observed", "simulated", "ratio", "in CI", "in PI"], cells, strict=True)
        ]
    summary = Block("summary error", ["measure", "value"])
    summary.rows += [
        ["observations", f"{error['observations']}"],
        ["with a log ratio (both above 0)", f"{error['compared']}"],
        ["RMS of ln(simulated / observed)", _number(error["rms_log_ratio"], ".3f")],
        ["geometric mean ratio", _number(error["geometric_mean_ratio"], ".3f")],
        ["inside the mean's 95% CI", f"{error['inside']} of {error['observations']}"],
        [
            "inside a day's 95% PI",
            f"{error.get('inside_prediction', '-')} of {error['observations']}",
        ],
    ]
    summary.caption = (
        interval_note(int(error["replications"]))
        + "; ratio = simulated / observed; CI: the 95% interval of the mean; PI: the 95% prediction "
        "interval of one day's value (where a single count falls if the model is right)"
    )
    return [[wide, summary], [long, summary]]


def print_observed(
    table: pd.DataFrame,
    error: dict[str, float | int],
    title: str,
    fmt: str = "table",
    console: Console | None = None,
) -> None:
    """Observed against simulated trucks waiting, and the summary error (csv and json: the rows only)."""
    emit(table, observed_layouts(table, error, title), fmt, console)


# ---- listing ------------------------------------------------------------------------------------------
LIST_COLUMNS = [
    ("date", "date"),
    ("kind", "kind"),
    ("state", "state"),
    ("scenario", "scenario"),
    ("replications", "reps"),
    ("folder", "folder"),
]


def list_layouts(entries: pd.DataFrame, root: str) -> list[Layout]:
    """Results folders, newest first: a row each, or a group of rows each when narrow."""
    title = f"results under {root}, newest first"
    wide = Block(title, [h for _, h in LIST_COLUMNS], text=set(range(len(LIST_COLUMNS))))
    long = Block(title, ["folder", ""], text={0, 1})
    for _, e in entries.iterrows():
        cells = ["-" if v is None or v != v else str(v) for v in (e[c] for c, _ in LIST_COLUMNS)]
        wide.rows.append(cells)
        long.heading(cells[-1])
        long.rows += [[h, v] for (_, h), v in zip(LIST_COLUMNS[:-1], cells[:-1], strict=True)]
    if not len(entries):
        wide.caption = long.caption = "(none yet: bordersim run SCENARIO writes the first)"
    return [[wide], [long]]


def print_listing(
    entries: pd.DataFrame, root: str, fmt: str = "table", console: Console | None = None
) -> None:
    """The results folders under the results root, newest first, with their state."""
    emit(entries, list_layouts(entries, root), fmt, console)


# ---- daily backlog ------------------------------------------------------------------------------------
def backlog_layouts(days: pd.DataFrame, peaks: pd.DataFrame, count: str, at: str, group: str) -> list[Layout]:
    """A run's count (``waiting``, ``outside``...) day by day, read at ``at`` (HH:MM) with the day's exact
    peak beside it, then each replication's exact peak and when it was first reached."""
    reps = int(days["n"].max()) if len(days) else 1

    def cell(mean: float, low: float, high: float) -> str:  # counts: the interval is not symmetric
        if reps < 2:
            low = high = float("nan")
        return range_text(mean, low, high, lambda v: f"{v:,.0f}")

    table = Block(f"trucks {count.replace('_', ' ')} at {at}, {group}", ["date", f"at {at}", "day's peak"])
    for _, d in days.iterrows():
        at_cell = cell(d["mean"], d.get("ci_low", float("nan")), d.get("ci_high", float("nan")))
        peak_cell = cell(d["peak_mean"], d.get("peak_low", float("nan")), d.get("peak_high", float("nan")))
        table.rows.append([str(d["date"]), at_cell, peak_cell])
    table.caption = count_note(reps)
    peak = Block("exact peak of each replication", ["replication", "peak", "first reached"], text={0, 2})
    for _, p in peaks.iterrows():
        first = "-" if p["date"] is None else str(p["date"])
        peak.rows.append([str(p["replication"]), f"{p['peak']:,.0f}", first])
    values = peaks["peak"].to_numpy(dtype=float)
    if len(values) >= 2:
        low, high = count_interval(values.mean(), values.std(ddof=1), len(values))
        mean = cell(float(values.mean()), float(low), float(high))
        peak.caption = f"mean {mean} {count_note(len(values))}"
    return [[table, peak]]


def print_backlog(
    days: pd.DataFrame,
    peaks: pd.DataFrame,
    count: str,
    at: str,
    group: str,
    fmt: str = "table",
    console: Console | None = None,
) -> None:
    """The daily backlog of a run (csv and json: the daily rows)."""
    emit(days, backlog_layouts(days, peaks, count, at, group), fmt, console)


# ---- a study's saved table ----------------------------------------------------------------------------
SAVED_ROWS = 200  # rows of a saved table printed as a table (csv and json give every row)


def _cell(value: object) -> str:
    """A saved table's cell as text: whole numbers whole, other numbers to 4 significant digits."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return format(value, ",.4g")


def saved_table_layouts(table: pd.DataFrame, title: str, caption: str = "") -> list[Layout]:
    """A study's saved table as it is (optimise, sensitivity, forecast, calibration), a row per row of
    the file: every column (wide), or a group of rows per row when narrow."""
    shown = table.head(SAVED_ROWS)
    more = f"; the first {SAVED_ROWS:,} of {len(table):,} rows" if len(table) > SAVED_ROWS else ""
    caption = caption + more
    columns = [str(c) for c in table.columns]
    text = {k for k, c in enumerate(table.columns) if not pd.api.types.is_numeric_dtype(table[c])}
    wide = Block(title, columns, caption=caption, text=text | {0})
    long = Block(title, ["column", "value"], caption=caption)
    for k, row in enumerate(shown.itertuples(index=False)):
        cells = [_cell(v) for v in row]
        wide.rows.append(cells)
        long.heading(f"row {k + 1}: {cells[0]}")
        long.rows += [[c, v] for c, v in zip(columns, cells, strict=True)]
    return [[wide], [long]]


def print_saved_table(
    table: pd.DataFrame, title: str, caption: str = "", fmt: str = "table", console: Console | None = None
) -> None:
    """A study's saved table (csv and json: every row as saved)."""
    emit(table, saved_table_layouts(table, title, caption), fmt, console)
