"""A comparison as a spreadsheet (.xlsx): the summary per scenario and the paired differences, for the
planner who takes the numbers into Excel. Written with openpyxl (the ``app`` extra), from the saved
comparison table only: the same numbers as ``comparison.csv``, with the metric's label and unit beside
each row and a sheet saying what they are."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.analysis.metrics import metric_info

SUMMARY_COLUMNS = ["scenario", "role", "gate", "direction", "metric", "label", "unit", "n", "mean",
                   "half_width", "ci_low", "ci_high", "interval"]  # fmt: skip
DIFF_COLUMNS = ["scenario", "gate", "direction", "metric", "label", "unit", "n_pairs", "diff",
                "diff_half_width", "diff_low", "diff_high", "diff_pct", "significant"]  # fmt: skip


def _labelled(comp: pd.DataFrame) -> pd.DataFrame:
    info = comp["metric"].map(metric_info)
    return comp.assign(label=info.map(lambda m: m.label), unit=info.map(lambda m: m.unit))


def sheets(comp: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables the workbook holds: 'summary' (every scenario's mean and 95% interval) and 'paired
    differences' (each policy minus the base, paired by replication)."""
    table = _labelled(comp.astype({"gate": str, "direction": str}))
    summary = table[[c for c in SUMMARY_COLUMNS if c in table.columns]]
    diffs = table[table["role"] == "policy"]
    diffs = diffs[[c for c in DIFF_COLUMNS if c in diffs.columns]].copy()
    if "significant" in diffs.columns:
        diffs["significant"] = diffs["significant"].map(lambda v: None if pd.isna(v) else bool(v))
    return {"summary": summary.reset_index(drop=True), "paired differences": diffs.reset_index(drop=True)}


def workbook(comp: pd.DataFrame, about: Mapping[str, Any]) -> bytes:
    """The .xlsx file: a 'read me' sheet (``about``: what was run) and the two tables of :func:`sheets`."""
    readme = pd.DataFrame(
        [(k, str(v)) for k, v in about.items()]
        + [
            ("values", "stored units: hours, trucks, USD (the 'unit' column says the printed unit; USD m "
             "columns are in USD here)"),
            ("mean, ci_low, ci_high", "mean over the replications and its 95% interval; 'interval' says "
             "which: 't' (Student t, half_width either side) or 'quasi-Poisson' (counts of trucks: never "
             "below 0, longer above the mean; half_width is half its length)"),
            ("diff", "policy minus base, paired by replication (common random numbers); diff_low/high: the "
             "paired 95% interval; significant: it excludes 0 and the replications differ"),
        ],
        columns=["item", "value"],
    )  # fmt: skip
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        readme.to_excel(writer, sheet_name="read me", index=False)
        for name, frame in sheets(comp).items():
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
