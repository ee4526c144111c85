"""The terminal: result tables that fit the window, messages through ``logging``, and progress bars.

Studies return results and print nothing; the command line hands them to the functions here. Results go
to stdout, everything else (progress, notes, hints, errors) to stderr, so that
``bordersim run ... --format csv > summary.csv`` keeps only results.

A result is printed in one of four formats: ``table`` (rich tables), ``csv`` and ``json`` (the tidy data
behind the table, for other programs) and ``markdown`` (the wide table, for reports). A table has several
layouts, from the widest (one row per gate and direction, a column per metric) to the longest (one row
per metric); the widest that fits the window is printed, so nothing is ever cut to "…": a planner reading
at 80 columns sees every number whole. Text that comes from users (scenario names, file names, error
messages) is escaped, so that ``[dask]`` in a message prints as written instead of vanishing as markup.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.analysis.metrics import ALL, metric_info
from sim.analysis.stats import half_width

if TYPE_CHECKING:  # only types: plotting and reporting must not load the runner
    from sim.runner.experiment import Experiment, Failure
    from sim.runner.progress import Bar

FORMATS = ("table", "csv", "json", "markdown")
NOT_MODELLED = "not modelled"
NO_VALUE = "n/a"
ONE_REPLICATION = "(1 replication: no interval)"
PIPE_WIDTH = 220  # a file or a pipe without COLUMNS: wide tables, which other tools read best

log = logging.getLogger("sim")


def _stdout_console() -> Console:
    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(width=PIPE_WIDTH)
    return console


err_console = Console(stderr=True)
out_console = _stdout_console()


# ---- messages -------------------------------------------------------------------------------------
PREFIX = {logging.ERROR: "[bold red]error:[/] ", logging.WARNING: "[yellow]note:[/] "}
WARNING_PREFIX = "[bold yellow]warning:[/] "  # a note that may mean the numbers mislead


class _ConsoleHandler(logging.Handler):
    """Log records as the terminal shows them: 'error:' in red, 'note:' in yellow, the rest plain."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = PREFIX.get(record.levelno, "[dim]" if record.levelno < logging.INFO else "")
        if getattr(record, "serious", False):
            prefix = WARNING_PREFIX
        suffix = "[/]" if prefix == "[dim]" else ""
        err_console.print(f"{prefix}{escape(record.getMessage())}{suffix}", highlight=False, soft_wrap=True)


def configure_logging(verbosity: int = 0) -> None:
    """Show errors only (-1, ``--quiet``), notes and progress (0), or details too (1, ``--verbose``)."""
    level = {-1: logging.ERROR, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    log.setLevel(level)
    if not any(isinstance(h, _ConsoleHandler) for h in log.handlers):
        log.addHandler(_ConsoleHandler())
    log.propagate = False


def quiet() -> bool:
    """Whether progress is hidden (``--quiet``)."""
    return log.getEffectiveLevel() > logging.INFO


def say(text: str, *, err: bool = False) -> None:
    """A line of plain text: on stdout as a result, or (``err``) on stderr as progress, hidden by --quiet."""
    if err:
        log.info(text)
    else:
        out_console.print(escape(text), highlight=False, soft_wrap=True)


def detail(text: str) -> None:
    """A line shown only with --verbose."""
    log.debug(text)


def error(text: str) -> None:
    """An error message; always shown."""
    log.error(text)


def note(text: str) -> None:
    """Something the user should know about the inputs or results; hidden by --quiet."""
    log.warning(text)


def warning(text: str) -> None:
    """A warning that the results may mislead (e.g. an unstable queue); hidden only by --quiet."""
    log.warning(text, extra={"serious": True})


def hint(lines: Sequence[str]) -> None:
    """What to do next, after a command that wrote results."""
    for line in lines:
        log.info(line)


class ProgressBars:
    """A monitor (:class:`sim.runner.progress.Monitor`) drawing one rich bar per study part on stderr.

    Hidden by --quiet. On a terminal the bars move within replications (workers report their simulated
    time), so the time left is estimated from the first seconds. When stderr is not a terminal (a log
    file, CI), one plain line every ``line_every_s`` seconds says how far each part is and how long is
    left. Use as a context manager around the study."""

    def __init__(self, line_every_s: float = 5.0) -> None:
        self._terminal = err_console.is_terminal
        self._line_every_s = line_every_s
        self._started = time.monotonic()
        self._last_line = self._started
        self._bars: list[Bar] = []
        self._done: list[float] = []
        self._running: list[float] = []
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("replications"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=not self._terminal or quiet(),
        )
        self._tasks: list[TaskID] = []

    def __enter__(self) -> ProgressBars:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)
        if not self._terminal and self._bars and exc[0] is None:
            self._line()

    def begin(self, bars: list[Bar]) -> None:
        """Draw one bar per part of the study."""
        self._bars = list(bars)
        self._done = [float(b.done) for b in bars]
        self._running = [0.0] * len(bars)
        self._started = self._last_line = time.monotonic()
        self._tasks = [
            self._progress.add_task(escape(b.title), total=b.total, completed=b.done) for b in bars
        ]

    def advance(self, bar: int) -> None:
        """One more replication of a part finished."""
        self._done[bar] += 1
        self._update(bar)

    def running(self, bar: int, replications: float) -> None:
        """How much of a part's unfinished replications the workers have simulated, in replications."""
        self._running[bar] = replications
        self._update(bar)

    def _update(self, bar: int) -> None:
        completed = min(self._done[bar] + self._running[bar], self._bars[bar].total)
        self._progress.update(self._tasks[bar], completed=completed)
        if not self._terminal and time.monotonic() - self._last_line >= self._line_every_s:
            self._line()

    def _line(self) -> None:
        """One plain line of progress for a log: each part's replications done and the time left."""
        self._last_line = now = time.monotonic()
        elapsed = now - self._started
        parts = []
        for k, b in enumerate(self._bars):
            completed = min(self._done[k] + self._running[k], b.total)
            progressed = completed - b.done
            left = ""
            if progressed > 0 and completed < b.total:
                left = f", about {_clock((b.total - completed) * elapsed / progressed)} left"
            parts.append(f"{b.title}: {completed:.1f}/{b.total} replications{left}")
        say(f"[{_clock(elapsed)}] " + "; ".join(parts), err=True)


def _clock(seconds: float) -> str:
    """Seconds as h:mm:ss."""
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def report_failures(failures: Sequence[Failure], experiments: Sequence[Experiment], hint: str) -> None:
    """Say which replications failed (replication, seed, exception, saved traceback) and what was kept.

    Always shown, even with --quiet: it is the command's result."""
    for f in failures:
        error(
            f"replication {f.replication} of {f.scenario} failed "
            f"(root seed {f.root_seed}, {f.seed}): {f.error}"
        )
        if f.details is not None:
            err_console.print(
                f"  worker traceback: {escape(str(f.details))}", highlight=False, soft_wrap=True
            )
    for e in experiments:
        if e.failed:
            err_console.print(
                escape(
                    f"{e.finished} of {e.replications} replications of {e.scenario.name} finished "
                    f"and are kept in {e.folder}"
                ),
                highlight=False,
                soft_wrap=True,
            )
    err_console.print(escape(hint), highlight=False, soft_wrap=True)


# ---- cells ------------------------------------------------------------------------------------------
def _flag(value: object) -> bool | None:
    """A boolean read from a table (CSV gives 'True'/'False' text), None when absent."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def modelled(row: pd.Series) -> bool:
    """Whether the scenario models this metric (a summary may say so in a ``modelled`` column)."""
    return _flag(row.get("modelled")) is not False


def ci_text(mean: float, half: float, fmt: Callable[[float], str]) -> str:
    """'mean ± half-width' in the metric's format; the bare mean without an interval; 'n/a' for no value."""
    if mean != mean:
        return NO_VALUE
    return fmt(mean) if half != half else f"{fmt(mean)} ± {fmt(half)}"


def value_cell(row: pd.Series) -> str:
    """A summary row (mean, half_width) as a cell: 'not modelled', 'n/a', the mean, or mean ± half-width."""
    if not modelled(row):
        return NOT_MODELLED
    half = row["half_width"] if row.get("n", 2) >= 2 else float("nan")
    return ci_text(row["mean"], half, metric_info(str(row["metric"])).format)


def diff_cell(row: pd.Series) -> str:
    """A policy's paired difference from the base: '+d ± h (+p%) *', '*' when the interval excludes 0."""
    if not modelled(row):
        return NOT_MODELLED
    diff = row.get("diff", float("nan"))
    if diff != diff:
        return NO_VALUE
    fmt = metric_info(str(row["metric"])).format
    text = ("+" if diff > 0 else "") + ci_text(diff, row.get("diff_half_width", float("nan")), fmt)
    pct = row.get("diff_pct", float("nan"))
    if pct == pct:
        text += f" ({pct:+.1f}%)"
    return text + (" *" if _flag(row.get("significant")) else "")


def one_line(label: str) -> str:
    """A header written on two lines for the wide table, on one line elsewhere."""
    return label.replace("\n", " ")


def metric_label(metric: str) -> str:
    """A metric's name with its unit, e.g. 'mean clearance time (h)'."""
    info = metric_info(metric)
    return f"{info.label} ({info.unit})" if info.unit else info.label


def group_label(gate: str, direction: str) -> str:
    """A gate and direction in words: 'huu_nghi, export', 'huu_nghi, both directions', 'all gates'."""
    if (gate, direction) == (ALL, ALL):
        return "all gates, both directions"
    g = "all gates" if gate == ALL else gate
    return f"{g}, {'both directions' if direction == ALL else direction}"


def interval_note(replications: int | Sequence[int]) -> str:
    """What the ± means, or that one replication gives no interval."""
    reps = sorted(set([replications] if isinstance(replications, int) else replications))
    if reps[-1] < 2:
        return ONE_REPLICATION
    count = f"{reps[0]}" if len(reps) == 1 else f"{reps[0]}-{reps[-1]}"
    return f"(mean ± 95% t-interval half-width over {count} replications)"


# ---- blocks and layouts -----------------------------------------------------------------------------
@dataclass
class Block:
    """One table of text cells. Columns not in ``text`` hold numbers: right-aligned and never wrapped (a
    number too long for the window folds onto the next line rather than losing digits). Rows listed in
    ``headings`` are group titles (only their first cell is filled)."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    text: set[int] = field(default_factory=lambda: {0})
    strong: set[tuple[int, int]] = field(default_factory=set)  # (row, column) cells to emphasise
    headings: set[int] = field(default_factory=set)

    def heading(self, text: str) -> None:
        """Start a group of rows under a title."""
        self.headings.add(len(self.rows))
        self.rows.append([text] + [""] * (len(self.headers) - 1))

    def table(self) -> Table:
        """The block as a rich table (every piece of text escaped)."""
        table = Table(title=escape(self.title) or None, caption=escape(self.caption) or None)
        for k, h in enumerate(self.headers):
            numeric = k not in self.text
            table.add_column(
                escape(h),
                justify="right" if numeric else "left",
                no_wrap=numeric,
                overflow="fold",
            )
        for r, row in enumerate(self.rows):
            if r in self.headings:
                if r:
                    table.add_section()
                table.add_row(*(f"[bold]{escape(c)}[/]" for c in row))
                continue
            table.add_row(
                *(f"[bold]{escape(c)}[/]" if (r, k) in self.strong else escape(c) for k, c in enumerate(row))
            )
        return table

    def markdown(self) -> str:
        """The block as a GitHub Markdown table with its title and caption."""
        from tabulate import tabulate

        align = ["left" if k in self.text else "right" for k in range(len(self.headers))]
        body = tabulate(
            self.rows,
            headers=[one_line(h) for h in self.headers],
            tablefmt="github",
            colalign=align,
            disable_numparse=True,
        )
        parts = [f"**{self.title}**", "", body] if self.title else [body]
        return "\n".join([*parts, *(["", self.caption] if self.caption else [])])


Layout = list[Block]


def width_needed(layout: Layout, console: Console) -> int:
    """Columns the layout takes without wrapping anything."""
    unlimited = console.options.update_width(100_000)  # measure the natural width, not the window's
    return max(console.measure(b.table(), options=unlimited).maximum for b in layout)


def choose(layouts: Sequence[Layout], console: Console) -> Layout:
    """The widest layout that fits the console; the last (longest, narrowest) when none does."""
    for layout in layouts:
        if width_needed(layout, console) <= console.width:
            return layout
    return layouts[-1]


def emit(
    data: pd.DataFrame, layouts: Sequence[Layout], fmt: str = "table", console: Console | None = None
) -> None:
    """Print a result: its tidy data (csv, json), its widest layout (markdown) or the layout that fits."""
    console = console or out_console
    if fmt == "csv":
        sys.stdout.write(data.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(data.to_json(orient="records", indent=2, date_format="iso") + "\n")
    elif fmt == "markdown":
        sys.stdout.write("\n\n".join(b.markdown() for b in layouts[0]) + "\n")
    else:
        for k, block in enumerate(choose(layouts, console)):
            if k:
                console.print()
            console.print(block.table())


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
]


def _cells(summary: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    return {
        (str(r["gate"]), str(r["direction"]), str(r["metric"])): value_cell(r) for _, r in summary.iterrows()
    }


def run_layouts(summary: pd.DataFrame, name: str, replications: int) -> list[Layout]:
    """The run summary, widest first: a row per gate and direction; a table per gate with a column per
    direction; a row per metric under each gate and direction."""
    cells = _cells(summary)
    groups = list(
        dict.fromkeys(zip(summary["gate"].astype(str), summary["direction"].astype(str), strict=True))
    )
    title = f"{name}: per gate and direction, after the warm-up"
    caption = interval_note(replications)

    wide = Block(title, ["gate", "dir.", *(label for _, label in RUN_COLUMNS)], caption=caption, text={0, 1})
    for g, d in groups:
        wide.rows.append([g, d, *(cells.get((g, d, m), "") for m, _ in RUN_COLUMNS)])

    per_gate: Layout = []
    for gate in dict.fromkeys(g for g, _ in groups):
        directions = [d for g, d in groups if g == gate]
        block = Block(
            f"{name}: {'all gates' if gate == ALL else gate}, after the warm-up",
            ["metric", *(("both" if d == ALL else d) for d in directions)],
        )
        for m, label in RUN_COLUMNS:
            row = [cells.get((gate, d, m), "") for d in directions]
            if any(row):
                block.rows.append([one_line(label), *row])
        per_gate.append(block)
    per_gate[-1].caption = caption

    long = Block(title, ["metric", "value"], caption=caption)
    for g, d in groups:
        long.heading(group_label(g, d))
        for m, label in RUN_COLUMNS:
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
    )

    def value(name: str, metric: str) -> str:
        r = rows.get((name, metric))
        return "-" if r is None else value_cell(r)

    def diff(name: str, metric: str) -> tuple[str, bool]:
        r = rows.get((name, metric))
        return ("-", False) if r is None else (diff_cell(r), bool(_flag(r.get("significant"))))

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
    caption = interval_note(list(reps)).strip("()") + " per point"
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
            "yes" if _flag(r["inside"]) else "no",
            "yes" if _flag(r.get("inside_prediction")) else "no",
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

    def cell(mean: float, half: float) -> str:
        return ci_text(mean, half if reps >= 2 else float("nan"), lambda v: f"{v:,.0f}")

    table = Block(f"trucks {count.replace('_', ' ')} at {at}, {group}", ["date", f"at {at}", "day's peak"])
    for _, d in days.iterrows():
        at, day_peak = cell(d["mean"], d["half_width"]), cell(d["peak_mean"], d["peak_half_width"])
        table.rows.append([str(d["date"]), at, day_peak])
    table.caption = interval_note(reps)
    peak = Block("exact peak of each replication", ["replication", "peak", "first reached"], text={0, 2})
    for _, p in peaks.iterrows():
        first = "-" if p["date"] is None else str(p["date"])
        peak.rows.append([str(p["replication"]), f"{p['peak']:,.0f}", first])
    values = peaks["peak"].to_numpy(dtype=float)
    if len(values) >= 2:
        half = float(half_width(values.std(ddof=1), len(values)))
        peak.caption = f"mean {cell(float(values.mean()), half)} {interval_note(len(values))}"
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
