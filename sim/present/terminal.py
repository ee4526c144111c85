"""The terminal: progress bars, result tables and messages, drawn with rich.

Studies return results and print nothing; the command line hands them to the functions here. Errors and
progress go to stderr, results to stdout, so that ``bordersim run ... > summary.txt`` keeps only results.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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

from sim.analysis.compare import wide
from sim.analysis.metrics import ALL, metric_info

if TYPE_CHECKING:  # only types: plotting and reporting must not load the runner
    from sim.runner.experiment import Experiment, Failure
    from sim.runner.progress import Bar

err_console = Console(stderr=True)
out_console = Console()
if not out_console.is_terminal:  # a file or a pipe has no width: do not squeeze tables into 80 columns
    out_console = Console(width=220)


def say(text: str, *, err: bool = False) -> None:
    """Print plain text as it is: no markup (``[dask]`` stays), no highlighting, no wrapping."""
    (err_console if err else out_console).print(text, highlight=False, soft_wrap=True, markup=False)


def _tagged(tag: str, text: str) -> None:
    err_console.print(f"{tag} {escape(text)}", highlight=False, soft_wrap=True)


def error(text: str) -> None:
    _tagged("[bold red]error:[/]", text)  # the message escaped: "pip install -e '.[dask]'" stays whole


def note(text: str) -> None:
    _tagged("[yellow]note:[/]", text)


def warning(text: str) -> None:
    _tagged("[bold yellow]warning:[/]", text)


class ProgressBars:
    """A monitor (:class:`sim.runner.progress.Monitor`) drawing one rich bar per study part on stderr.

    On a terminal the bars move within replications (workers report their simulated time), so the time
    left is estimated from the first seconds. When stderr is not a terminal (a log file, CI), one plain
    line every ``line_every_s`` seconds says how far each part is and how long is left. Use as a context
    manager around the study."""

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
            disable=not self._terminal,
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
        self._bars = list(bars)
        self._done = [float(b.done) for b in bars]
        self._running = [0.0] * len(bars)
        self._started = self._last_line = time.monotonic()
        self._tasks = [self._progress.add_task(b.title, total=b.total, completed=b.done) for b in bars]

    def advance(self, bar: int) -> None:
        self._done[bar] += 1
        self._update(bar)

    def running(self, bar: int, replications: float) -> None:
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
    """Say which replications failed (replication, seed, exception, saved traceback) and what was kept."""
    for f in failures:
        error(
            f"replication {f.replication} of {f.scenario} failed "
            f"(root seed {f.root_seed}, {f.seed}): {f.error}"
        )
        if f.details is not None:
            say(f"  worker traceback: {f.details}", err=True)
    for e in experiments:
        if e.failed:
            say(
                f"{e.finished} of {e.replications} replications of {e.scenario.name} finished "
                f"and are kept in {e.folder}",
                err=True,
            )
    say(hint, err=True)


def ci_text(mean: float, half: float, fmt) -> str:
    """'mean ± half-width' in the metric's format; the bare mean without an interval; '-' for no value."""
    if mean != mean:
        return "-"
    return fmt(mean) if half != half else f"{fmt(mean)} ± {fmt(half)}"


RUN_COLUMNS = [
    ("arrived", "arrived"),
    ("cleared", "cleared"),
    ("still_inside", "inside at end"),
    ("cleared_per_day", "cleared a day"),
    ("cleared_value_usd", "cleared value (USD million)"),
    ("mean_clearance_h", "mean clearance (h)"),
    ("p95_clearance_h", "p95 clearance (h)"),
    ("peak_backlog", "peak outside queue (per gate)"),
    ("spoiled_trucks", "spoiled cargoes"),
    ("waiting_cost_usd", "waiting cost (USD million)"),
]


def print_run_summary(summary: pd.DataFrame, name: str, replications: int) -> None:
    """Per gate and direction: the headline metrics, each as mean ± 95% half-width."""
    title = f"{name}: per gate and direction, after the warm-up"
    if replications > 1:
        title += f"\n(mean ± 95% t-interval half-width over {replications} replications)"
    table = Table(title=title)
    table.add_column("gate", no_wrap=True)
    table.add_column("dir.", no_wrap=True)
    for _, label in RUN_COLUMNS:
        table.add_column(label, justify="right")
    values = summary.set_index(["gate", "direction", "metric"])
    for gate, direction in dict.fromkeys(zip(summary["gate"], summary["direction"], strict=True)):
        cells = [str(gate), str(direction)]
        for metric, _ in RUN_COLUMNS:
            key = (gate, direction, metric)
            if key not in values.index:
                cells.append("")
                continue
            row = values.loc[key]
            cells.append(ci_text(row["mean"], row["half_width"], metric_info(metric).format))
        table.add_row(*cells)
    out_console.print(table)


def print_comparison(comp: pd.DataFrame, names: list[str], replications: int, seed: int) -> None:
    """The province's metrics per scenario and each policy's paired difference from the base."""
    headers, rows, marks = wide(comp, names)
    table = Table(
        title=f"{names[0]} (base) vs {', '.join(names[1:])}: all gates, after the warm-up",
        caption=f"mean ± 95% t-interval half-width over {replications} replications (root seed {seed}, "
        "common random numbers); Δ = policy - base, paired by replication; * = the paired interval "
        "excludes 0",
    )
    for k, h in enumerate(headers):
        table.add_column(h, justify="left" if k == 0 else "right")
    for row, flags in zip(rows, marks, strict=True):
        table.add_row(*(f"[bold]{c}[/]" if f else c for c, f in zip(row, flags, strict=True)))
    out_console.print(table)


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


def print_sweep(summary: pd.DataFrame, keys: list[str], name: str, reps: list[int]) -> None:
    """One row per grid point: its values and the province's headline metrics with intervals."""
    overall = summary[(summary["gate"] == ALL) & (summary["direction"] == ALL)]
    table = Table(
        title=f"{name}: sweep, all gates, after the warm-up",
        caption="mean ± 95% t-interval half-width over "
        + (f"{reps[0]}" if len(set(reps)) == 1 else f"{min(reps)}-{max(reps)}")
        + " replications per point",
    )
    table.add_column("point", justify="right")
    for key in _short_keys(keys):
        table.add_column(key)
    for _, label in SWEEP_COLUMNS:
        table.add_column(label, justify="right")
    for point, rows in overall.groupby("point", sort=True):
        by_metric = rows.set_index("metric")
        cells = [str(point), *(str(rows.iloc[0][k]) for k in keys)]
        for metric, _ in SWEEP_COLUMNS:
            if metric not in by_metric.index:
                cells.append("-")
                continue
            r = by_metric.loc[metric]
            cells.append(ci_text(r["mean"], r["half_width"], metric_info(metric).format))
        table.add_row(*cells)
    out_console.print(table)


def print_history(df: pd.DataFrame, title: str) -> None:
    """Reported against simulated figures with the 95% interval and the ratio."""
    table = Table(title=title)
    for col in ("figure", "reported", "simulated", "ratio", "source"):
        table.add_column(col, justify="right" if col in ("reported", "simulated", "ratio") else "left")
    for _, r in df.iterrows():
        sim_text = r.get("note") or f"{r['simulated']:,.4g} +- {r['ci95_half_width']:,.2g}"
        rep = "-" if r["reported"] is None or r["reported"] != r["reported"] else f"{r['reported']:,.4g}"
        ratio = "-" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}"
        table.add_row(r["figure"], rep, sim_text, ratio, r["source"])
    out_console.print(table)
