"""The date axis names the span it covers (issue 29, row 14): an axis from December to January once
read '2022-Feb' at its end (matplotlib's offset is the last tick's year and month). Checked on every kind
of date axis the figures draw (the one ``style.date_axis``), from the Axes matplotlib Agg has drawn."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim.present.plots import style
from sim.present.plots import uncertainty as uncertainty_plots

SIM = Path(__file__).resolve().parents[1] / "sim"


def _offset(ax) -> str:
    return ax.xaxis.get_major_formatter().get_offset()


@pytest.mark.parametrize(
    ("first", "last", "span"),
    [
        ("2021-12-01", "2022-01-31", "Dec 2021 – Jan 2022"),
        ("2021-12-10", "2022-01-20", "Dec 2021 – Jan 2022"),
        ("2021-12-01", "2021-12-28", "Dec 2021"),
        ("2021-10-20", "2021-12-10", "Oct – Dec 2021"),
        ("2021-12-31", "2022-01-01T12", "31 Dec 2021 – 1 Jan 2022"),
        ("2021-06-01", "2021-06-02T12", "1 – 2 Jun 2021"),
    ],
)
def test_the_offset_of_a_date_axis_names_the_span_of_its_data(first: str, last: str, span: str) -> None:
    fig, axes = style.figure(1, 1, 3.0)
    ax = axes[0, 0]
    x = np.arange(np.datetime64(first), np.datetime64(last) + np.timedelta64(1, "h"), np.timedelta64(1, "h"))
    ax.plot(x, np.arange(len(x)))
    style.date_axis(ax)
    fig.canvas.draw()
    try:
        assert _offset(ax) == span
    finally:
        plt.close(fig)


def test_an_axis_whose_ticks_carry_the_year_has_no_offset() -> None:
    fig, axes = style.figure(1, 1, 3.0)
    ax = axes[0, 0]
    ax.plot(np.array(["2021-11-01", "2022-03-01"], dtype="datetime64[D]"), [0, 1])
    style.date_axis(ax)
    fig.canvas.draw()
    try:
        assert _offset(ax) == ""
        assert "2022" in [t.get_text() for t in ax.get_xticklabels()]
    finally:
        plt.close(fig)


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_uncertainty_band_over_the_winter_names_december_to_january(
    tmp_path: Path, drawn_figures: list[Figure]
) -> None:
    """A real figure of the package, drawn over 1 Dec 2021 - 31 Jan 2022: each panel's date axis ends in
    the span, never in a month outside it ('2022-Feb' before)."""
    kept = drawn_figures
    dates = pd.date_range("2021-12-01", "2022-01-31", freq="D")
    rows = [
        {
            "date": d.date().isoformat(),
            "gate": g,
            "direction": "export",
            "p5": 1.0 * i,
            "p50": 2.0 * i,
            "p95": 3.0 * i,
        }
        for i, d in enumerate(dates)
        for g in ("all", "huu_nghi")
    ]
    uncertainty_plots.band_figure(pd.DataFrame(rows), tmp_path, "test", "noon", 8)
    (fig,) = kept
    offsets = [_offset(ax) for ax in fig.axes if ax.get_visible() and ax.has_data()]
    assert offsets and all(o == "Dec 2021 – Jan 2022" for o in offsets), offsets


def test_span_text_orders_its_ends() -> None:
    assert style.span_text(datetime(2022, 1, 31), datetime(2021, 12, 1)) == "Dec 2021 – Jan 2022"


def test_every_date_axis_is_drawn_by_the_one_formatter() -> None:
    """The family: no figure formats dates on its own (a ConciseDateFormatter or DateFormatter elsewhere
    would bring the wrong offset back)."""
    offenders = [
        str(path.relative_to(SIM))
        for path in SIM.rglob("*.py")
        if path.name != "style.py" and re.search(r"(Concise)?DateFormatter\(", path.read_text())
    ]
    assert offenders == []
