"""The .xlsx download of a comparison: the same numbers as the comparison table, labelled."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

openpyxl = pytest.importorskip("openpyxl", reason="the .xlsx download needs the 'app' extra (openpyxl)")


def _per_rep(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"replication": r, "gate": "all", "direction": "all", "metric": m, "value": v}
        for m, vs in values.items()
        for r, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_the_workbook_holds_the_comparison_numbers() -> None:
    from sim.analysis.compare import comparison
    from sim.present.spreadsheet import workbook

    base = _per_rep({"mean_clearance_h": [10.0, 12.0, 11.0], "spoiled_trucks": [3.0, 5.0, 4.0]})
    policy = _per_rep({"mean_clearance_h": [8.0, 11.0, 9.0], "spoiled_trucks": [2.0, 4.0, 3.0]})
    comp = comparison({"base": base, "policy": policy}, "base")
    book = openpyxl.load_workbook(io.BytesIO(workbook(comp, {"results folder": "x", "replications": 3})))
    assert book.sheetnames == ["read me", "summary", "paired differences"]

    def table(name: str) -> pd.DataFrame:
        rows = list(book[name].values)
        return pd.DataFrame(rows[1:], columns=rows[0])

    summary = table("summary")
    assert len(summary) == len(comp)
    for row in comp.itertuples():
        hit = summary[(summary.scenario == row.scenario) & (summary.metric == row.metric)].iloc[0]
        assert hit["mean"] == pytest.approx(row.mean) and hit["half_width"] == pytest.approx(row.half_width)
    diffs = table("paired differences")
    assert set(diffs.scenario) == {"policy"}
    spoiled = diffs[diffs.metric == "spoiled_trucks"].iloc[0]
    assert spoiled["diff"] == -1 and spoiled["label"] == "spoiled" and spoiled["unit"] == "trucks"
    assert spoiled["significant"] == False  # noqa: E712  (the same difference in every replication)
    mean = diffs[diffs.metric == "mean_clearance_h"].iloc[0]
    expected = comp[(comp.scenario == "policy") & (comp.metric == "mean_clearance_h")].iloc[0]
    assert np.isclose(mean["diff_low"], expected.diff_low)
    assert np.isclose(mean["diff_high"], expected.diff_high)
