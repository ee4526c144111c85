"""``bordersim backlog``: the day-by-day count of a saved run, checked against the truck table.

The command reads the exact ``backlog_series``; here the same daily counts are rebuilt from the per-truck
table alone (a truck is waiting at time T if it arrived at its gate by T and has not left by T), so a
wrong reading time, group or replication mix-up in the command would show."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from scipy import stats

from sim.cli import main
from sim.present.terminal import print_backlog
from sim.store.reader import load_run
from tests.test_backlog_exact import SCENARIO


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("backlog_command")
    scenario = folder / "backlog_check.yaml"
    scenario.write_text(SCENARIO)
    assert (
        main(["-q", "run", str(scenario), "--replications", "3", "--jobs", "1", "--out", str(folder / "run")])
        == 0
    )
    return folder / "run"


def waiting_from_trucks(trucks: pd.DataFrame, times: np.ndarray, direction: str) -> np.ndarray:
    """Trucks of ``direction`` (all gates) that had arrived and not left, at each of ``times``."""
    mine = trucks[trucks["direction"] == direction]
    arrival = mine["arrival"].to_numpy()[:, None]
    gone = mine["exit"].fillna(np.inf).to_numpy()[:, None]
    return ((arrival <= times[None, :]) & (times[None, :] < gone)).sum(0)


def test_daily_counts_equal_the_truck_table_at_the_reading_time(saved: Path, capsys) -> None:
    assert main(["backlog", str(saved), "--direction", "export", "--at", "07:30", "--format", "csv"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    run = load_run(saved)
    days = [datetime.fromisoformat(d) for d in got["date"]]
    times = np.array([(d + timedelta(hours=7.5) - run.start).total_seconds() / 3600 for d in days])
    per_rep = [waiting_from_trucks(run.table("trucks", replication=r), times, "export") for r in range(3)]
    for i in range(len(days)):
        values = np.array([float(p[i]) for p in per_rep])
        mean = values.mean()
        assert got.loc[i, "mean"] == pytest.approx(mean)
        # a count: the quasi-Poisson score interval, the roots of (mean - mu)^2 = t^2 (var / mean) mu / n
        c = stats.t.ppf(0.975, len(values) - 1) ** 2 * values.var(ddof=1) / mean / len(values)
        low, high = sorted(np.roots([1.0, -(2 * mean + c), mean**2]).real)
        assert got.loc[i, ["ci_low", "ci_high"]].tolist() == pytest.approx([low, high])
    assert len(days) == 4 and max(max(p) for p in per_rep) > 0  # four days of 96 h, trucks do wait


def test_table_shows_every_day_and_each_replications_exact_peak(saved: Path, capsys) -> None:
    assert main(["backlog", str(saved), "--gate", "a", "--count", "outside", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "trucks outside at 12:00, a, both directions" in out
    start = load_run(saved).start
    assert all(str((start + timedelta(days=d)).date()) in out for d in range(4))
    assert "exact peak of each replication" in out and "95% quasi-Poisson interval" in out
    assert not re.search(r"\(-\d", out)  # counts of trucks: no interval below 0


def test_a_gate_the_run_lacks_is_refused(saved: Path, capsys) -> None:
    assert main(["backlog", str(saved), "--gate", "zz"]) == 2
    err = capsys.readouterr().err
    assert "--gate" in err and "'zz'" in err and "Traceback" not in err
    assert main(["backlog", str(saved), "--at", "25:00"]) == 2


def test_one_replication_says_it_has_no_interval() -> None:
    days = pd.DataFrame(
        {
            "date": ["2022-01-01"],
            "n": [1],
            "mean": [5.0],
            "half_width": [np.nan],
            "peak_mean": [7.0],
            "peak_half_width": [np.nan],
        }
    )
    peaks = pd.DataFrame({"replication": [0], "peak": [7.0], "time": [3.0], "date": ["2022-01-01"]})
    console = Console(file=io.StringIO(), width=80)
    print_backlog(days, peaks, "waiting", "12:00", "all gates", console=console)
    text = console.file.getvalue()
    assert "1 replication: no interval" in text and "±" not in text
