"""Experiments: parallel replications, the resumable results store, comparisons and sweeps.

Every run here goes through the real worker pool (or a real Dask cluster), never a serial stand-in, and
uses short horizons so that the file takes well under a minute on two cores.
"""

from __future__ import annotations

import json
import sys
import types
from math import factorial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.metrics import groups, replication_metrics
from sim.analysis.stats import paired_differences, summarize
from sim.cli import main
from sim.runner.backends import Backend
from sim.runner.experiment import FAIL_ENV, NEW, RESUME, Experiment, plan, run_experiments
from sim.scenario import load_scenario
from sim.store.tables import METRICS, TABLES, done_replications, read_table
from tests.conftest import SCENARIOS, run, scenario

MINIMAL = str(SCENARIOS / "lang_son_minimal.yaml")
MMC = str(SCENARIOS / "examples/mmc.yaml")
SHORT = ["--set", "run.horizon=96", "--set", "run.warmup=24"]  # four days of the minimal scenario


def run_folder(in_tmp: Path, label: str, *extra: str, scenario_file: str = MINIMAL) -> tuple[int, Path]:
    code = main(["run", scenario_file, *SHORT, "--label", label, *extra])
    name = load_scenario(scenario_file).scenario.name
    return code, in_tmp / "results" / name / label


def assert_same_tables(a: Path, b: Path) -> None:
    for name in (*TABLES, METRICS):
        pd.testing.assert_frame_equal(read_table(a, name), read_table(b, name), check_exact=True)


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C), written out independently of the package."""
    a = lam / mu
    tail = a**c / factorial(c) / (1 - a / c)
    return tail / (sum(a**k / factorial(k) for k in range(c)) + tail) / (c * mu - lam)


# --------------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_jobs_1_and_jobs_2_give_identical_tables(in_tmp: Path) -> None:
    code1, one = run_folder(in_tmp, "one", "--replications", "4", "--jobs", "1")
    code2, two = run_folder(in_tmp, "two", "--replications", "4", "--jobs", "2")
    assert code1 == code2 == 0
    assert_same_tables(one, two)
    workers = {
        json.loads((two / "manifest.json").read_text())["replication_info"][str(r)]["worker"]
        for r in range(4)
    }
    assert len(workers) == 2  # the replications really were spread over two processes


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_dask_local_cluster_gives_the_same_tables(in_tmp: Path) -> None:
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install -e '.[dask]'")
    assert run_folder(in_tmp, "pool", "--replications", "3", "--jobs", "2")[0] == 0
    assert run_folder(in_tmp, "dask", "--replications", "3", "--jobs", "2", "--dask", "local")[0] == 0
    assert_same_tables(in_tmp / "results/lang_son_minimal/pool", in_tmp / "results/lang_son_minimal/dask")


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_dask_local_workers_start_whatever_main_module_started_the_parent(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dask's nannies spawn their workers, and spawn re-runs the parent's main script in each: a page
    script (Streamlit makes the page ``__main__``) or a script without a main guard would run again and
    kill every worker at start-up ("Nanny failed to start"). Here the main script exits with status 1
    wherever it runs, yet the cluster starts and the run finishes."""
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install -e '.[dask]'")
    script = in_tmp / "cannot_run_twice.py"
    script.write_text("raise SystemExit(1)\n", encoding="utf-8")
    main_module = types.ModuleType("__main__")
    main_module.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main_module)
    assert run_folder(in_tmp, "dask", "--replications", "2", "--jobs", "2", "--dask", "local")[0] == 0
    assert sys.modules["__main__"].__file__ == str(script)  # given back as it was


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_dask_scheduler_address_sends_tables_back_to_be_written(in_tmp: Path) -> None:
    """A scheduler given by address may have workers without our disk: they send tables back instead."""
    distributed = pytest.importorskip(
        "distributed", reason="Dask is an optional extra: pip install -e '.[dask]'"
    )
    assert run_folder(in_tmp, "pool", "--replications", "2", "--jobs", "2")[0] == 0
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code, remote = run_folder(
            in_tmp, "remote", "--replications", "2", "--dask", cluster.scheduler_address
        )
    assert code == 0
    assert_same_tables(in_tmp / "results/lang_son_minimal/pool", remote)


# --------------------------------------------------------------------------------------------------
# Common random numbers
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_comparing_a_scenario_with_itself_gives_exactly_zero(in_tmp: Path) -> None:
    code = main(["compare", MINIMAL, MINIMAL, *SHORT, "--replications", "3", "--jobs", "2"])
    assert code == 0
    out = in_tmp / "results" / "compare-lang_son_minimal-lang_son_minimal-2"
    comp = pd.read_csv(out / "comparison.csv")
    policy = comp[comp["role"] == "policy"]
    assert len(policy) > 0
    assert policy.loc[~policy["modelled"], "diff"].isna().all()  # spoilage etc.: not modelled, not 0
    policy = policy[policy["modelled"]]
    assert (policy["diff"] == 0).all() and (policy["diff_half_width"] == 0).all()
    assert not policy["significant"].any()
    assert (out / "comparison.md").is_file() and (out / "manifest.json").is_file()
    assert len(list((in_tmp / "results/lang_son_minimal").iterdir())) == 1  # one scenario, run once


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_paired_interval_is_narrower_than_unpaired_when_a_policy_adds_servers(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = in_tmp / "more_customs.yaml"
    policy.write_text(
        f"extends: {MINIMAL}\nname: more_customs\n"
        "gates: {huu_nghi: {import: {stages: {customs: {servers: 12}}}}}\n"
    )
    code = main(["compare", MINIMAL, str(policy), *SHORT, "--replications", "5", "--jobs", "2"])
    assert code == 0
    assert "more_customs" in capsys.readouterr().out
    comp = pd.read_csv(in_tmp / "results/compare-lang_son_minimal-more_customs/comparison.csv")
    row = comp[
        (comp["role"] == "policy")
        & (comp["gate"] == "all")
        & (comp["direction"] == "all")
        & (comp["metric"] == "mean_clearance_h")
    ].iloc[0]
    assert row["diff"] < 0 and row["significant"]
    assert row["diff_half_width"] < 0.5 * row["unpaired_half_width"]
    # Tan Thanh is untouched by the policy: under common random numbers its trucks are the very same
    tan_thanh = comp[(comp["role"] == "policy") & (comp["gate"] == "tan_thanh") & comp["modelled"]]
    assert len(tan_thanh) and (tan_thanh["diff"] == 0).all()


def test_paired_interval_is_scipys_paired_t_interval() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(10, 2, 8)
    policy = base - 1 + rng.normal(0, 0.3, 8)

    def tidy(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {"replication": range(8), "gate": "g", "direction": "d", "metric": "m", "value": values}
        )

    d = paired_differences(tidy(base), tidy(policy)).iloc[0]
    ci = stats.ttest_rel(policy, base).confidence_interval(0.95)
    assert (d["diff_low"], d["diff_high"]) == pytest.approx((ci.low, ci.high), rel=1e-12)
    one = summarize(tidy(base)).iloc[0]
    ci1 = stats.ttest_1samp(base, 0).confidence_interval(0.95)
    assert (one["ci_low"], one["ci_high"]) == pytest.approx((ci1.low, ci1.high), rel=1e-12)


# --------------------------------------------------------------------------------------------------
# The results store: failures, interrupts, resume
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_failing_worker_is_reported_and_resume_finishes_identically(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(FAIL_ENV, "2")
    code, folder = run_folder(in_tmp, "broken", "--replications", "4", "--jobs", "2")
    err = capsys.readouterr().err
    assert code == 1
    assert "replication 2 of lang_son_minimal failed" in err
    assert "SeedSequence(entropy=2021, spawn_key=(2,))" in err and "RuntimeError" in err
    assert "Traceback" not in err and "--resume" in err
    assert done_replications(folder) == {0, 1, 3}  # the others were kept
    manifest = json.loads((folder / "manifest.json").read_text())
    assert not manifest["complete"] and manifest["missing"] == [2]
    assert manifest["failed"][0]["replication"] == 2
    assert read_table(folder, "trucks")["replication"].unique().tolist() == [0, 1, 3]

    monkeypatch.delenv(FAIL_ENV)
    assert run_folder(in_tmp, "broken", "--resume", "--jobs", "2")[0] == 0
    assert run_folder(in_tmp, "whole", "--replications", "4", "--jobs", "2")[0] == 0
    assert_same_tables(folder, in_tmp / "results/lang_son_minimal/whole")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] and manifest["done"] == [0, 1, 2, 3] and manifest["failed"] == []
    assert len(manifest["runs"]) == 2 and (folder / "summary.csv").is_file()
    assert not (folder / "errors").exists()


def test_an_interrupt_keeps_finished_replications_and_resume_runs_only_the_rest(in_tmp: Path) -> None:
    loaded = load_scenario(MMC, ["run.horizon=300", "run.warmup=50"])
    exp = Experiment(loaded, in_tmp / "run", root_seed=4, replications=4)
    plan(exp, NEW)

    def stop(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiments([exp], Backend(jobs=1), on_done=stop)
    finished = done_replications(exp.folder)
    assert 1 <= len(finished) < 4
    manifest = json.loads((exp.folder / "manifest.json").read_text())
    assert not manifest["complete"] and manifest["runs"][-1]["interrupted"]

    again = Experiment(loaded, in_tmp / "run", root_seed=4, replications=4)
    plan(again, RESUME)
    ran: list[int] = []
    assert run_experiments([again], Backend(jobs=2), on_done=ran.append) == []
    assert len(ran) == 4 - len(finished)
    assert again.complete and json.loads((exp.folder / "manifest.json").read_text())["complete"]


def test_resume_refuses_a_different_scenario_or_seed(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, folder = run_folder(in_tmp, "r", "--replications", "2", "--jobs", "1")
    assert code == 0
    before = (folder / "manifest.json").read_text()
    capsys.readouterr()
    assert main(["run", MINIMAL, *SHORT, "--set", "run.warmup=30", "--label", "r", "--resume"]) == 2
    assert "run.warmup (saved: 24.0, now: 30.0)" in capsys.readouterr().err
    assert main(["run", MINIMAL, *SHORT, "--seed", "9", "--label", "r", "--resume"]) == 2
    assert "root seed 2021" in capsys.readouterr().err
    assert (folder / "manifest.json").read_text() == before


@pytest.mark.parametrize(
    "argv",
    [
        ["run", MINIMAL, "--replications", "0"],
        ["run", MINIMAL, "--jobs", "0"],
        ["run", MINIMAL, "--resume"],
        ["run", MINIMAL, "--label", "nothing-here", "--resume"],
        ["run", MINIMAL, "--dask", "nowhere"],
        ["compare", MINIMAL, MMC, "--replications", "1"],
        ["sweep", MINIMAL],
        ["sweep", MINIMAL, "--grid", "run.warmup"],
        ["sweep", MINIMAL, "--grid", "run.warmup=1,1"],
        ["sweep", MINIMAL, "--grid", "run.warmup=[1,2"],
        ["sweep", MINIMAL, "--grid", "run.warmup=-5,10"],
    ],
    ids=lambda a: " ".join(x if "/" not in x else Path(x).name for x in a),
)
def test_user_mistakes_exit_2_and_write_nothing(
    argv: list[str], in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
    assert not (in_tmp / "results").exists()


# --------------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_sweep_writes_one_tidy_table_matching_single_runs(in_tmp: Path) -> None:
    key = "gates.huu_nghi.import.stages.customs.servers"
    argv = ["sweep", MINIMAL, *SHORT, "--grid", f"{key}=10,12", "--grid", "run.seed=1,2"]
    assert main([*argv, "--replications", "2", "--jobs", "2", "--label", "s"]) == 0
    folder = in_tmp / "results/lang_son_minimal/sweep-s"
    table = pd.read_parquet(folder / "sweep.parquet")
    assert list(table.columns[:3]) == ["point", key, "run.seed"]
    assert sorted(table["point"].unique()) == [0, 1, 2, 3]
    assert set(zip(table[key], table["run.seed"], strict=True)) == {(10, 1), (10, 2), (12, 1), (12, 2)}
    assert json.loads((folder / "manifest.json").read_text())["complete"]
    assert not [p for p in folder.rglob("*") if p.is_dir() and p.name in TABLES]  # metrics only
    # point 3 (servers 12, seed 2) is exactly what a plain run with those settings gives
    assert (
        run_folder(in_tmp, "p3", "--set", f"{key}=12", "--set", "run.seed=2", "--replications", "2")[0] == 0
    )
    single = read_table(in_tmp / "results/lang_son_minimal/p3", METRICS)
    point = table[table["point"] == 3][single.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(point, single, check_dtype=False)


# --------------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------------
def test_metrics_use_optional_columns_only_when_present() -> None:
    s = scenario("lang_son_minimal.yaml", "run.horizon=48", "run.warmup=12")
    tables = run(s, seed=3)
    full = replication_metrics(tables, s)
    tables.trucks = tables.trucks.drop(
        columns=[
            c for c in ("spoiled", "value_lost_usd", "waiting_cost_usd", "waiting_h") if c in tables.trucks
        ]
    )
    bare = replication_metrics(tables, s)
    for metric in ("spoiled_trucks", "value_lost_usd", "waiting_cost_usd"):
        assert metric not in set(bare["metric"])
    assert {"mean_clearance_h", "p99_clearance_h", "mean_wait_h", "cleared_per_day", "peak_backlog"} <= set(
        bare["metric"]
    )
    assert set(zip(full["gate"], full["direction"], strict=True)) == set(groups(s))
    # every metric reads the same whichever way the waiting time was obtained
    key = ["gate", "direction", "metric"]
    merged = full.merge(bare, on=key, suffixes=("", "_bare"))
    assert np.allclose(merged["value"], merged["value_bare"], equal_nan=True)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_confidence_intervals_cover_erlang_c_at_the_nominal_rate(tmp_path: Path) -> None:
    """40 independent experiments (root seeds 1000..1039) of 5 replications each on the M/M/3 example;
    the 95% interval of the mean wait must cover Erlang C in at least 34 of them (85%).

    Load 0.7 rather than the file's 0.85: the queue forgets its past about four times faster, so
    replications of 900 observed hours already have nearly normal means (measured coverage over 400
    experiments of this design: 95%); at 0.85 the same accuracy needs runs four times longer.
    """
    rate = 2.1
    loaded = load_scenario(MMC, [f"arrivals.trucks.rate={rate}", "run.horizon=1000", "run.warmup=100"])
    experiments = [
        Experiment(loaded, tmp_path / f"e{k}", root_seed=1000 + k, replications=5, keep_tables=False)
        for k in range(40)
    ]
    for e in experiments:
        plan(e, NEW)
    assert run_experiments(experiments, Backend(jobs=2)) == []
    wq = erlang_c_wait(rate, 1.0, 3)
    covered = 0
    for e in experiments:
        s = summarize(e.metrics())
        row = s[(s["gate"] == "all") & (s["direction"] == "all") & (s["metric"] == "mean_wait_h")].iloc[0]
        covered += row["ci_low"] <= wq <= row["ci_high"]
    assert covered >= 34, f"95% intervals covered Erlang C's {wq:.4f} in only {covered} of 40 experiments"


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_saved_runs_are_reused_only_by_the_same_model_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A comparison reuses a finished run only if the scenario, seed and model code all match: after a model
    change, old replications must not be mixed into new results."""
    import sim.store.manifest as manifest
    from sim.cli import main as cli_main

    monkeypatch.chdir(tmp_path)
    base = str(SCENARIOS / "examples" / "mmc.yaml")
    args = [
        "compare",
        base,
        base,
        "--replications",
        "2",
        "--jobs",
        "1",
        "--set",
        "run.horizon=50",
        "--set",
        "run.warmup=0",
    ]
    assert cli_main(args) == 0
    first = sorted((tmp_path / "results" / "mmc").iterdir())
    assert cli_main(args) == 0
    assert sorted((tmp_path / "results" / "mmc").iterdir()) == first  # reused
    monkeypatch.setattr(manifest, "model_digest", lambda: "f" * 64)
    assert cli_main(args) == 0
    assert len(list((tmp_path / "results" / "mmc").iterdir())) == len(first) + 1  # rerun, not reused
