"""Issue 29 row 5 on the page: "A planner must see [each policy's swing] without running it by hand."

The what-if's run controls offer the swing (``compare --swing``); the choice reaches the job's spec, its
rerun command and its size (each swing run counted by the same size estimate as the policies, checked
against the scenario loaded with that value set by hand); the job runs the swing and counts it in its
progress; the effect panel then shows the swing sentence and the ranking's swing column, and a job run
without it (an older job folder, whose spec has no swing field, among them) shows neither.

Scenarios are the toys of tests/test_robust_study.py: ``two`` has its own uncertain arrival rate (0.3 ..
0.7), ``same`` has no assumption of its own, the base's uncertain service mean is shared (never swung).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from sim.app import jobs
from sim.app.background import run_job
from sim.app.policy import rerun_command
from sim.app.windows import windows
from sim.runner.progress import Bar
from sim.scenario import load_scenario
from sim.studies.run import expected_trucks
from tests.conftest import ROOT
from tests.test_robust_study import RATE, toys

COLUMN = "Δ over its own assumptions' ranges (least .. most favourable)"
SWING_WORDS = "two's change of"
REPS = 3


def _trucks(path: Path, overrides: list[str]) -> float:
    return expected_trucks(load_scenario(path, overrides))


@pytest.fixture
def toy_scenarios(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """The toys in their own scenarios folder (the page lists every YAML file under it)."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return (folder, *toys(folder))


def _page(monkeypatch: pytest.MonkeyPatch, scenarios: Path, results: Path, job: str | None = None):
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(
        sys, "argv", ["page.py", "--results-root", str(results), "--scenarios", str(scenarios)]
    )
    app = AppTest.from_file(str(ROOT / "sim" / "app" / "page.py"), default_timeout=90)
    if job is not None:
        app.query_params["job"] = job
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_rerun_command_asks_for_the_swing_only_when_ticked() -> None:
    from sim.cli import build_parser

    with_swing = rerun_command(Path("b.yaml"), None, [], 4, 7, [Path("c.yaml")], swing=True)
    assert with_swing.split()[-1] == "--swing"
    assert "--swing" not in rerun_command(Path("b.yaml"), None, [], 4, 7, [Path("c.yaml")])
    args = build_parser().parse_args(with_swing.split()[1:])  # the command line knows the flag
    assert args.swing is True


def test_the_checkbox_reaches_the_spec_the_rerun_command_and_the_size(
    monkeypatch: pytest.MonkeyPatch, toy_scenarios, tmp_path: Path
) -> None:
    scenarios, base, _, two = toy_scenarios
    started: list[jobs.JobSpec] = []
    monkeypatch.setattr(jobs, "start", lambda folder, spec: started.append(spec))
    app = _page(monkeypatch, scenarios, tmp_path / "results")
    assert app.selectbox(key="base").value == "base.yaml"
    app.multiselect(key="others").set_value(["two.yaml"]).run()
    box = app.checkbox(key="swing")
    assert box.value is False
    assert "twice more" in box.help and "own" in box.help
    assert not any("swing runs" in c.value for c in app.caption)
    box.check().run()
    assert not app.exception
    assert any("2 swing runs" in c.value for c in app.caption)  # two's rate at its low and high end
    app.button(key="run").click().run()
    assert not app.exception
    (spec,) = started
    assert spec.swing is True and spec.rerun.endswith("--swing")
    sets = list(spec.overrides)
    sizes = [_trucks(base, sets), _trucks(two, sets)]
    sizes += [_trucks(two, [*sets, f"{RATE}={rate}"]) for rate in (0.3, 0.7)]  # two.yaml's range, by hand
    assert spec.expected_trucks == pytest.approx(sum(sizes) * spec.replications)
    assert spec.expected_trucks > (sizes[0] + sizes[1]) * spec.replications  # the swing is counted


def test_the_progress_counts_the_swing_phase_from_the_start(tmp_path: Path) -> None:
    """The comparison, then the swing runs: the bar's total holds both from the start, so the fraction
    never falls when the swing phase begins, and the first phase's bars stay listed, done."""
    state = jobs.JobState(status=jobs.RUNNING)
    monitor = jobs.StateMonitor(tmp_path, state, later=4)
    monitor.begin([Bar("base", 2, 2), Bar("two", 2, 0)])
    assert state.total == 8 and state.fraction == 2 / 8 and state.reused == 2
    monitor.advance(1)
    monitor.advance(1)
    before = jobs.read_state(tmp_path).fraction
    monitor.begin([Bar("two with rate low", 2, 0), Bar("two with rate high", 2, 1)])
    after = jobs.read_state(tmp_path)
    assert after.total == 8 and after.done == 5 and after.fraction >= before
    assert after.reused == 3 and [b["title"] for b in after.bars][:2] == ["base", "two"]
    monitor.advance(0)
    assert jobs.read_state(tmp_path).bars[2]["done"] == 1  # the swing phase's own bar, not the base's


def _job(toy_scenarios, results: Path, name: str, swing: bool | None) -> Path:
    """A what-if of the saved policies 'same' and 'two' run through the page's job (None: an older
    job's spec, written without the swing field)."""
    _, base, same, two = toy_scenarios
    folder = results / f"whatif-20260101-000000-{name}"
    window = windows(load_scenario(base).scenario.run)[0]  # one the page offers: the form restores it
    spec = jobs.JobSpec(str(base), "", name, window.label, list(window.overrides), REPS, 5, str(results),
                        rerun_command(base, None, window.overrides, REPS, 5, [same, two], bool(swing)), 0.0,
                        [str(same), str(two)])  # fmt: skip
    if swing is None:
        data = asdict(spec)
        del data["swing"]
        folder.mkdir(parents=True)
        (folder / jobs.SPEC).write_text(json.dumps(data), encoding="utf-8")
    else:
        spec.swing = swing
        jobs.write_spec(folder, spec)
    assert run_job(folder) == 0, jobs.read_state(folder)
    return folder


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_job_with_swing_shows_its_sentence_and_column_and_one_without_shows_neither(
    monkeypatch: pytest.MonkeyPatch, toy_scenarios, tmp_path: Path
) -> None:
    scenarios = toy_scenarios[0]
    results = tmp_path / "results"
    swung = _job(toy_scenarios, results, "swung", swing=True)
    state = jobs.read_state(swung)
    assert state is not None and state.status == jobs.DONE
    assert (swung / "swing.csv").is_file()
    assert state.total == state.done == (3 + 2) * REPS  # base, same, two, two at its low and high end

    app = _page(monkeypatch, scenarios, results, swung.name)
    assert app.checkbox(key="swing").value is True  # the form filled with what the job ran
    assert not any("Stale" in w.value for w in app.warning)
    words = "\n".join(m.value for m in app.markdown)
    assert SWING_WORDS in words and "runs from" in words
    (ranking,) = [d.value for d in app.dataframe if COLUMN in d.value.columns]
    cells = dict(zip(ranking["scenario"], ranking[COLUMN], strict=True))
    assert cells["same"] == "-" and " .. " in cells["two"]

    old = _job(toy_scenarios, results, "old", swing=None)
    spec = jobs.read_spec(old)
    assert spec is not None and spec.swing is False  # an older job's spec still loads
    assert not (old / "swing.csv").exists()
    app = _page(monkeypatch, scenarios, results, old.name)
    assert app.checkbox(key="swing").value is False
    words = "\n".join(m.value for m in app.markdown)
    assert SWING_WORDS not in words and "Over the ranges" not in words
    frames = [d.value for d in app.dataframe]
    assert frames and not any(COLUMN in f.columns for f in frames)
