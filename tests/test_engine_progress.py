"""Progress that moves: the model reports simulated time as it goes, the runner forwards it from worker
processes, and the terminal monitor prints a plain line when stderr is not a terminal."""

from __future__ import annotations

import math

import pytest

from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.present.terminal import ProgressBars
from sim.runner.backends import Backend
from sim.runner.progress import Bar
from sim.studies.options import StudyOptions
from sim.studies.run import run_scenario
from tests.conftest import SCENARIOS, scenario


def test_the_model_reports_simulated_time_once_a_day_up_to_the_horizon() -> None:
    s = scenario("lang_son_minimal.yaml", "run.horizon=100")
    seen: list[float] = []
    run_replication(s, replication_seed(1, 0), progress=seen.append)
    assert len(seen) == math.ceil(100 / 24)
    assert seen == sorted(seen) and seen[0] == 24.0 and seen[-1] == 100.0


def test_the_same_tables_with_and_without_progress() -> None:
    s = scenario("lang_son_minimal.yaml", "run.horizon=100")
    a = run_replication(s, replication_seed(1, 0))
    b = run_replication(s, replication_seed(1, 0), progress=lambda _t: None)
    for name, table in a.as_dict().items():
        assert table.equals(b.as_dict()[name]), name


class Recording:
    """A monitor that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, float]] = []

    def begin(self, bars: list[Bar]) -> None:
        self.calls.append(("begin", len(bars), 0.0))

    def advance(self, bar: int) -> None:
        self.calls.append(("advance", bar, 1.0))

    def running(self, bar: int, replications: float) -> None:
        self.calls.append(("running", bar, replications))


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_workers_report_progress_within_a_replication(tmp_path) -> None:
    monitor = Recording()
    # one replication of about two seconds on one worker: the parent looks every half second
    run_scenario(
        SCENARIOS / "lang_son_minimal.yaml",
        StudyOptions(
            overrides=("run.horizon=6000",),
            replications=1,
            backend=Backend(jobs=1),
            out=tmp_path / "run",
            monitor=monitor,
        ),
    )
    partial = [x for kind, _, x in monitor.calls if kind == "running" and 0.0 < x < 1.0]
    assert partial, monitor.calls  # the bar moved before the replication ended
    assert partial == sorted(partial)
    assert ("advance", 0, 1.0) in monitor.calls
    assert monitor.calls[-1] == ("running", 0, 0.0)  # nothing left running once it is done


def test_a_plain_line_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.present.terminal import configure_logging

    configure_logging(0)  # progress lines are shown (as the command line sets it)
    clock = [100.0]
    monkeypatch.setattr("sim.present.progress_bars._now", lambda: clock[0])
    with ProgressBars(line_every_s=0.0) as bars:
        bars.begin([Bar("base_2021_calibrated", 4)])
        for k in range(1, 7):  # a steady half replication a second
            clock[0] += 1.0
            bars.running(0, 0.5 * k)
    err = capsys.readouterr().err
    first = next(line for line in err.splitlines() if "0.5/4" in line)
    assert "left" not in first  # no guess from the first reading
    assert "base_2021_calibrated: 3.0/4 replications, about 0:00:02 left" in err
