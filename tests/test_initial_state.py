"""The starting state (run.initial_state): placed trucks, their past counted from arrival, common random
numbers kept, conservation, an exact M/M/c clearing time, the replay's state reproducing its continuation,
and every bad row of a state file named by file, line and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.analysis.backlog import group_steps, value_at
from sim.analysis.state_at import state_at
from sim.cli import main
from sim.errors import UserError
from sim.model.network import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _tiny(tmp_path: Path, servers: int, state: str, extra: dict | None = None) -> Path:
    """One always-open stage of ``servers`` exponential servers (mean 1 h) at gate g; the only arrivals
    go to another gate, so g sees nothing but its starting trucks."""
    data = {
        "name": "tiny",
        "run": {"horizon": 200, "initial_state": "state.csv"},
        "truck_classes": {
            "truck": {"commodity": "generic"},
            "fruit": {
                "commodity": "fresh_fruit",
                "perishable": {"shelf_life_h": {"dist": "deterministic", "value": 10}},
            },
        },
        "gates": {
            "g": {
                "export": {
                    "stages": {"s": {"servers": servers, "service": {"dist": "exponential", "mean": 1.0}}}
                }
            },
            "other": {
                "export": {"stages": {"s": {"servers": 1, "service": {"dist": "exponential", "mean": 0.1}}}}
            },
        },
        "arrivals": {
            "elsewhere": {"gate": "other", "direction": "export", "truck_class": "truck", "rate": 0.01}
        },
    }
    for key, value in (extra or {}).items():
        data[key] = value
    _csv(tmp_path / "state.csv", state)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_k_trucks_into_an_empty_mmc_clear_in_the_pure_death_mean_time(tmp_path: Path) -> None:
    """K trucks, c exponential servers (rate mu), no arrivals: the clearing time is a sum of independent
    exponential stages of rates min(k, c) mu, k = K..1, so E[T] = sum 1/(min(k,c) mu)."""
    k_trucks, c, mu = 12, 3, 1.0
    s = load_scenario(_tiny(tmp_path, c, f"gate,direction,count,class\ng,export,{k_trucks},truck\n")).scenario
    times = []
    for rep in range(120):
        t = run_replication(s, replication_seed(7, rep)).trucks
        mine = t[(t["gate"] == "g") & (t["arrival"] < 0.0) | ((t["gate"] == "g") & (t["arrival"] == 0.0))]
        assert len(mine) == k_trucks and (mine["status"] == "cleared").all()
        times.append(mine["cleared"].max())
    expected = sum(1.0 / (min(k, c) * mu) for k in range(1, k_trucks + 1))
    mean, sd = float(np.mean(times)), float(np.std(times, ddof=1))
    half = stats.t.ppf(0.995, len(times) - 1) * sd / np.sqrt(len(times))
    assert abs(mean - expected) < half, (mean, expected, half)
    # power: one server fewer (or one more) is far outside the interval
    assert abs(sum(1.0 / (min(k, c - 1) * mu) for k in range(1, k_trucks + 1)) - mean) > 3 * half


def test_shelf_life_and_clearance_count_from_the_arrival_before_the_start(tmp_path: Path) -> None:
    state = "gate,direction,count,class,waited_h\ng,export,5,fruit,20\ng,export,5,fruit,0\n"
    s = load_scenario(_tiny(tmp_path, 10, state)).scenario
    t = run_replication(s, replication_seed(1, 0)).trucks
    started = t[t["gate"] == "g"]
    assert len(started) == 10
    old = started[np.isclose(started["arrival"], -20.0)]
    new = started[started["arrival"] == 0.0]
    assert len(old) == 5 and len(new) == 5
    assert old["spoiled"].all()  # 20 h waited before the start > 10 h of shelf life
    # the fresh ones clear in about an hour: not spoiled (unless a service drew over 10 h: e^-10)
    assert not new["spoiled"].any()
    np.testing.assert_allclose(old["clearance_time"], old["cleared"] + 20.0)


def test_an_empty_state_gives_the_very_same_tables(tmp_path: Path) -> None:
    empty = _csv(tmp_path / "empty.csv", "gate,direction,count\n")
    a = load_scenario(MINIMAL, ["run.horizon=72"]).scenario
    b = load_scenario(MINIMAL, ["run.horizon=72", f"run.initial_state={empty}"]).scenario
    assert b.run.initial_state is not None and b.run.initial_state.groups == []
    ta, tb = run_replication(a, replication_seed(3, 0)), run_replication(b, replication_seed(3, 0))
    for name, table in ta.as_dict().items():
        pd.testing.assert_frame_equal(table, tb.as_dict()[name], check_exact=True, obj=name)


def test_arriving_trucks_keep_their_draws_with_a_state(tmp_path: Path) -> None:
    """Common random numbers: the starting trucks draw from their own streams, so every arriving truck
    has the same value, tonnage and service times as without them (only its waits change)."""
    state = _csv(tmp_path / "s.csv", "gate,direction,count\nhuu_nghi,export,200\ntan_thanh,import,50\n")
    a = load_scenario(MINIMAL, ["run.horizon=72"]).scenario
    b = load_scenario(MINIMAL, ["run.horizon=72", f"run.initial_state={state}"]).scenario
    ta, tb = run_replication(a, replication_seed(3, 0)), run_replication(b, replication_seed(3, 0))
    arrived = tb.trucks[tb.trucks["arrival"] >= 0.0].reset_index(drop=True)
    assert len(tb.trucks) - len(arrived) == 250
    pd.testing.assert_series_equal(ta.trucks["value_usd"], arrived["value_usd"])
    pd.testing.assert_series_equal(ta.trucks["arrival"], arrived["arrival"])
    sa = ta.stages.set_index(["truck", "stage"])["service"]
    sb = tb.stages.assign(truck=tb.stages["truck"] - 250)
    sb = sb[sb["truck"] >= 0].set_index(["truck", "stage"])["service"]
    common = sa.index.intersection(sb.index)
    assert len(common) > 0.9 * len(sa)
    # the same draws (recorded as end - start, so equal up to the rounding of those sums)
    np.testing.assert_allclose(sa.loc[common].to_numpy(), sb.loc[common].to_numpy(), rtol=1e-9)


def test_heap_kernel_gives_identical_tables_with_a_state(tmp_path: Path) -> None:
    state = _csv(
        tmp_path / "s.csv", "gate,direction,count,where\nhuu_nghi,export,300,\nhuu_nghi,import,20,customs\n"
    )
    s = load_scenario(MINIMAL, ["run.horizon=72", f"run.initial_state={state}"]).scenario
    heap = load_scenario(
        MINIMAL, ["run.horizon=72", f"run.initial_state={state}", "run.kernel=heap"]
    ).scenario
    a, b = run_replication(s, replication_seed(2, 0)), run_replication(heap, replication_seed(2, 0))
    for name, table in a.as_dict().items():
        pd.testing.assert_frame_equal(table, b.as_dict()[name], check_exact=True, obj=name)


def test_conservation_state_plus_arrivals_is_crossed_turned_back_diverted_and_waiting(tmp_path: Path) -> None:
    state = _csv(
        tmp_path / "s.csv",
        "gate,direction,count,where,waited_h\nhuu_nghi,export,600,,30\nhuu_nghi,export,40,before_yard,\n"
        "tan_thanh,export,100,in_yard,5\n",
    )
    reneging = (
        "gates.huu_nghi.export.reneging={patience_h: {dist: exponential, mean: 40}, divert_to: tan_thanh,"
        " divert_share: 0.5, travel_h: {dist: deterministic, value: 2}}"
    )
    s = load_scenario(MINIMAL, ["run.horizon=96", f"run.initial_state={state}", reneging]).scenario
    tables = run_replication(s, replication_seed(5, 0))
    t = tables.trucks
    first = t[t["diverted_from"] < 0]
    in_state = int((first["arrival"] < 0).sum())
    arrivals = int((first["arrival"] >= 0).sum())
    status = t[t["status"] != "diverted"]["status"].value_counts()
    diverted = t[t["status"] == "diverted"]
    on_the_road = int((~diverted["truck"].isin(t["diverted_from"])).sum())  # not at the other gate yet
    assert in_state == 740
    # every truck ends once: crossed, turned back, still waiting at a gate, or diverted and still driving
    crossed, back, waiting = (int(status.get(k, 0)) for k in ("cleared", "turned_back", "inside"))
    assert in_state + arrivals == crossed + back + waiting + on_the_road
    assert len(diverted) - on_the_road == (t["diverted_from"] >= 0).sum() > 0
    assert status.get("turned_back", 0) > 0
    steps = group_steps(tables.backlog_series)
    assert value_at(steps, np.array([s.run.horizon]))[0] == status.get("inside", 0)
    # the state is what the series holds at time 0
    assert value_at(steps, np.array([0.0]))[0] == 740


def _daily_noon(tables, start_offset_h: float, days: int) -> np.ndarray:
    steps = group_steps(tables.backlog_series)
    return value_at(steps, start_offset_h + 24.0 * np.arange(days + 1))


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_replays_state_reproduces_its_continuation_in_distribution(tmp_path: Path) -> None:
    """Replay R replications of a congested minimal scenario for five days; take each one's state at noon
    of day 3 and forecast from it (other seeds) for two and a half days. Paired over replications, the
    forecast's daily count minus the replay's has mean 0 (a t-test does not reject at 1%), while a
    forecast that ignored the state (an empty one) is rejected by the same test."""
    congested = [
        "gates.huu_nghi.export.stages.china_side.servers=2",
        "gates.tan_thanh.export.stages.china_side.servers=3",
        "run.warmup=0",
    ]
    replay = load_scenario(MINIMAL, [*congested, "run.horizon=120"]).scenario
    at = 60.0  # noon on 3 June
    empty = _csv(tmp_path / "empty.csv", "gate,direction,count\n")
    diffs, diffs_empty = [], []
    for rep in range(10):
        tables = run_replication(replay, replication_seed(11, rep))
        state = state_at(tables.trucks, tables.stages, replay, at)
        path = tmp_path / f"state{rep}.csv"
        state.to_csv(path, index=False)
        seen = _daily_noon(tables, at, 2)
        common = [*congested, "run.start=2021-06-03T12:00:00", "run.horizon=60"]
        fc = load_scenario(MINIMAL, [*common, f"run.initial_state={path}"]).scenario
        forecast = _daily_noon(run_replication(fc, replication_seed(99, rep)), 0.0, 2)
        assert forecast[0] == seen[0] == state["count"].sum()  # the state is the replay's, exactly
        diffs.append(np.mean(forecast[1:] - seen[1:]))
        blank = load_scenario(MINIMAL, [*common, f"run.initial_state={empty}"]).scenario
        diffs_empty.append(
            np.mean(_daily_noon(run_replication(blank, replication_seed(99, rep)), 0.0, 2)[1:] - seen[1:])
        )
    assert seen[0] > 200  # the queue is real
    assert stats.ttest_1samp(diffs, 0.0).pvalue > 0.01, diffs
    assert stats.ttest_1samp(diffs_empty, 0.0).pvalue < 0.001, diffs_empty


@pytest.mark.parametrize(
    ("rows", "line", "column", "words"),
    [
        ("huu_nghi,export,x\n", 2, "count", "whole number"),
        ("huu_nghi,export,0\n", 2, "count", "at least 1"),
        ("huu_nghi,export,3\nnowhere,export,3\n", 3, "gate", "not a gate"),
        ("huu_nghi,sideways,3\n", 2, "direction", "export or import"),
    ],
)
def test_bad_rows_name_the_file_line_and_column(
    tmp_path: Path, rows: str, line: int, column: str, words: str
) -> None:
    path = _csv(tmp_path / "bad.csv", "gate,direction,count\n" + rows)
    with pytest.raises(UserError) as err:
        load_scenario(MINIMAL, [f"run.initial_state={path}"])
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.path) == (str(path), line, column)
    assert words in problem.message


@pytest.mark.parametrize(
    ("header", "row", "column", "words"),
    [
        ("class", "huu_nghi,export,3,banana", "class", "not a truck class"),
        ("where", "huu_nghi,export,3,roof", "where", "not a place or a stage"),
        ("arrived", "huu_nghi,export,3,2021-06-02T08:00", "arrived", "after the state's time"),
        ("arrived", "huu_nghi,export,3,yesterday", "arrived", "not a local date and time"),
        ("waited_h", "huu_nghi,export,3,-2", "waited_h", "at least 0"),
        ("colour", "huu_nghi,export,3,red", "colour", "unknown column"),
    ],
)
def test_bad_optional_columns_are_named(
    tmp_path: Path, header: str, row: str, column: str, words: str
) -> None:
    path = _csv(tmp_path / "bad.csv", f"gate,direction,count,{header}\n{row}\n")
    with pytest.raises(UserError) as err:
        load_scenario(MINIMAL, [f"run.initial_state={path}"])
    problem = err.value.problems[0]
    assert problem.file == str(path) and problem.path == column and words in problem.message
    assert problem.line in (1, 2)


def test_the_path_is_relative_to_the_scenario_file_and_a_missing_file_is_named(tmp_path: Path) -> None:
    path = _tiny(tmp_path, 1, "gate,direction,count,class\ng,export,2,truck\n")
    assert load_scenario(path).scenario.run.initial_state.trucks == 2  # state.csv beside tiny.yaml
    (tmp_path / "state.csv").unlink()
    with pytest.raises(UserError, match="file not found: give a state file"):
        load_scenario(path)


def test_forecast_command_refuses_a_bad_state_before_running(tmp_path: Path, capsys) -> None:
    bad = _csv(tmp_path / "bad.csv", "gate,direction,count\nhuu_nghi,export,many\n")
    code = main(
        [
            "forecast",
            str(MINIMAL),
            "--state",
            str(bad),
            "--start",
            "2021-06-01T00:00",
            "--days",
            "1",
            "--results-root",
            str(tmp_path / "r"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "bad.csv" in err and "line 2" in err and "count" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_backlog_state_at_writes_the_runs_state_as_a_state_file(tmp_path: Path, capsys) -> None:
    """The state written from a saved run holds exactly the trucks waiting then (the backlog series'
    count), by place; read back as run.initial_state it places them all."""
    root = tmp_path / "results"
    code = main(
        [
            "run",
            str(MINIMAL),
            "--set",
            "run.horizon=72",
            "--set",
            "run.warmup=0",
            "--replications",
            "2",
            "--jobs",
            "1",
            "--results-root",
            str(root),
            "--label",
            "r",
        ]
    )
    assert code == 0
    folder = root / "lang_son_minimal" / "r"
    capsys.readouterr()
    assert (
        main(
            [
                "backlog",
                str(folder),
                "--state-at",
                "2021-06-02T12:00",
                "--replication",
                "1",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    path = _csv(tmp_path / "state.csv", text)
    rows = pd.read_csv(path)
    from sim.store.reader import load_run

    series = load_run(folder).table("backlog_series", replication=1)
    waiting = value_at(group_steps(series), np.array([36.0]))[0]
    assert rows["count"].sum() == waiting > 0
    s = load_scenario(
        MINIMAL,
        ["run.start=2021-06-02T12:00:00", "run.horizon=24", "run.warmup=0", f"run.initial_state={path}"],
    ).scenario
    t = run_replication(s, replication_seed(1, 0))
    assert (t.trucks["arrival"] <= 0).sum() == waiting  # every one placed (arrivals come after time 0)
    for args, option in (
        (["--state-at", "2021-07-01T00:00"], "--state-at"),
        (["--state-at", "noon"], "--state-at"),
        (["--state-at", "2021-06-02T12:00", "--replication", "5"], "--replication"),
    ):
        assert main(["backlog", str(folder), *args]) == 2
        assert option in capsys.readouterr().err


def test_a_starting_truck_keeps_the_patience_it_has_left(tmp_path: Path) -> None:
    """Trucks that have already waited 30 h with exponential patience (mean 10 h) are still there, so
    their patience exceeds 30 h; memorylessness makes what is left of it exponential with mean 10 h. With
    one server busy for 1000 h, every other truck gives up when its patience ends: the mean of those
    times is 10 h within a 99% interval (drawing patience without the condition would have them all give
    up at once, at time 0)."""
    path = _tiny(tmp_path, 1, "gate,direction,count,class,waited_h\ng,export,400,truck,30\n")
    data = yaml.safe_load(path.read_text())
    data["gates"]["g"]["export"]["stages"]["s"]["service"] = {"dist": "deterministic", "value": 1000}
    data["gates"]["g"]["export"]["reneging"] = {"patience_h": {"dist": "exponential", "mean": 10}}
    path.write_text(yaml.safe_dump(data))
    s = load_scenario(path).scenario
    t = run_replication(s, replication_seed(4, 0)).trucks
    gone = t[(t["gate"] == "g") & (t["status"] == "turned_back")]
    assert len(gone) == 399  # all but the one in service
    left = gone["exit"].to_numpy()
    half = stats.t.ppf(0.995, len(left) - 1) * left.std(ddof=1) / np.sqrt(len(left))
    assert abs(left.mean() - 10.0) < half and left.min() > 0.0


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_large_state_is_saved_beside_the_run_and_resumes(tmp_path: Path) -> None:
    """A state of thousands of trucks (one row each, as `backlog --state-at` writes) would make the run's
    resolved scenario.yaml larger than a scenario file may be: it is saved as initial_state.csv beside
    it, the folder reads back, and --resume finds the same scenario."""
    from sim.cli import main as cli_main

    rows = ["gate,direction,count,arrived"]
    rows += [f"huu_nghi,export,1,2021-06-0{1 + k % 3}T{k % 24:02d}:{k % 60:02d}" for k in range(6000)]
    state = tmp_path / "state.csv"
    state.write_text("\n".join(rows) + "\n", encoding="utf-8")
    scenario = tmp_path / "with_state.yaml"
    scenario.write_text(
        f"extends: {SCENARIOS / 'lang_son_minimal.yaml'}\nname: with_state\n"
        "run: {start: 2021-06-04T00:00:00, horizon: 24, warmup: 0, initial_state: state.csv}\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    common = ["run", str(scenario), "--jobs", "1", "--out", str(out)]
    assert cli_main([*common, "--replications", "1"]) == 0
    assert (out / "initial_state.csv").is_file() and (out / "scenario.yaml").stat().st_size < 100_000
    assert cli_main([*common, "--replications", "2", "--resume"]) == 0
