"""A comparison in words: the wide table of one group (per scenario its value and interval, per policy
its paired difference from the base) that the terminal, the page and the report show, and the whole
comparison as Markdown (``comparison.md``). The numbers: :func:`sim.analysis.compare.comparison`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.compare import is_modelled
from sim.analysis.metrics import metric_info
from sim.analysis.stats import CONFIDENCE, COUNT_INTERVAL
from sim.groups import ALL
from sim.present.cells import NOT_MODELLED


def _ci(mean: float, half: float, fmt) -> str:
    if not np.isfinite(mean):
        return "-"
    return fmt(mean) if not np.isfinite(half) else f"{fmt(mean)} ± {fmt(half)}"


def _value(row: pd.Series, fmt) -> str:
    """A scenario's mean with its interval: 'mean (low to high)' for a count of trucks, whose interval is
    not symmetric (and never below 0), 'mean ± half-width' for the others."""
    if row.get("interval") == COUNT_INTERVAL and np.isfinite(row["mean"]) and np.isfinite(row["ci_low"]):
        if row["ci_low"] == row["ci_high"]:  # every replication agrees: no zero-width range that looks sure
            return f"{fmt(row['mean'])} (every replication)"
        return f"{fmt(row['mean'])} ({fmt(row['ci_low'])} to {fmt(row['ci_high'])})"
    return _ci(row["mean"], row["half_width"], fmt)


def _significant(value: object) -> bool:
    return False if pd.isna(value) else bool(value)


def _diff_cell(row: pd.Series, fmt) -> str:
    if not np.isfinite(row["diff"]):
        return "-"
    sign = "+" if row["diff"] > 0 else ""
    if row["diff_half_width"] == 0:  # no spread: say so rather than print '± 0'
        same = "no change in any replication" if row["diff"] == 0 else "in every replication"
        text = f"{sign}{fmt(row['diff'])} {same}" if row["diff"] != 0 else same
        return text + (f" ({row['diff_pct']:+.1f}%)" if np.isfinite(row["diff_pct"]) and row["diff"] else "")
    text = f"{sign}{_ci(row['diff'], row['diff_half_width'], fmt)}"
    if np.isfinite(row["diff_pct"]):
        text += f" ({row['diff_pct']:+.1f}%)"
    return text + (" *" if _significant(row["significant"]) else "")


def wide(
    comp: pd.DataFrame, names: Sequence[str], gate: str = ALL, direction: str = ALL
) -> tuple[list[str], list[list[str]], list[list[bool]]]:
    """The comparison of one group as a wide table: a row per metric; per scenario its value and CI, and
    for each policy its difference from the base. Returns headers, rows of cells and, per cell, whether
    it is a significant difference (for emphasis)."""
    base = names[0]
    part = comp[(comp["gate"] == gate) & (comp["direction"] == direction)]
    headers = ["metric", base]
    for name in names[1:]:
        headers += [name, f"Δ {name}"]
    rows, marks = [], []
    for metric in dict.fromkeys(part["metric"]):
        info = metric_info(metric)
        cells = [f"{info.label} ({info.unit})" if info.unit else info.label]
        flags = [False]
        base_modelled = True
        for name in names:
            hit = part[(part["scenario"] == name) & (part["metric"] == metric)]
            if hit.empty:
                cells.append("-")
                flags.append(False)
                if name != base:
                    cells.append("-")
                    flags.append(False)
                continue
            row = hit.iloc[0]
            if not is_modelled(row):
                base_modelled = base_modelled and name != base
                cells.append(NOT_MODELLED)
                flags.append(False)
                if name != base:
                    cells.append(NOT_MODELLED)
                    flags.append(False)
                continue
            cells.append(_value(row, info.format))
            flags.append(False)
            if name != base:
                cells.append(_diff_cell(row, info.format) if base_modelled else f"{NOT_MODELLED} in the base")
                flags.append(_significant(row["significant"]))
        rows.append(cells)
        marks.append(flags)
    return headers, rows, marks


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table of already formatted cells (first column left-aligned)."""
    frame = pd.DataFrame([list(map(str, r)) for r in rows], columns=list(headers))
    align = ["left"] + ["right"] * (len(headers) - 1)
    return frame.to_markdown(index=False, tablefmt="github", colalign=align)


def markdown(
    comp: pd.DataFrame, names: Sequence[str], replications: int, seed: int, confidence: float = CONFIDENCE
) -> str:
    """The whole comparison as a Markdown report: the province first, then each gate and direction."""
    pct = f"{100 * confidence:g}%"
    out = [
        f"# Policy comparison: {names[0]} (base) vs {', '.join(names[1:])}",
        "",
        f"{replications} replications each, root seed {seed}: replication k of every scenario uses the "
        "same random numbers (common random numbers).",
        f"Values are means over replications ± the half-width of their {pct} Student-t interval; counts of "
        f"trucks show the mean (low to high) of their {pct} quasi-Poisson interval, never below 0. "
        "Δ is the policy minus the base, paired replication by replication, ± its paired "
        f"{pct} interval and as a percentage of the base; * marks a difference whose interval excludes 0.",
        "",
    ]
    groups = list(dict.fromkeys(zip(comp["gate"], comp["direction"], strict=True)))
    groups.sort(key=lambda g: (g != (ALL, ALL), g[0] == ALL, g))
    for gate, direction in groups:
        title = "All gates, both directions" if (gate, direction) == (ALL, ALL) else f"{gate}, {direction}"
        title = title.replace(f"{ALL}, ", "all gates, ").replace(f", {ALL}", ", both directions")
        headers, rows, _ = wide(comp, names, gate, direction)
        out += [f"## {title}", "", markdown_table(headers, rows), ""]
    return "\n".join(out)
