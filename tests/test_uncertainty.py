"""``uncertainty``: the ``uncertain:`` section, the draws, common random numbers, and the band of a toy
queue against its exact predictive distribution.

The toy: one M/M/1 server, arrivals at lambda = 0.5 an hour, the mean service time S uncertain, uniform
on [A, B]. The mean wait in queue Wq(S) = lambda S^2 / (1 - lambda S) rises with S, so the p-quantile of
Wq over the uncertainty is Wq at the p-quantile of S, A + p (B - A): exact, no simulation needed.

The study's band is the p-quantile (numpy's linear interpolation) of Y_i, sample i's simulated mean wait.
Two things separate it from the exact value, each bounded here:
- the draws: with a Latin hypercube of n points in one dimension, exactly one S_i falls in each of the n
  equal strata, so (without noise) the interpolated quantile of the Wq(S_i) and the exact quantile both
  lie between Wq at the quantiles k/n and (k+2)/n of S, where k = floor(p (n-1)) (proof: the k-th and
  (k+1)-th order statistics sit in strata k and k+1, and k/(n-1) <= p < (k+1)/(n-1) <= (k+2)/n);
- the simulation noise: with |Y_i - Wq(S_i)| <= e_i for every i, the p-quantile of the Y_i lies between
  those of the Wq(S_i) - e_i and of the Wq(S_i) + e_i (a quantile rises with each coordinate); e_i is a
  Bonferroni t bound over the samples from the replications' own spread (the pooled relative deviation
  of each replication from its sample's mean, times the sample's mean, over sqrt(R)).
"""

from __future__ import annotations

import io
import json
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.backlog import FlowChanges, daily, daily_at
from sim.analysis.daily_series import DAILY_TABLE
from sim.cli import main
from sim.errors import UserError
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.model.records import Tables
from sim.scenario import load_scenario
from sim.scenario.uncertain import Inputs
from sim.store.tables import TABLES, read_table
from sim.studies.options import StudyOptions
from sim.studies.uncertainty import draw, uncertainty
from tests.conftest import SCENARIOS

LAM = 0.5
A, B = 0.6, 1.0  # mean service time, hours: rho from 0.3 to 0.5
KEY = "gates.gate.export.stages.service.service.mean"
FAMILY_ERROR = 0.001  # chance that one of the samples' noise exceeds the bound


def toy(tmp_path: Path, horizon: float, extra: str = "") -> Path:
    """The M/M/1 toy: the shipped M/M/c example with one server, its service mean uncertain."""
    path = tmp_path / "mm1.yaml"
    path.write_text(
        f"extends: {SCENARIOS / 'examples' / 'mmc.yaml'}\n"
        "name: mm1_uncertain\n"
        f"run: {{horizon: {horizon}, warmup: {min(500, horizon / 10):g}, seed: 11, kernel: heap}}\n"
        "gates: {gate: {export: {stages: {service: {servers: 1}}}}}\n"
        f"arrivals: {{trucks: {{rate: {LAM}}}}}\n"
        "uncertain:\n"
        f"  {KEY}: {{low: {A}, high: {B}, why: 'the toy of the test: S uniform'}}\n" + extra,
        encoding="utf-8",
    )
    return path


def wq(s: np.ndarray | float) -> np.ndarray | float:
    """M/M/1 mean wait in queue at mean service time s (hours)."""
    return LAM * np.square(s) / (1 - LAM * np.asarray(s))


def check_band_against_theory(folder: Path, samples: int, reps: int) -> dict[str, float]:
    """Assert the band's 5/50/95% points meet the exact ones within the bounds of the module docstring;
    returns the tolerance of each point relative to its exact value."""
    table = pd.read_csv(folder / "samples.csv")
    s_i = table[KEY].to_numpy(dtype=float)
    exact_at_draws = wq(s_i)
    y_ir = np.array(
        [
            read_table(folder / "points" / point, "metrics", range(reps))
            .query("metric == 'mean_wait_h' and gate == 'all' and direction == 'all'")
            .sort_values("replication")["value"]
            .to_numpy()
            for point in table["point"]
        ]
    )
    y_i = y_ir.mean(axis=1)
    np.testing.assert_allclose(y_i, table["mean_wait_h@all/all"], rtol=1e-12)  # what samples.csv says
    rel = y_ir / y_i[:, None] - 1
    df = samples * (reps - 1)
    pooled = math.sqrt(float(np.sum(rel**2)) / df)
    z = stats.t.ppf(1 - FAMILY_ERROR / (2 * samples), df)
    e_i = z * pooled * y_i / math.sqrt(reps)
    bands = pd.read_csv(folder / "bands.csv").query(
        "metric == 'mean_wait_h' and gate == 'all' and direction == 'all'"
    )
    # power: a band collapsed to any one value misses p5 or p95 by at least half the exact width, so
    # every tolerance must be below that for the check to catch inputs left unapplied
    half_width = float(wq(A + 0.95 * (B - A)) - wq(A + 0.05 * (B - A))) / 2
    relative = {}
    for name, p in (("p5", 0.05), ("p50", 0.50), ("p95", 0.95)):
        band = float(bands[name].iloc[0])
        # the same quantile of the exact Wq at the very inputs drawn, moved by the noise bounds
        at_draws = float(np.quantile(exact_at_draws, p))
        low, high = np.quantile(exact_at_draws - e_i, p), np.quantile(exact_at_draws + e_i, p)
        assert low <= band <= high, (name, band, low, high)
        noise = max(high - at_draws, at_draws - low)
        k = math.floor(p * (samples - 1))
        strata = float(wq(A + (k + 2) / samples * (B - A)) - wq(A + k / samples * (B - A)))
        exact = float(wq(A + p * (B - A)))
        assert abs(band - exact) <= noise + strata, (name, band, exact, noise, strata)
        assert noise + strata < half_width, (name, noise, strata, half_width)
        relative[name] = (noise + strata) / exact
    return relative


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_band_of_a_toy_queue_matches_its_exact_predictive_distribution(tmp_path: Path) -> None:
    samples, reps = 16, 2
    folder = tmp_path / "study"
    result = uncertainty(
        toy(tmp_path, 20000), StudyOptions(replications=reps, jobs=2, out=folder), samples=samples
    )
    assert not result.failures
    check_band_against_theory(folder, samples, reps)


@pytest.mark.slow
def test_band_of_a_toy_queue_matches_theory_closely_with_many_long_samples(tmp_path: Path) -> None:
    samples, reps = 40, 4
    folder = tmp_path / "study"
    uncertainty(toy(tmp_path, 60000), StudyOptions(replications=reps, jobs=2, out=folder), samples=samples)
    relative = check_band_against_theory(folder, samples, reps)
    assert max(relative.values()) < 0.2, relative  # more samples and longer runs: a tighter check


def test_same_seed_same_input_sets_and_lhs_strata(tmp_path: Path) -> None:
    first, second = draw("lhs", 8, 3, 5), draw("lhs", 8, 3, 5)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, draw("lhs", 8, 3, 6))
    for column in first.T:  # a Latin hypercube: one point in each of the 8 strata of every input
        assert sorted(np.floor(column * 8).astype(int)) == list(range(8))
    sobol = draw("sobol", 8, 2, 5)
    np.testing.assert_array_equal(sobol, draw("sobol", 8, 2, 5))
    assert sobol.shape == (8, 2) and ((sobol >= 0) & (sobol < 1)).all()


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_study_is_reproducible_and_replication_k_shares_its_random_numbers(tmp_path: Path) -> None:
    path = toy(tmp_path, 300, "  arrivals.trucks.rate: {low: 0.3, high: 0.6, why: 'a second input'}\n")
    runs = []
    for name in ("a", "b"):
        options = StudyOptions(replications=2, jobs=1, out=tmp_path / name)
        runs.append(uncertainty(path, options, samples=4))
    a, b = (pd.read_csv(r.folder / "samples.csv") for r in runs)
    pd.testing.assert_frame_equal(a, b)  # same seed: same input sets and the same results
    other = uncertainty(path, StudyOptions(replications=1, jobs=1, seed=99, out=tmp_path / "c"), samples=4)
    assert not np.allclose(pd.read_csv(other.folder / "samples.csv")[KEY], a[KEY])
    # CRN: replication k of every sample has the same seed, so the same uniforms: the arrival times
    # differ only through the rate (an exponential draw scaled by 1/rate), the same for every sample
    # (the points keep no tables: each replication is run again from its folder's scenario and seed)
    scaled = {}
    for k in (0, 1):
        for _, row in a.iterrows():
            trucks = rerun(runs[0].folder / "points" / row["point"], k).trucks
            gaps = np.diff(np.concatenate([[0.0], np.sort(trucks["arrival"].to_numpy())]))[:20]
            scaled.setdefault(k, []).append(gaps * row["arrivals.trucks.rate"])
        for gaps in scaled[k][1:]:
            np.testing.assert_allclose(gaps, scaled[k][0], rtol=1e-9)
    assert not np.allclose(scaled[0][0], scaled[1][0])  # and replications differ from each other


def rerun(point: Path, replication: int) -> Tables:
    """Replication ``replication`` of a study's point, run again from its saved scenario and root seed."""
    scenario = load_scenario(point / "scenario.yaml").scenario
    root_seed = json.loads((point / "manifest.json").read_text())["root_seed"]
    return run_replication(scenario, replication_seed(root_seed, replication))


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_points_keep_metrics_and_daily_series_only_and_the_band_is_the_exact_reading(tmp_path: Path) -> None:
    """Item 4 of issue 32: an input set's folder holds its metrics and its daily series, no event table;
    the daily series kept is the exact backlog series read at series_at, and the bands are its quantiles."""
    path = toy(tmp_path, 300, "  arrivals.trucks.rate: {low: 0.3, high: 0.6, why: 'a second input'}\n")
    reps, at = 2, "17:30"
    result = uncertainty(
        path, StudyOptions(replications=reps, jobs=1, out=tmp_path / "u"), samples=3, series_at=at
    )
    points = sorted((result.folder / "points").iterdir())
    assert len(points) == 3
    for point in points:
        kept = {p.name for p in point.iterdir() if p.is_dir()}
        assert kept == {"metrics", DAILY_TABLE}, kept  # no trucks, stages, backlog_series...
        assert json.loads((point / "manifest.json").read_text())["tables"] == [DAILY_TABLE, "metrics"]
    s = load_scenario(points[0] / "scenario.yaml").scenario
    per_sample = []
    for k, point in enumerate(points):
        saved = read_table(point, DAILY_TABLE, range(reps))
        exact = []
        for rep in range(reps):
            tables = rerun(point, rep)
            changes = FlowChanges.of(tables.backlog_series.reset_index(drop=True))
            steps = changes.steps("all", "export")
            want = daily_at(steps, s.run.start, s.run.unit_hours, s.run.horizon, at_hour=17.5)
            got = saved.query("replication == @rep and gate == 'all' and direction == 'export'")
            np.testing.assert_array_equal(got["value"].to_numpy(), want["at"].to_numpy())
            assert list(got["date"]) == list(want["date"])
            exact.append(want.set_index("date")["at"])
        per_sample.append(pd.concat(exact, axis=1).mean(axis=1).rename(k))
    wide = pd.concat(per_sample, axis=1).dropna(how="all")
    band = pd.read_csv(result.folder / "bands_daily.csv").query("gate == 'all' and direction == 'export'")
    np.testing.assert_allclose(band["p50"], wide.median(axis=1).to_numpy())
    np.testing.assert_allclose(band["p95"], wide.quantile(0.95, axis=1).to_numpy())
    # the same folder read at another time of day is another study: refused, nothing mixed
    with pytest.raises(UserError, match="series_at"):
        uncertainty(path, StudyOptions(replications=reps, jobs=1, out=tmp_path / "u"), samples=3)


def test_tables_keeps_every_table_too_and_a_folder_is_resumed_the_same_way(tmp_path: Path) -> None:
    path = toy(tmp_path, 200)
    out = tmp_path / "u"
    uncertainty(path, StudyOptions(replications=1, jobs=1, out=out), samples=2, keep_tables=True)
    for point in sorted((out / "points").iterdir()):
        kept = {p.name for p in point.iterdir() if p.is_dir()}
        assert kept == {*TABLES, "metrics", DAILY_TABLE}, kept
    with pytest.raises(UserError, match="keeps every table"):  # the same study without --tables
        uncertainty(path, StudyOptions(replications=1, jobs=1, out=out), samples=2)


def test_a_bad_uncertain_key_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = toy(tmp_path, 300, "  gates.gate.export.stages.servce.servers: {low: 1, high: 2, why: typo}\n")
    with pytest.raises(UserError) as err:
        load_scenario(path)
    problem = err.value.problems[0]
    assert problem.path == "uncertain.gates.gate.export.stages.servce.servers"
    assert "'gates.gate.export.stages.servce' is not in this scenario" in problem.message
    assert problem.line == 8 and problem.file == str(path)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (f"{KEY}: {{low: -0.5, high: 1, why: x}}", "at its low end"),
        (f"{KEY}: {{low: 0.5, high: 1, dist: triangular, why: x}}", "needs a mode"),
        ("arrivals.trucks.rate: {low: 0.3, high: 0.6}", "give source or why"),
        (f"{KEY}: {{low: 1, high: 0.5, why: x}}", "low must be below high"),
        ("run.seed: {low: 0, high: 9, why: x, also: [arrivals.trucks.gate]}", "is not a number"),
    ],
)
def test_a_bad_range_is_refused(tmp_path: Path, entry: str, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {toy(tmp_path, 300)}\nuncertain:\n  {entry}\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_scenario(path)
    assert err.value.problems[0].path.startswith("uncertain")
    assert words in str(err.value)


def test_inputs_set_whole_numbers_dates_and_multiples(tmp_path: Path) -> None:
    loaded = load_scenario(
        toy(
            tmp_path,
            300,
            "  gates.gate.export.stages.service.servers: {low: 1, high: 3, why: x}\n"
            "  run.start: {low: 2021-01-01, high: 2021-01-10, why: x}\n"
            "  arrivals.trucks.rate: {low: 0.8, high: 1.2, scale: true, dist: triangular, mode: 1, why: x}\n",
        )
    )
    inputs = Inputs(loaded.scenario)
    low, high = inputs.settings(np.zeros(4)), inputs.settings(np.full(4, 0.999999))
    assert (low[KEY], high[KEY]) == (pytest.approx(A), pytest.approx(B))
    servers = "gates.gate.export.stages.service.servers"
    assert (low[servers], high[servers]) == (1, 3)
    assert (low["run.start"], high["run.start"]) == ("2021-01-01T00:00:00", "2021-01-10T00:00:00")
    assert low["arrivals.trucks.rate"] == pytest.approx(0.8 * LAM)
    middle = inputs.settings(np.full(4, 0.5))  # the triangular's median at its symmetric mode
    assert middle["arrivals.trucks.rate"] == pytest.approx(LAM)


def streams(tmp_path: Path) -> Path:
    """Two gates' streams sharing one dated schedule through a YAML anchor (as the winter replay's do)."""
    path = tmp_path / "streams.yaml"
    path.write_text(
        f"extends: {SCENARIOS / 'examples' / 'mmc.yaml'}\n"
        "arrivals:\n"
        "  trucks: {schedule: &steps [{from: 2021-01-02, factor: 2}, {from: 2021-01-05, factor: 0.5}]}\n"
        "  more_trucks: {gate: gate, direction: export, truck_class: truck, rate: 1, schedule: *steps}\n"
        "  other: {gate: gate, direction: export, truck_class: truck, rate: 1}\n",
        encoding="utf-8",
    )
    return path


def test_set_reaches_a_list_element_and_leaves_its_aliases(tmp_path: Path) -> None:
    s = load_scenario(streams(tmp_path), ["arrivals.trucks.schedule.1.factor=3"]).scenario
    assert s.arrivals["trucks"].schedule[1].factor == 3
    assert s.arrivals["more_trucks"].schedule[1].factor == 0.5  # the same anchor, untouched
    with pytest.raises(UserError, match="not an element"):
        load_scenario(streams(tmp_path), ["arrivals.trucks.schedule.99=3"])


def test_command_refuses_a_scenario_without_uncertain_section(tmp_path: Path, capsys) -> None:
    out = tmp_path / "none"
    mmc = str(SCENARIOS / "examples" / "mmc.yaml")
    code = main(["uncertainty", mmc, "--samples", "4", "--out", str(out)])
    assert code == 2
    assert "no 'uncertain:' section" in capsys.readouterr().err
    assert not out.exists()  # nothing written


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_command_prints_the_band_and_backlog_reads_the_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "u"
    args = ["uncertainty", str(toy(tmp_path, 200)), "--samples", "4", "--replications", "1", "--jobs", "1"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "uncertainty band" in printed and "1 replication per input set" in printed
    assert (out / "plots" / "uncertainty_band.png").is_file()
    assert (out / "plots" / "uncertainty_drivers.png").is_file()
    assert main(["backlog", str(out), "--direction", "export", "--format", "csv"]) == 0
    shown = pd.read_csv(io.StringIO(capsys.readouterr().out))
    saved = pd.read_csv(out / "bands_daily.csv").query("gate == 'all' and direction == 'export'")
    np.testing.assert_allclose(shown["p50"], saved["p50"])
    assert main(["backlog", str(out), "--count", "outside"]) == 2
    # validate-history --observed on the folder: inside the 90% band exactly when p5 <= value <= p95
    days = saved.iloc[[2, 3, 5]]
    values = [days["p5"].iloc[0], days["p95"].iloc[1] + 1, days["p50"].iloc[2]]
    lines = [f"{d},all,export,{v}" for d, v in zip(days["date"], values, strict=True)]
    (tmp_path / "obs.csv").write_text("date,gate,direction,value\n" + "\n".join(lines) + "\n")
    capsys.readouterr()
    assert (
        main(["validate-history", str(out), "--observed", str(tmp_path / "obs.csv"), "--format", "csv"]) == 0
    )
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table["inside_band"].tolist() == [True, False, True]
    np.testing.assert_allclose(table["p50"], days["p50"])
    assert main(["validate-history", str(out), "--observed", str(tmp_path / "obs.csv"), "--at", "13:00"]) == 2


def test_daily_at_reads_the_same_values_as_daily() -> None:
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 500, 300))
    steps = pd.DataFrame({"time": times, "waiting": rng.integers(0, 9, 300)})
    for start in (datetime(2021, 1, 1), datetime(2021, 1, 1, 7, 30)):
        full = daily(steps, start, 1.0, 500.0, at_hour=17.5)
        pd.testing.assert_frame_equal(full[["date", "at"]], daily_at(steps, start, 1.0, 500.0, at_hour=17.5))


def test_a_pattern_names_the_keys_it_matches(tmp_path: Path) -> None:
    from sim.scenario.uncertain import document, expand

    doc = document(load_scenario(streams(tmp_path)).scenario)
    found = [".".join(map(str, p)) for p, _ in expand(doc, "arrivals.*trucks.schedule.[0-1].factor", False)]
    assert sorted(found) == sorted(
        f"arrivals.{a}.schedule.{i}.factor" for a in ("trucks", "more_trucks") for i in (0, 1)
    )


def test_sensitivity_does_not_vary_the_ranges_themselves(tmp_path: Path) -> None:
    from sim.studies.sensitivity import factors

    extra = "  arrivals.trucks.rate: {low: 0.3, high: 0.6, why: w}   # assumption: a range, not the world\n"
    loaded = load_scenario(toy(tmp_path, 300, extra))
    assert not [f for f in factors(loaded.files, 0.25) if f.assumption.paths[0][0] == "uncertain"]
