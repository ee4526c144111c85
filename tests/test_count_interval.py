"""Counts of trucks get an interval fit for counts (issue 27 row 14): the quasi-Poisson score interval of
the mean over replications (sim/analysis/stats.py ``count_interval``), never below 0, with its coverage of
a known Poisson or negative-binomial mean checked by simulation; and what the terminal prints of a tiny
real run has no negative lower bound on a count."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.metrics import is_count, metric_info, summarize_metrics
from sim.analysis.stats import COUNT_INTERVAL, T_INTERVAL, count_interval, half_width, paired_differences
from sim.cli import main
from sim.present import terminal
from sim.present.cells import range_text
from tests.conftest import SCENARIOS

REPEATS = 4000  # simulated studies per case
NOMINAL = 0.95
# the binomial standard error of a coverage estimated from REPEATS studies, and three of them as the
# allowance for chance; quasi-Poisson is an approximation with an estimated dispersion, so a further
# 0.02 below nominal is allowed (the t-interval on the same draws falls further short: it is reported)
SE = math.sqrt(NOMINAL * (1 - NOMINAL) / REPEATS)
FLOOR, CEILING = NOMINAL - 0.02 - 3 * SE, NOMINAL + 0.02 + 3 * SE


def draws(rng: np.random.Generator, dist: str, mu: float, n: int) -> np.ndarray:
    """REPEATS studies of n replications of a count with mean mu: Poisson, or negative binomial with
    shape 2 (variance mu + mu^2/2: overdispersed, as a count of trucks arriving in bunches is)."""
    if dist == "poisson":
        return rng.poisson(mu, (REPEATS, n))
    return rng.negative_binomial(2.0, 2.0 / (2.0 + mu), (REPEATS, n))


@pytest.mark.parametrize(
    ("dist", "mu", "n"),
    [
        ("poisson", 3.0, 5),
        ("poisson", 0.5, 10),
        ("negbin", 5.0, 10),
        ("negbin", 60.0, 4),
        ("negbin", 2.0, 20),
    ],
)
def test_the_count_interval_covers_a_known_mean_and_is_never_below_zero(dist: str, mu: float, n: int) -> None:
    rng = np.random.default_rng([27, n, int(10 * mu)])
    x = draws(rng, dist, mu, n)
    mean, sd = x.mean(axis=1), x.std(axis=1, ddof=1)
    low, high = count_interval(mean, sd, n)
    assert np.all(low >= 0) and np.all(high >= low)  # equal only where every replication agrees
    covered = float(np.mean((low <= mu) & (mu <= high)))
    assert FLOOR <= covered <= CEILING, (covered, FLOOR, CEILING)
    # the t-interval of the same draws: goes below 0 in these cases (why the count interval is needed)
    t_low = mean - half_width(sd, n)
    assert np.any(t_low < 0)


def test_with_many_replications_and_a_large_count_it_is_the_t_interval() -> None:
    rng = np.random.default_rng(2027)
    x = rng.poisson(10_000.0, 400)
    mean, sd, n = x.mean(), x.std(ddof=1), len(x)
    low, high = count_interval(mean, sd, n)
    h = float(half_width(sd, n))
    # c = t^2 phi / n is about 0.01 here: the interval's ends differ from the t-interval's by about c/2,
    # a thousandth of the half-width (10); 1% is a generous bound that a wrong formula would miss
    assert float(high) - mean == pytest.approx(h, rel=0.01)
    assert mean - float(low) == pytest.approx(h, rel=0.01)


def test_small_counts_are_asymmetric_and_agreeing_replications_are_said_so() -> None:
    low, high = count_interval(np.array([2.0, 0.0, 7.0, 5.0]), np.array([2.5, 0.0, 0.0, 1.0]), 5)
    assert low[0] >= 0 and high[0] - 2.0 > 2.0 - low[0]  # longer above the mean
    assert (low[1], high[1]) == (0.0, 0.0) and (low[2], high[2]) == (7.0, 7.0)  # no spread seen
    text = range_text(7.0, float(low[2]), float(high[2]), str)
    assert text == "7.0 (every replication)"  # said in words, never "7 (7 to 7)" as if certain
    one = count_interval(3.0, math.nan, 1)
    assert all(math.isnan(float(v)) for v in one)  # one replication: no interval


def _tidy(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"gate": "all", "direction": "all", "metric": m, "replication": k, "value": v}
        for m, vs in values.items()
        for k, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_counts_get_the_count_interval_the_rest_and_differences_the_t_interval() -> None:
    base = _tidy(
        {"cleared": [0, 0, 1, 9], "mean_clearance_h": [1.0, 3.0, 2.0, 9.0], "cleared_per_day": [0, 1, 0, 8]}
    )
    s = summarize_metrics(base).set_index("metric")
    assert is_count("cleared") and is_count("trucks_turned_back") and is_count("peak_waiting")
    assert not is_count("cleared_per_day") and not is_count("total_delay_days")
    assert s.loc["cleared", "interval"] == COUNT_INTERVAL and s.loc["cleared", "ci_low"] >= 0
    for metric in ("mean_clearance_h", "cleared_per_day"):
        assert s.loc[metric, "interval"] == T_INTERVAL
        assert s.loc[metric, "ci_low"] == pytest.approx(s.loc[metric, "mean"] - s.loc[metric, "half_width"])
    assert s.loc["cleared_per_day", "ci_low"] < 0  # the same numbers as a rate keep the t-interval
    policy = _tidy({"cleared": [5, 4, 0, 0]})
    d = paired_differences(base[base["metric"] == "cleared"], policy).iloc[0]
    assert d["diff_low"] < 0 < d["diff_high"]  # a difference of counts may be negative
    assert d["diff_high"] - d["diff"] == pytest.approx(d["diff"] - d["diff_low"])


def test_a_year_scale_summary_with_count_ranges_fits_80_columns() -> None:
    from tests.test_terminal import assert_whole, rendered, year_scale_summary

    summary = year_scale_summary()
    counts = summary["metric"].map(is_count).to_numpy()
    summary["interval"] = np.where(counts, COUNT_INTERVAL, T_INTERVAL)
    summary["ci_low"] = summary["mean"] - summary["half_width"] * np.where(counts, 0.9, 1.0)
    summary["ci_high"] = summary["mean"] + summary["half_width"] * np.where(counts, 1.1, 1.0)
    text = rendered(lambda c: terminal.print_run_summary(summary, "base_2021_calibrated", 10, console=c))
    shown = summary[summary["metric"].isin([m for m, _ in terminal.RUN_COLUMNS]) & counts]
    expected = [
        f"({metric_info(r.metric).format(r.ci_low)} to {metric_info(r.metric).format(r.ci_high)})"
        for r in shown.itertuples()
    ]
    flat = " ".join(text.split())  # a cell may wrap onto two lines at its spaces
    assert_whole(text, [])
    missing = [e for e in expected if e not in flat]
    assert not missing, missing[:3]
    assert "quasi-Poisson" in flat


RANGE = re.compile(r"\((-?[\d,.]+) to (-?[\d,.]+)\)")


def test_a_tiny_real_run_prints_no_negative_lower_bound_on_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "results"
    args = ["--set", "run.horizon=48", "--set", "run.warmup=6", "--replications", "3", "--jobs", "1"]
    assert main(["run", str(SCENARIOS / "lang_son_minimal.yaml"), *args, "--results-root", str(root)]) == 0
    out = capsys.readouterr().out
    ranges = RANGE.findall(out)
    assert ranges, out  # the counts print as ranges, so the check below reads something
    assert not [r for r in ranges if r[0].startswith("-")], out
    summary = pd.read_csv(next(root.rglob("summary.csv")))
    counts = summary[summary["metric"].map(is_count) & summary["modelled"]]
    assert len(counts) and (counts["interval"] == COUNT_INTERVAL).all()
    assert (counts["ci_low"].dropna() >= 0).all()
