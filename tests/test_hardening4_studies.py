"""Hardening, round 4 (issue 27), the studies' rows: limits checked before work (a huge --samples, a huge
starting state, a disk that cannot hold the study), every interrupted study rerun as told, no study
folder inside another folder, a state whose dates are far from its time, and time estimates that are
stable.

Each test names the row of the issue's table it covers. Runs are tiny (the minimal Lang Son scenario or
an M/M/3 queue over a few hours); every refusal is checked to come before anything is written.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import UserError
from sim.model.size import estimate
from sim.scenario import load_scenario
from sim.scenario.state import MAX_ROWS
from sim.studies.forecast import forecast
from sim.studies.options import StudyOptions
from tests.conftest import SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"
MMC = SCENARIOS / "examples" / "mmc.yaml"


def _state(tmp_path: Path, text: str, name: str = "state.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- row 6: the state's trucks count against --max-trucks; huge states refused at once -------------------


def test_row6_state_trucks_count_in_the_size_estimate(tmp_path: Path) -> None:
    state = _state(tmp_path, "gate,direction,count\nhuu_nghi,export,1000\nTan Thanh,export,500\n")
    bare = load_scenario(MINIMAL, ["run.horizon=24", "run.warmup=0"]).scenario
    with_state = load_scenario(
        MINIMAL, ["run.horizon=24", "run.warmup=0", f'run.initial_state="{state}"']
    ).scenario
    assert estimate(with_state).trucks == pytest.approx(estimate(bare).trucks + 1500)
    assert estimate(with_state).truck_stages > estimate(bare).truck_stages + 1500  # every flow has stages


def test_row6_forecast_state_counts_against_max_trucks(tmp_path: Path, capsys) -> None:
    state = _state(tmp_path, "gate,direction,count\nhuu_nghi,export,1000\n")
    root = tmp_path / "results"
    argv = ["forecast", str(MINIMAL), "--state", str(state), "--start", "2021-06-01T12:00", "--days", "0.5"]
    code = main([*argv, "--max-trucks", "200", "--results-root", str(root), "--replications", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert "1,000 trucks" in err and "--max-trucks" in err and str(state) in err
    assert not root.exists()  # refused before anything was written


def test_row6_a_state_of_a_billion_trucks_is_refused_at_once(tmp_path: Path) -> None:
    state = _state(tmp_path, "gate,direction,count\nhuu_nghi,export,1000000000\n")
    began = time.monotonic()
    with pytest.raises(UserError, match="1,000,000,000 trucks"):
        forecast(
            MINIMAL,
            StudyOptions(replications=2, jobs=1, root=tmp_path / "results"),
            state=state,
            start="2021-06-01T12:00",
            days=1,
        )
    assert time.monotonic() - began < 20
    assert not (tmp_path / "results").exists()


def test_row6_a_state_of_too_many_rows_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    rows = "huu_nghi,export,1\n" * (MAX_ROWS + 1)
    state = _state(tmp_path, "gate,direction,count\n" + rows)
    began = time.monotonic()
    with pytest.raises(UserError, match=f"{MAX_ROWS + 1:,} rows"):
        load_scenario(MINIMAL, [f'run.initial_state="{state}"'])
    assert time.monotonic() - began < 5  # parsing them would take seconds; counting lines does not


# --- row 11: a state far from its time is refused, naming the gap ------------------------------------------


@pytest.mark.parametrize(
    ("rows", "start", "field", "words"),
    [
        ("huu_nghi,export,10,,2021-12-19T08:00\n", "2030-01-01T00:00", "arrived", "8 years"),
        ("huu_nghi,export,10,,1900-01-01T00:00\n", "2021-12-20T12:00", "arrived", "122 years"),
        ("huu_nghi,export,10,1e12,\n", "2021-12-20T12:00", "waited_h", "1e+12 hours"),
    ],
)
def test_row11_a_wait_of_years_is_refused_with_the_gap(
    tmp_path: Path, rows: str, start: str, field: str, words: str
) -> None:
    state = _state(tmp_path, "gate,direction,count,waited_h,arrived\n" + rows)
    with pytest.raises(UserError) as caught:
        forecast(
            MINIMAL,
            StudyOptions(replications=2, jobs=1, root=tmp_path / "results"),
            state=state,
            start=start,
            days=1,
        )
    problem = caught.value.problems[0]
    assert problem.path == field and problem.line == 2 and problem.file == str(state)
    assert words in problem.message and "--start" in problem.message
    assert not (tmp_path / "results").exists()


def test_row11_a_wait_of_weeks_is_accepted(tmp_path: Path) -> None:
    state = _state(tmp_path, "gate,direction,count,waited_h,arrived\nhuu_nghi,export,3,,2021-11-20T08:00\n")
    s = load_scenario(MINIMAL, ["run.start=2021-12-20T12:00", f'run.initial_state="{state}"']).scenario
    assert s.run.initial_state is not None and s.run.initial_state.trucks == 3


@pytest.mark.parametrize(("arrived", "warned"), [("2021-11-20T08:00", True), ("2021-12-20T09:30", False)])
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_row11_a_state_days_older_than_start_is_warned_with_the_gap(
    tmp_path: Path, capsys, arrived: str, warned: bool
) -> None:
    """The family of row 11 below the refusal: a state whose newest truck arrived weeks before --start is
    accepted (a truck may wait that long) but said, with the gap: it was probably read on another day."""
    state = _state(tmp_path, f"gate,direction,count,waited_h,arrived\nhuu_nghi,export,3,,{arrived}\n")
    command = ["forecast", str(MINIMAL), "--state", str(state), "--start", "2021-12-20T12:00", "--days", "1"]
    out = tmp_path / "f"
    assert main([*command, "--replications", "2", "--jobs", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("arrived 30.2 days before --start 2021-12-20 12:00" in err) is warned, err


# --- row 8: no study writes inside another results folder ---------------------------------------------------

TINY_MMC = ["--set", "run.horizon=20", "--set", "run.warmup=2", "--replications", "1", "--jobs", "1"]


@pytest.fixture
def one_run(tmp_path: Path) -> Path:
    """A finished run of the M/M/3 queue (one short replication)."""
    folder = tmp_path / "results" / "mmc" / "x"
    assert main(["run", str(MMC), *TINY_MMC, "--out", str(folder), "-q"]) == 0
    return folder


@pytest.mark.parametrize(
    "command",
    [
        ["run", str(MMC), *TINY_MMC],
        ["sweep", str(MMC), "--grid", "run.seed=1,2", *TINY_MMC],
        ["compare", str(MMC), str(MMC), *TINY_MMC],
        ["uncertainty", str(SCENARIOS / "lang_son_minimal.yaml"), "--samples", "2"],
    ],
    ids=["run", "sweep", "compare", "uncertainty"],
)
@pytest.mark.parametrize("inside", ["trucks/sub", "sub", "trucks"])
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_row8_out_inside_another_results_folder_is_refused(
    one_run: Path, capsys, command: list[str], inside: str
) -> None:
    import pandas as pd

    before = sorted(p.relative_to(one_run) for p in one_run.rglob("*"))
    out = one_run / inside
    code = main([*command, "--out", str(out), "--results-root", str(one_run.parent.parent)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "inside the results folder" in err and str(one_run) in err
    assert sorted(p.relative_to(one_run) for p in one_run.rglob("*")) == before  # nothing written
    assert len(pd.read_parquet(one_run / "trucks")) > 0  # the run's tables still read back


@pytest.mark.parametrize(
    "command",
    [["plot", "--kind", "clearance"], ["animate", "--frame", "2021-01-01"]],
    ids=["plot", "animate"],
)
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_row8_figures_are_never_written_among_a_folders_tables(
    one_run: Path, capsys, command: list[str]
) -> None:
    """The family of row 8: plot --out and animate --out put files too; among a run's tables a PNG makes the
    table unreadable. Its plots/ folder (the default) stays welcome."""
    import pandas as pd

    before = sorted(p.relative_to(one_run) for p in one_run.rglob("*"))
    out = one_run / "trucks" / ("sub" if command[0] == "plot" else "map.png")
    code = main([command[0], str(one_run), *command[1:], "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "inside the tables of the results folder" in err and "trucks/" in err
    assert sorted(p.relative_to(one_run) for p in one_run.rglob("*")) == before
    assert len(pd.read_parquet(one_run / "trucks")) > 0
    assert main(["plot", str(one_run), "--kind", "clearance", "--out", str(one_run / "plots"), "-q"]) == 0


def test_row8_a_run_resumed_into_its_own_folder_is_not_refused(one_run: Path) -> None:
    assert StudyOptions(out=one_run).out == one_run
    assert main(["run", str(MMC), *TINY_MMC, "--out", str(one_run), "--resume", "-q"]) == 0


# --- row 2: a huge --samples refused at once; every study states its disk estimate, refuses a full disk


def _uncertain(tmp_path: Path) -> Path:
    path = tmp_path / "mmc_uncertain.yaml"
    path.write_text(
        f"extends: {MMC}\nname: mmc_uncertain\nrun: {{horizon: 20, warmup: 2}}\n"
        "uncertain:\n  gates.gate.export.stages.service.service.mean: {low: 0.5, high: 0.6, why: a test}\n"
    )
    return path


@pytest.mark.parametrize("samples", ["1000000000", "1000000"])
def test_row2_huge_samples_are_refused_at_once_with_work_and_disk(
    tmp_path: Path, capsys, samples: str
) -> None:
    root = tmp_path / "results"
    began = time.monotonic()
    code = main(["uncertainty", str(_uncertain(tmp_path)), "--samples", samples, "--results-root", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - began < 20
    assert f"{int(samples):,} input sets" in err and "trucks" in err and "on disk" in err
    assert "--samples" in err and "Traceback" not in err
    assert not root.exists()


def test_row2_the_disk_estimate_holds_a_finished_run(tmp_path: Path) -> None:
    from sim.model.size import disk_bytes

    folder = tmp_path / "run"
    assert (
        main(
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
                "--out",
                str(folder),
                "-q",
            ]
        )
        == 0
    )
    used = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    s = load_scenario(MINIMAL, ["run.horizon=72", "run.warmup=0"]).scenario
    assert used <= disk_bytes(s, 2) <= 4 * used  # an upper bound, not a wild one


STUDIES = {
    "run": ["run", str(MMC), *TINY_MMC],
    "sweep": ["sweep", str(MMC), "--grid", "run.seed=1,2", *TINY_MMC],
    "compare": ["compare", str(MMC), str(MMC), *TINY_MMC, "--replications", "2"],
}


@pytest.mark.parametrize("study", [*STUDIES, "uncertainty", "forecast"])
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_row2_every_study_states_its_disk_estimate_and_refuses_a_full_disk(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, study: str
) -> None:
    import shutil
    from collections import namedtuple

    if study == "uncertainty":
        command = [
            "uncertainty",
            str(_uncertain(tmp_path)),
            "--samples",
            "2",
            "--replications",
            "1",
            "--jobs",
            "1",
        ]
    elif study == "forecast":
        state = _state(tmp_path, "gate,direction,count\nhuu_nghi,export,20\n")
        command = [
            "forecast",
            str(MINIMAL),
            "--state",
            str(state),
            "--start",
            "2021-06-01T12:00",
            "--days",
            "0.25",
            "--replications",
            "2",
            "--jobs",
            "1",
        ]
    else:
        command = STUDIES[study]
    out = tmp_path / "out"
    usage = namedtuple("usage", "total used free")
    real = shutil.disk_usage
    monkeypatch.setattr("sim.store.space.shutil.disk_usage", lambda p: usage(10**6, 10**6 - 5000, 5000))
    command = [*command, "--results-root", str(tmp_path / "results")]  # compare keeps its runs there
    code = main([*command, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "free on this disk" in err and "5 kB free" in err and "Traceback" not in err
    assert not any(p.suffix == ".parquet" for p in tmp_path.rglob("*"))  # no replication ran
    monkeypatch.setattr("sim.store.space.shutil.disk_usage", real)
    code = main([*command, "--out", str(tmp_path / "out2")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "on disk (" in err and "free)" in err  # stated before it ran


# --- row 3: an interrupted study is rerun as told, reusing its finished replications; list shows it --------


def _listed(root: Path, capsys) -> dict[str, tuple[str, str]]:
    """``list --format csv``: folder -> (kind, state)."""
    import io

    import pandas as pd

    capsys.readouterr()
    assert main(["list", "--results-root", str(root), "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    rows = zip(table["folder"], table["kind"], table["state"], strict=True)
    return {str(Path(f).resolve()): (k, s) for f, k, s in rows}


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, finished: int) -> None:
    """Ctrl-C (KeyboardInterrupt in the parent) once ``finished`` replications have finished."""
    from sim.present.progress_bars import ProgressBars

    real = ProgressBars.advance
    seen = [0]

    def advance(self, bar: int) -> None:
        real(self, bar)
        seen[0] += 1
        if seen[0] == finished:
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressBars, "advance", advance)


def _printed_command(err: str) -> list[str]:
    import shlex

    line = err[err.index("bordersim ") :].split("\n")[0].rstrip(". )")
    return shlex.split(line)


def _files(folder: Path) -> dict[Path, int]:
    """Every replication's Parquet file and when it was written."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob("rep-*.parquet")}


def _assumed(tmp_path: Path) -> Path:
    """The M/M/3 queue with two numbers marked as assumptions (what sensitivity varies)."""
    path = tmp_path / "mmc_assumed.yaml"
    path.write_text(
        f"extends: {MMC}\nname: mmc_assumed\n"
        "gates:\n  gate:\n    export:\n      stages:\n        service:\n"
        "          servers: 3                               # assumption: a test's\n"
        "          service: {dist: exponential, mean: 0.5}  # assumption: a test's\n"
    )
    return path


def _study_commands(tmp_path: Path) -> dict[str, list[str]]:
    state = _state(tmp_path, "gate,direction,count\nhuu_nghi,export,30\n")
    mmc = ["--set", "run.horizon=30", "--set", "run.warmup=2", "--jobs", "1"]
    return {
        "forecast": ["forecast", str(MINIMAL), "--state", str(state), "--start", "2021-06-01T12:00",
                     "--days", "0.5", "--replications", "4", "--jobs", "1"],
        "sweep": ["sweep", str(MMC), "--grid", "run.seed=1,2", "--replications", "2", *mmc],
        "uncertainty": ["uncertainty", str(_uncertain(tmp_path)), "--samples", "4", "--replications", "1",
                        "--jobs", "1"],
        "optimise": ["optimise", str(MMC), "--var", "gates.gate.export.stages.service.servers=3..4",
                     "--target", "mean_wait_h<=100", "--replications", "2", "--final-replications", "2",
                     *mmc],
        "sensitivity": ["sensitivity", str(_assumed(tmp_path)), "--replications", "2", *mmc],
    }  # fmt: skip


@pytest.mark.parametrize("study", ["forecast", "sweep", "uncertainty", "optimise", "sensitivity"])
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_row3_every_interrupted_study_is_finished_by_the_printed_command(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, study: str
) -> None:
    root = tmp_path / "results"
    command = [*_study_commands(tmp_path)[study], "--results-root", str(root)]
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 2)
        code = main(command)
    err = capsys.readouterr().err
    assert code == 130, err
    folders = [f for f in root.glob("*/*") if f.is_dir()]
    assert len(folders) == 1
    folder = folders[0].resolve()
    assert _listed(root, capsys)[str(folder)] == (study, "partial")  # list shows the partial study
    kept = _files(folder)
    assert len(kept) >= 2
    again = _printed_command(err)
    assert again[:2] == ["bordersim", study]
    code = main(again[1:])
    assert code == 0, capsys.readouterr().err
    assert [f for f in root.glob("*/*") if f.is_dir()] == folders  # the same folder, finished
    assert _listed(root, capsys)[str(folder)] == (study, "complete")
    after = _files(folder)
    assert all(after[p] == t for p, t in kept.items())  # the finished replications were reused


@pytest.mark.slow  # a real process killed mid-forecast, then rerun (about 12 s); .ci/run runs it
def test_row3_a_forecast_killed_outright_is_finished_by_the_same_command(tmp_path: Path, capsys) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    root = tmp_path / "results"
    command = [*_study_commands(tmp_path)["forecast"], "--results-root", str(root), "--label", "now"]
    command[command.index("--replications") + 1] = "12"
    command[command.index("--days") + 1] = "2"
    folder = root / "lang_son_minimal" / "forecast-now"
    child = subprocess.Popen(
        [sys.executable, "-m", "sim", *command],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(folder.glob("points/point-0000/metrics/rep-*.parquet"))) < 2:
            assert child.poll() is None and time.monotonic() < deadline, "no replication finished"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    assert not (folder / "forecast.csv").exists()
    assert _listed(root, capsys)[str(folder.resolve())] == ("forecast", "partial")
    kept = _files(folder)
    assert main(command) == 0, capsys.readouterr().err  # the same command, as typed
    assert (folder / "forecast.csv").is_file()
    after = _files(folder)
    assert all(after[p] == t for p, t in kept.items() if p in after)
    assert set(kept) <= set(after)


# --- row 16: a time left is shown only once it is stable, or as a range ----------------------------------


def _minutes(text: str) -> tuple[float, ...]:
    """The h:mm:ss figures of a time-left text, in seconds."""
    import re

    return tuple(int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in re.findall(r"(\d+):(\d\d):(\d\d)", text))


def test_row16_no_wild_estimate_from_a_slow_start() -> None:
    """20 s of start-up at a trickle (workers starting), then a steady half replication a second, 60 in
    all (about two minutes): the first readings say nothing, a single figure is never far from the truth,
    and once steady the figure is given."""
    from sim.present.progress_bars import Estimate

    total, shown = 60.0, []
    estimate = Estimate()
    for tenth in range(0, 1400):
        t = tenth / 10
        done = min(total, 0.01 * t if t < 20 else 0.2 + 0.5 * (t - 20))
        if done >= total:
            break
        truth = (total - done) / 0.5
        shown.append((t, truth, estimate.update(t, done, total - done)))
    assert all(text == "" for t, _, text in shown if t < 3)  # nothing from the first moments
    singles = [(t, truth, _minutes(text)[0]) for t, truth, text in shown if text.startswith("about")]
    assert singles, "never a stable estimate"
    for t, truth, said in singles:
        assert abs(said - truth) <= 0.25 * truth + 2, (t, truth, said)
    assert any(t < 30 and " to " in text for t, _, text in shown)  # the change of pace is a range
    steady = [text for t, _, text in shown if 40 <= t <= 100]
    assert all(text.startswith("about") for text in steady)


@pytest.mark.parametrize("study", ["forecast", "uncertainty", "optimise", "sensitivity"])
def test_row3_rerunning_never_writes_into_a_folder_of_other_files(tmp_path: Path, capsys, study: str) -> None:
    """The same command reuses its own folder; a folder of the user's own files is still refused."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    command = [*_study_commands(tmp_path)[study], "--results-root", str(tmp_path / "results")]
    assert main([*command, "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "--out" in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_row2_sibling_a_huge_morris_study_is_refused_at_once(tmp_path: Path, capsys) -> None:
    """The family of row 2: sensitivity --trajectories 10^8 built every trajectory first (it ran until
    killed); now its points x replications are checked like --samples, before anything is sampled."""
    started = time.monotonic()
    command = ["sensitivity", str(SCENARIOS / "lang_son_minimal.yaml"), "--method", "morris"]
    code = main([*command, "--trajectories", "100000000", "--results-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--trajectories" in err and "trucks" in err and "on disk" in err
    assert time.monotonic() - started < 60 and not any(tmp_path.iterdir())
