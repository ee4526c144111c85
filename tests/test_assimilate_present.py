"""The morning twin on the terminal and in figures (issue 30): the posterior beside the prior, the ESS,
the series and the fan, the hindcast verdict per horizon band; the figures drawn from the folder. Built
from hand-made tables, so each printed figure is known without a simulation."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from sim.present.assimilate_text import hindcast_lines, number, print_assimilate
from sim.present.plots.assimilate import assimilate_figures
from sim.studies.assimilate import AssimilateResult


@pytest.fixture
def result(tmp_path) -> AssimilateResult:
    posterior = pd.DataFrame(
        {
            "input": ["arrivals.trucks.rate", "run.onset"],
            "range": ["0.4 .. 1.2", "2021-12-01 .. 2021-12-21"],
            "low": [0.4, 738125.0],
            "high": [1.2, 738145.0],
            "dated": [False, True],
            "prior_p5": [0.44, 738126.0],
            "prior_p50": [0.8, 738135.0],
            "prior_p95": [1.16, 738144.0],
            "posterior_p5": [0.71, 738130.0],
            "posterior_p50": [0.83, 738132.0],
            "posterior_p95": [0.93, 738134.0],
            "posterior_mean": [0.82, 738132.0],
        }
    )
    dates = pd.date_range("2021-12-01", periods=6).strftime("%Y-%m-%d")
    daily = pd.DataFrame(
        {
            "date": dates,
            "gate": "gate",
            "direction": "export",
            "what": "crossed",
            "part": ["filtered"] * 4 + ["forecast"] * 2,
            "p5": [10.0] * 6,
            "p25": [15.0] * 6,
            "p50": [19.0] * 6,
            "p75": [22.0] * 6,
            "p95": [30.0] * 6,
            "observed": [21.0, 17.0, 35.0, 22.0, None, None],
        }
    )
    ess = pd.DataFrame(
        {
            "step": [0, 1],
            "when": ["2021-12-02T00:00:00", "2021-12-03T00:00:00"],
            "observations": [1, 1],
            "ess": [11.4, 3.2],
            "resampled": [False, True],
            "moved": [float("nan"), 0.5],
        }
    )
    hindcast = pd.DataFrame(
        {
            "band": ["1-3"] * 3 + ["4-7"] * 3,
            "method": ["assimilated", "persistence", "prior"] * 2,
            "n": [7] * 6,
            "crps": [1.5, 2.8, 1.9, 3.0, 2.5, 4.0],
            "cover50": [0.5, None, 0.4] * 2,
            "cover90": [0.9, None, 1.0] * 2,
            "rms_log_ratio": [0.2, 0.16, 0.14] * 2,
        }
    )
    folder = tmp_path / "a"
    folder.mkdir()
    posterior.to_csv(folder / "posterior.csv", index=False)
    daily.to_csv(folder / "assimilate_daily.csv", index=False)
    return AssimilateResult(
        folder, "twin", 16, datetime(2021, 12, 5), 2.0, 48, posterior, daily, ess, hindcast
    )


def test_the_printer_shows_prior_beside_posterior_ess_series_and_hindcast(result, capsys) -> None:
    print_assimilate(result)
    out = capsys.readouterr().out
    # the posterior 90% width 0.22 is 31% of the prior's 0.72
    assert "0.71" in out and "0.93" in out and "31%" in out
    assert "2021-12-08" in out  # a dated input printed as its date (ordinal 738132)
    assert "resampled, 50% of the copies moved" in out
    assert "holds 3 of the 4 daily counts" in out  # 35 is outside 10-30
    assert "1-3 days ahead: the assimilated forecast beats both baselines" in out
    assert "4-7 days ahead: the assimilated forecast beats prior only" in out


def test_number_writes_a_dated_input_as_its_date() -> None:
    assert number(738132.0, dated=True) == "2021-12-08"
    assert number(0.8312) == "0.831"


def test_hindcast_lines_say_neither_when_both_baselines_win(result) -> None:
    table = result.hindcast.assign(crps=[5.0, 2.8, 1.9, 3.0, 2.5, 4.0])
    assert hindcast_lines(table)[0].endswith("beats neither baseline (CRPS 5.00).")


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_both_figures_are_drawn_from_the_folder(result) -> None:
    drawn = assimilate_figures(result.folder)
    assert [w.name for w in drawn] == ["assimilate_inputs", "assimilate_series"]
    assert all(w.png.stat().st_size > 10_000 for w in drawn)
    assert drawn[1].height_px > drawn[0].height_px  # one panel per series vs one row per input


def test_the_report_of_an_assimilate_folder_leads_with_the_hindcast_verdict(result) -> None:
    """``report`` knows an assimilate folder (it refused it as "not a results folder"): the verdict per
    horizon band in words, both figures, and the posterior table first."""
    import json

    from sim.present.report import build_report

    result.hindcast.to_csv(result.folder / "hindcast.csv", index=False)
    manifest = {"kind": "assimilate", "scenario": "twin", "finished": "2021-12-05T00:00:00"}
    (result.folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    page, figures = build_report(result.folder)
    html = page.read_text(encoding="utf-8")
    assert len(figures) == 2 and html.count("<img") == 2
    assert html.find("1-3 days ahead: the assimilated forecast beats both baselines") < html.find("<img")
    assert html.find("<summary>posterior.csv") < html.find("<summary>assimilate_daily.csv")


@pytest.mark.slow  # draws the figures: a slow check (.ci/run runs them: pytest -m slow)
def test_the_series_legend_covers_no_panel(result, drawn_figures) -> None:
    """Inside the top panel, the legend covered the first day's band and count (seen on the page)."""
    from tests.test_ecdf_many_scenarios import _covered

    assimilate_figures(result.folder)
    series = drawn_figures[-1]
    assert series.legends and not _covered(series)
