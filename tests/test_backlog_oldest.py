"""``bordersim backlog --oldest``: the age of the oldest truck waiting, from the saved trucks table.

A hand-built table gives the answer by hand (arrivals, exits, a diverted truck keeping its province
arrival, a truck still inside at the horizon, a day with none waiting, two replications); a real run's
count of trucks waiting at noon, from the same rows, must equal the exact backlog series the model
recorded separately; the command prints the same days and numbers."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.backlog import daily, group_steps, oldest_by_replication, oldest_interval
from sim.analysis.stats import t_half_width
from sim.cli import main
from sim.store.reader import load_run
from tests.test_backlog_exact import SCENARIO

START = datetime(2022, 2, 14)
NAN = float("nan")


def hand_table() -> pd.DataFrame:
    rows = [
        # replication, gate, direction, arrival, origin_arrival, exit (h; NaN: inside at the horizon)
        (0, "a", "export", 2.0, 2.0, 40.0),  # waiting at the noons of days 0 and 1, gone at 40 h
        (0, "a", "export", 5.0, 5.0, NAN),  # never leaves: 7 h, 31 h, 55 h old at the three noons
        (0, "b", "export", 30.0, 1.0, 70.0),  # diverted from elsewhere: its age counts from hour 1
        (0, "a", "export", 1.0, 1.0, 30.0),  # its first row: left gate a at 30 h (in transit to b)
        (0, "a", "import", 0.0, 0.0, NAN),  # an import: not in the export series
        (1, "a", "export", 11.0, 11.0, 13.0),  # waiting at noon of day 0 only (1 h old)
    ]
    cols = ["replication", "gate", "direction", "arrival", "origin_arrival", "exit"]
    return pd.DataFrame(rows, columns=cols)


def test_the_oldest_truck_waiting_by_hand() -> None:
    per_rep = oldest_by_replication(hand_table(), START, 1.0, 72.0, direction="export")
    r0 = per_rep[per_rep["replication"] == 0]
    assert r0["date"].tolist() == [date(2022, 2, 14), date(2022, 2, 15), date(2022, 2, 16)]
    # day 0 noon: trucks from 1, 2, 5 h waiting -> oldest 11 h; day 1 noon (36 h): the 2 h (34 h old) and
    # 5 h (31 h) trucks and the diverted one at b (province arrival at 1 h: 35 h); day 2 noon (60 h): the
    # 5 h truck (55 h) and the diverted one (59 h)
    assert r0["waiting"].tolist() == [3, 3, 2]
    assert r0["oldest_days"].tolist() == pytest.approx([11 / 24, 35 / 24, 59 / 24])
    r1 = per_rep[per_rep["replication"] == 1]
    assert r1["waiting"].tolist() == [1, 0, 0] and r1["oldest_days"].tolist() == pytest.approx([1 / 24, 0, 0])
    at_b = oldest_by_replication(hand_table(), START, 1.0, 72.0, gate="b", direction="export")
    assert at_b[at_b["replication"] == 0]["oldest_days"].tolist() == pytest.approx([0, 35 / 24, 59 / 24])
    days = oldest_interval(hand_table(), START, 1.0, 72.0, direction="export")
    assert days.loc[0, "mean"] == pytest.approx((11 / 24 + 1 / 24) / 2)
    assert days.loc[0, "half_width"] == pytest.approx(t_half_width([11 / 24, 1 / 24]))
    assert days["max_days"].tolist() == pytest.approx([11 / 24, 35 / 24, 59 / 24])


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("backlog_oldest")
    scenario = folder / "backlog_check.yaml"
    scenario.write_text(SCENARIO)
    args = ["-q", "run", str(scenario), "--replications", "2", "--jobs", "1", "--out", str(folder / "run")]
    assert main(args) == 0
    return folder / "run"


def test_the_trucks_it_reads_are_the_backlog_series_count(saved: Path) -> None:
    run = load_run(saved)
    trucks = run.table("trucks")
    series = run.table("backlog_series")
    per_rep = oldest_by_replication(trucks, run.start, run.unit_hours, run.horizon, direction="export")
    for rep in run.replications:
        steps = group_steps(series[series["replication"] == rep], direction="export")
        exact = daily(steps, run.start, run.unit_hours, run.horizon, "waiting", 12.0)["at"].to_numpy()
        mine = per_rep.loc[per_rep["replication"] == rep, "waiting"].to_numpy()
        assert np.array_equal(mine, exact)
    assert (per_rep["oldest_days"] > 0).any()


def test_the_command_prints_them(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backlog", str(saved), "--direction", "export", "--oldest", "--format", "csv"]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    run = load_run(saved)
    expected = oldest_interval(
        run.table("trucks"), run.start, run.unit_hours, run.horizon, direction="export"
    )
    assert printed["mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy())
    assert main(["backlog", str(saved), "--oldest"]) == 0
    assert "oldest truck waiting" in capsys.readouterr().out
    assert main(["backlog", str(saved), "--oldest", "--count", "outside"]) == 2
    assert "--oldest" in capsys.readouterr().err
