"""A comparison as a spreadsheet (.xlsx): the decision table first, then the summary per scenario and the
paired differences, for the planner who takes the numbers into Excel. Written with openpyxl (the ``app``
extra), from the saved comparison table only: the same numbers as ``comparison.csv``, with the metric's
label and unit beside each row and a sheet saying what they are.

Every number is in the unit its row (or column) names: amounts of money are in USD m, as every table and
chart prints them, not in the USD the results store keeps (a 'USD m' column of 27,400,000 once told a
planner the policy cost 27 trillion)."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.analysis.decision import DEFAULT_OBJECTIVE, MetricRef, decide
from sim.analysis.metrics import metric_info
from sim.analysis.net_cost import NET, PARTS
from sim.errors import UserError
from sim.present.cells import ref_group
from sim.present.decision_text import VERDICT_WORDS

SUMMARY_COLUMNS = ["scenario", "role", "gate", "direction", "metric", "label", "unit", "n", "mean",
                   "half_width", "ci_low", "ci_high", "interval"]  # fmt: skip
DIFF_COLUMNS = ["scenario", "gate", "direction", "metric", "label", "unit", "n_pairs", "diff",
                "diff_half_width", "diff_low", "diff_high", "diff_pct", "significant"]  # fmt: skip


# the columns that hold an amount of the row's metric (stored units), shown in its printed unit
AMOUNTS = ("mean", "half_width", "ci_low", "ci_high", "diff", "diff_half_width", "diff_low", "diff_high")


def _labelled(comp: pd.DataFrame) -> pd.DataFrame:
    """The table with each row's label and unit, its amounts divided into that unit (USD into USD m)."""
    info = comp["metric"].map(metric_info)
    scale = info.map(lambda m: m.scale).astype(float)
    amounts = {c: comp[c].astype(float) / scale for c in AMOUNTS if c in comp.columns}
    return comp.assign(label=info.map(lambda m: m.label), unit=info.map(lambda m: m.unit), **amounts)


def _in_unit(metric: str, value: float) -> float | None:
    """A stored amount of ``metric`` in its printed unit; None (an empty cell) where there is none."""
    return value / metric_info(metric).scale if math.isfinite(value) else None


def decision_sheet(comp: pd.DataFrame, objective: MetricRef | None = None) -> pd.DataFrame | None:
    """The decision table: one row per scenario, best first on the objective (the net cost to the province
    by default, clearance time where the scenarios price nothing), each policy's effect against the base
    with its paired 95% interval and verdict, then the change of each part of the net cost; None when
    the comparison has no row of the objective."""
    try:
        decision = decide(comp, objective or MetricRef(DEFAULT_OBJECTIVE))
    except UserError:
        return None
    ref = decision.objective
    info = metric_info(ref.metric)
    table = comp.astype({"gate": str, "direction": str})
    parts = list(PARTS) if ref.metric == NET else []  # the parts add up to the net cost only
    rows = []
    for r in decision.ranking:
        base = r.role == "base"
        row: dict[str, Any] = {
            "rank": r.rank,
            "scenario": r.scenario,
            "role": r.role,
            "objective": f"{info.label} ({ref_group(ref)})",
            "unit": info.unit,
            "mean": _in_unit(ref.metric, r.mean),
            "half_width": _in_unit(ref.metric, r.half_width),
            "effect": None if base else _in_unit(ref.metric, r.diff),
            "effect_low": None if base else _in_unit(ref.metric, r.diff_low),
            "effect_high": None if base else _in_unit(ref.metric, r.diff_high),
            "verdict": VERDICT_WORDS[r.effect],
        }
        for part in parts:
            hit = MetricRef(part, ref.gate, ref.direction).rows(table)
            hit = hit[hit["scenario"] == r.scenario]
            change = float(hit["diff"].iloc[0]) if len(hit) and "diff" in hit else math.nan
            row[f"effect: {metric_info(part).label.removeprefix('net cost: ')}"] = (
                None if base else _in_unit(part, change)
            )
        rows.append(row)
    return pd.DataFrame(rows)


def sheets(comp: pd.DataFrame, objective: MetricRef | None = None) -> dict[str, pd.DataFrame]:
    """The tables the workbook holds: 'decision' (the decision table, when the comparison has its
    objective), 'summary' (every scenario's mean and 95% interval) and 'paired differences' (each policy
    minus the base, paired by replication)."""
    decision = decision_sheet(comp, objective)
    table = _labelled(comp.astype({"gate": str, "direction": str}))
    summary = table[[c for c in SUMMARY_COLUMNS if c in table.columns]]
    diffs = table[table["role"] == "policy"]
    diffs = diffs[[c for c in DIFF_COLUMNS if c in diffs.columns]].copy()
    if "significant" in diffs.columns:
        diffs["significant"] = diffs["significant"].map(lambda v: None if pd.isna(v) else bool(v))
    out = {} if decision is None else {"decision": decision}
    return out | {
        "summary": summary.reset_index(drop=True),
        "paired differences": diffs.reset_index(drop=True),
    }


def workbook(comp: pd.DataFrame, about: Mapping[str, Any], objective: MetricRef | None = None) -> bytes:
    """The .xlsx file: the decision table first (on ``objective``, the net cost to the province by
    default), a 'read me' sheet (``about``: what was run) and the tables of :func:`sheets`."""
    readme = pd.DataFrame(
        [(k, str(v)) for k, v in about.items()]
        + [
            ("values", "in the unit the row's 'unit' column names (hours, trucks, USD m = millions of US "
             "dollars); the decision sheet's in the unit of its 'unit' column"),
            ("decision", "one row per scenario, best first on the objective: its mean ± half_width, and a "
             "policy's effect (policy minus base) with its paired 95% interval (effect_low, effect_high) and "
             "verdict; with the net cost to the province, the effect of each of its parts (they add up to "
             "the effect)"),
            ("mean, ci_low, ci_high", "mean over the replications and its 95% interval; 'interval' says "
             "which: 't' (Student t, half_width either side) or 'quasi-Poisson' (counts of trucks: never "
             "below 0, longer above the mean; half_width is half its length)"),
            ("diff", "policy minus base, paired by replication (common random numbers); diff_low/high: the "
             "paired 95% interval; significant: it excludes 0 and the replications differ"),
        ],
        columns=["item", "value"],
    )  # fmt: skip
    buffer = io.BytesIO()
    tables = sheets(comp, objective)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        if "decision" in tables:  # the first sheet: what the planner opens the file for
            tables.pop("decision").to_excel(writer, sheet_name="decision", index=False)
        readme.to_excel(writer, sheet_name="read me", index=False)
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        for sheet in writer.book.worksheets:
            text_only(sheet)
    return buffer.getvalue()


def text_only(sheet: Any) -> None:
    """Every text cell of an openpyxl sheet written as text: openpyxl stores a string that starts with
    '=' as a live formula (a scenario named ``=HYPERLINK(...)`` would run when the file is opened). A
    workbook of results holds values only, so no cell of it is ever a formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
