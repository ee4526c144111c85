"""The clearance ECDFs say how sure they are: the curve is the mean of the replications' ECDFs with its
95% t-interval, and the p50/p95 marks are the summary table's own numbers (means of the replications'
percentiles with their intervals), so a figure and a table of the same run never disagree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.present.plots import clearance
from sim.store.reader import load_study
from tests.conftest import SCENARIOS

MINIMAL = str(SCENARIOS / "lang_son_minimal.yaml")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("uncertainty") / "run"
    args = ["run", MINIMAL, "--set", "run.horizon=96", "--set", "run.warmup=24", "--replications", "4"]
    assert main([*args, "--jobs", "1", "--out", str(out), "-q"]) == 0
    return out


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_percentile_marks_are_the_summary_tables_numbers(run_folder: Path) -> None:
    study = load_study(run_folder)
    summary = pd.read_csv(run_folder / "summary.csv")
    hours = study.base.cleared_hours()
    for direction in ("export", "import"):
        r = clearance._by_replication(hours, None, direction)
        assert r.n == 4
        for q, metric in ((0.5, "p50_clearance_h"), (0.95, "p95_clearance_h")):
            at = summary.set_index(["gate", "direction", "metric"])
            row = at.loc[("all", direction, metric)]
            mean, half = r.quantile(q)
            assert mean == pytest.approx(row["mean"], rel=1e-9)
            assert half == pytest.approx(row["half_width"], rel=1e-9)


def test_ecdf_band_is_the_t_interval_of_the_replications_curves(run_folder: Path) -> None:
    hours = load_study(run_folder).base.cleared_hours()
    r = clearance._by_replication(hours, "huu_nghi", "export")
    flow = (hours["gate"] == "huu_nghi") & (hours["direction"] == "export")
    part = hours[flow & (hours["status"] == "cleared")]
    x = np.linspace(0.0, float(part["hours"].max()), 50)
    mean, low, high = r.ecdf(x)
    # independently: each replication's empirical CDF by scipy, then a t-interval by scipy
    curves = np.array(
        [stats.ecdf(g.to_numpy()).cdf.evaluate(x) for _, g in part.groupby("replication")["hours"]]
    )
    n = len(curves)
    expected_half = stats.t.ppf(0.975, n - 1) * curves.std(axis=0, ddof=1) / np.sqrt(n)
    np.testing.assert_allclose(mean, curves.mean(axis=0), atol=1e-12)
    # the t-interval, clipped to what a share can be (0 to 1)
    np.testing.assert_allclose(high, np.minimum(mean + expected_half, 1.0), atol=1e-12)
    np.testing.assert_allclose(low, np.maximum(mean - expected_half, 0.0), atol=1e-12)
    assert (high - low).max() > 0  # four different replications: the band has a width


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_one_replication_draws_no_band_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "one"
    args = ["run", MINIMAL, "--set", "run.horizon=72", "--set", "run.warmup=24", "--replications", "1"]
    assert main([*args, "--jobs", "1", "--out", str(out), "-q"]) == 0
    study = load_study(out)
    written = clearance.headline(study, tmp_path / "plots", "test")
    assert "no interval" in written[0].caption
    r = clearance._by_replication(study.base.cleared_hours(), None, "export")
    assert np.isnan(r.quantile(0.95)[1])
