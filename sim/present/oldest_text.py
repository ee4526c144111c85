"""Terminal layout of ``bordersim backlog --oldest``: the age of the oldest truck waiting, day by day."""

from __future__ import annotations

import pandas as pd
from rich.console import Console

from sim.present.cells import ci_text, interval_note
from sim.present.layout import Block, Layout, emit


def oldest_layouts(days: pd.DataFrame, at: str, group: str) -> list[Layout]:
    """Each day's mean age (days in the province) of the oldest truck waiting, with its interval over
    the replications and the oldest of any replication."""
    reps = int(days["n"].max()) if len(days) else 1
    table = Block(
        f"age of the oldest truck waiting at {at} (days since it reached the province), {group}",
        ["date", f"at {at}", "oldest of any replication"],
    )
    for _, d in days.iterrows():
        half = d["half_width"] if reps >= 2 else float("nan")
        table.rows.append(
            [str(d["date"]), ci_text(d["mean"], half, lambda v: f"{v:,.1f}"), f"{d['max_days']:,.1f}"]
        )
    table.caption = f"{interval_note(reps)}; 0 when no truck waits"
    return [[table]]


def print_oldest(
    days: pd.DataFrame, at: str, group: str, fmt: str = "table", console: Console | None = None
) -> None:
    """The oldest truck waiting of a run (csv and json: the daily rows)."""
    emit(days, oldest_layouts(days, at, group), fmt, console)
