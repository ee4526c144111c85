"""The drivers of an uncertainty study read from few input sets carry the same caveat on the terminal as
in the figure's title (issue 27 row 14): a rank correlation of -1.00 from 4 input sets is as likely
chance as not, and the terminal printed it with no word of warning."""

from __future__ import annotations

import io

import pandas as pd
from rich.console import Console

from sim.present.layout import emit
from sim.present.uncertainty_text import RELIABLE_SAMPLES, chance_correlation, drivers_block, few_sets_caveat


def drivers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["mean_clearance_h", "mean_clearance_h"],
            "direction": ["all", "all"],
            "input": ["customs service", "arrival rate"],
            "spearman": [-1.0, 0.4],
        }
    )


def printed(samples: int | None) -> str:
    console = Console(width=80, record=True, file=io.StringIO())
    emit(drivers(), [[drivers_block(drivers(), samples)]], "table", console)
    return " ".join(console.export_text().split())  # a caption may wrap: compare the words


def test_few_input_sets_print_how_large_a_chance_correlation_is() -> None:
    text = printed(4)
    assert "customs service -1.00" in text
    # two standard errors (1/sqrt(n-1)) of a correlation of 0 over 4 sets: 2/sqrt(3) = 1.15, at most 1
    assert "Only 4 input sets: values within ±1.00 are noise" in text
    assert "within ±0.40 are noise" in printed(26)  # 2/sqrt(25)


def test_enough_input_sets_print_no_caveat() -> None:
    assert "noise" not in printed(RELIABLE_SAMPLES) and "noise" not in printed(None)
    assert few_sets_caveat(RELIABLE_SAMPLES - 1) is not None
    assert chance_correlation(RELIABLE_SAMPLES) < 0.4


def test_the_figure_and_the_terminal_say_the_same(tmp_path) -> None:
    """The figure's title (sim/present/plots/uncertainty.py) gives the caveat the terminal gives."""
    from sim.present.plots.uncertainty import drivers_figure

    written = drivers_figure(drivers(), tmp_path, "test", samples=4)
    title = " ".join(str(vars(written)).split())
    assert "only 4 input sets: values within ±1.00 are noise" in title, title
