"""What the what-if page tells a planner (sim/app/guide.py), as plain Python: names of runs in the
address, whole numbers and percentages, the estimate and time left, contrast, lever names, Cancel."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from sim.app import guide, jobs
from sim.app.levers import Lever


def test_odd_and_long_job_names_are_refused_with_a_reason() -> None:
    assert guide.job_problem("whatif-20261204-221500-hn_customs_10") is None
    assert guide.job_problem("compare-base_2021_calibrated-china_cap_90") is None
    for bad in ("..", "../etc", "whatif-../../x", "/tmp", "whatif-a/b", "", "results"):
        assert guide.job_problem(bad), bad
    assert "at most 150" in guide.job_problem("whatif-" + "x" * 300)


def test_whole_numbers_are_refused_not_rounded_and_shares_are_percent() -> None:
    assert guide.count_value(8.0, False) == 8 and isinstance(guide.count_value(8.0, False), int)
    with pytest.raises(guide.Unreadable, match=r"whole number \(got 8.5\)"):
        guide.count_value(8.5, False)
    assert guide.count_value(None, True) is None
    with pytest.raises(guide.Unreadable):
        guide.count_value(None, False)
    assert guide.share_value(95) == pytest.approx(0.95)
    assert guide.share_shown(0.3) == pytest.approx(30.0)
    with pytest.raises(guide.Unreadable, match="0 to 100%"):
        guide.share_value(150)


def test_estimate_time_left_and_durations() -> None:
    assert guide.measured_speed([]) is None
    speed = guide.measured_speed([(10_000, 10.0), (30_000, 10.0), (0, 5.0)])
    assert speed is not None and speed.trucks_per_second == pytest.approx(2_000) and speed.runs == 2
    assert guide.expected_trucks([1000.0, 1000.0], 4) == 8000
    assert guide.time_left(0.25, 30.0) == pytest.approx(90.0)
    assert guide.time_left(0.0, 30.0) is None
    assert guide.duration_text(40) == "40 s" and guide.duration_text(600) == "10 min"
    assert guide.duration_text(3 * 3600) == "3.0 h"


def test_captions_meet_wcag_aa_and_the_contrast_formula_is_right() -> None:
    assert guide.contrast("#000000") == pytest.approx(21.0)
    assert guide.contrast("#ffffff") == pytest.approx(1.0)
    assert guide.contrast("#767676") == pytest.approx(4.54, abs=0.01)  # the known AA threshold grey
    assert guide.contrast(guide.CAPTION_COLOUR) >= 4.5


def test_messages_name_the_lever_as_labelled() -> None:
    lever = Lever(("gates", "huu_nghi", "export", "stages", "customs", "servers"), "Huu Nghi: export",
                  "customs: servers", "count", 8, "base_2021.yaml:120", "")  # fmt: skip
    text = guide.lever_message(lever, "must be at least 1 (got -2)")
    assert text == "Huu Nghi: export · customs: servers: must be at least 1 (got -2)"
    assert "gates." not in text
    assert "at the same time" in guide.help_for(lever) and "whole number" in guide.help_for(lever)


def test_the_form_key_tells_a_changed_form_apart() -> None:
    a = guide.form_key("b.yaml", "month January 2021", 4, 2021, {"x.servers": 10})
    assert a == guide.form_key("b.yaml", "month January 2021", 4, 2021, {"x.servers": 10})
    assert a != guide.form_key("b.yaml", "month January 2021", 4, 2021, {"x.servers": 11})
    assert a != guide.form_key("b.yaml", "month January 2021", 2, 2021, {"x.servers": 10})


def test_cancel_stops_the_job_and_says_so(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        jobs.write_state(tmp_path, jobs.JobState(status=jobs.RUNNING, pid=proc.pid, started=time.time()))
        assert jobs.cancel(tmp_path)
        proc.wait(timeout=10)
        state = jobs.read_state(tmp_path)
        assert state is not None and state.status == jobs.FAILED
        assert state.problems == ["cancelled from the page"]
        assert not jobs.cancel(tmp_path)  # no longer running
    finally:
        if proc.poll() is None:
            proc.kill()


def test_closures_round_trip_through_the_date_table() -> None:
    pytest.importorskip("streamlit", reason="the page's controls need the app extra: pip install -e '.[app]'")
    from sim.app import controls
    from sim.app.levers import CLOSURES, changed, levers
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    loaded = load_scenario(SCENARIOS / "lang_son" / "winter_2021_22.yaml")
    tables = [lv for lv in levers(loaded) if lv.kind == CLOSURES]
    assert any(lv.base for lv in tables)  # the winter replay has closures to show
    for lever in tables:
        rows = controls.shown(lever, lever.base)
        assert all(set(r) == set(controls.CLOSURE_COLUMNS) for r in rows)
        assert not changed(lever, controls.parse(lever, rows)), lever.dotted  # untouched: unchanged
    lever = tables[0]
    rows = controls.shown(lever, [])
    edits = {"added_rows": [{"start": "2021-06-03", "end": "2021-06-03", "stages": "china_side",
                             "reason": "a whole day", "only trucks with": "perishable=true"}]}  # fmt: skip
    value = controls.parse(lever, controls.apply_edits(rows, edits))
    assert value == [
        {
            "start": date(2021, 6, 3),
            "end": datetime(2021, 6, 4),
            "stages": ["china_side"],
            "reason": "a whole day",
            "when": {"perishable": True},
        }
    ]
    with pytest.raises(controls.Unreadable, match="row 1: end '3 June' is not a date"):
        controls.parse(lever, [{"start": "2021-06-03", "end": "3 June"}])


def test_the_saved_runs_browser_lists_changes_and_the_headline_effect(tmp_path: Path) -> None:
    import pandas as pd

    from sim.analysis.compare import comparison
    from sim.app.levers import levers
    from sim.app.runs import saved_runs
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    base_file = SCENARIOS / "lang_son_minimal.yaml"
    folder = tmp_path / "whatif-20261204-120000-more_customs"
    folder.mkdir()
    policy = folder / "more_customs.yaml"
    policy.write_text(
        f"extends: {base_file}\nname: more_customs\n"
        "gates: {huu_nghi: {export: {stages: {customs: {servers: 9}}}}}\n"
    )
    spec = jobs.JobSpec(str(base_file), str(policy), "more_customs", "month June 2021", [], 3, 1, "", "")
    jobs.write_spec(folder, spec)
    state = jobs.JobState(status=jobs.DONE, started=1_764_849_600.0, finished=1_764_849_630.0)
    jobs.write_state(folder, state)
    rows = [
        {"replication": r, "gate": "all", "direction": "all", "metric": "mean_clearance_h", "value": v}
        for r, v in enumerate([10.0, 12.0, 11.0])
    ]
    base = pd.DataFrame(rows)
    pol = base.assign(value=base["value"] - [1.0, 2.0, 1.5])
    comparison({"base": base, "more_customs": pol}, "base").to_csv(folder / "comparison.csv", index=False)
    table = saved_runs(tmp_path, lambda f: levers(load_scenario(f)))
    assert list(table["run"]) == [folder.name]
    row = table.iloc[0]
    assert row["levers changed"] == "Hữu Nghị: export · customs: servers = 9"
    assert row["effect"].startswith("mean clearance time -1.50 h (95% interval")
    assert row["replications"] == 3 and row["status"] == "done" and row["started"].endswith("UTC")


def test_the_rerun_command_names_every_policy_compared() -> None:
    from sim.app.policy import rerun_command

    text = rerun_command(Path("b.yaml"), Path("p.yaml"), ["run.horizon=744"], 4, 7, [Path("c.yaml")])
    assert text == "bordersim compare b.yaml p.yaml c.yaml --set run.horizon=744 --replications 4 --seed 7"


def test_the_page_estimate_of_a_replay_with_dated_arrivals_matches_its_run() -> None:
    """The winter replay's arrivals are dated schedules ("trucks a day" from a date): the page's size
    estimate (the run-size estimate) counts them, and agrees with the trucks a short run creates."""
    import numpy as np

    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from sim.app.page import scenario_trucks
    from tests.conftest import SCENARIOS, run, scenario

    overrides = ("run.horizon=96", "run.warmup=0")
    estimate = scenario_trucks(SCENARIOS / "lang_son/winter_2021_22.yaml", overrides)
    tables = run(scenario("lang_son/winter_2021_22.yaml", *overrides), seed=3)
    arrived = int((tables.trucks["diverted_from"] < 0).sum())  # diverted trucks are second rows
    assert arrived > 500  # four days of the winter's scheduled flow, not its bare class shares
    # a Poisson count: within 4 standard deviations of its mean
    assert abs(arrived - estimate) <= 4 * np.sqrt(estimate), (arrived, estimate)


def _done_job(root: Path, name: str, expected: float, seconds: float, trucks: float | None) -> None:
    folder = root / f"whatif-20261204-12000{name}-p{name}"
    folder.mkdir()
    spec = jobs.JobSpec("b.yaml", "p.yaml", f"p{name}", "a month", [], 2, 1, str(root), "", expected)
    jobs.write_spec(folder, spec)
    state = jobs.JobState(status=jobs.DONE, total=4, started=1_000.0, finished=1_000.0 + seconds)
    if trucks is not None:
        state.record_trucks(trucks)
    jobs.write_state(folder, state)


def test_the_speed_is_measured_on_the_trucks_simulated_not_on_a_wrong_estimate(tmp_path: Path) -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from sim.app.page import run_estimate
    from tests.conftest import SCENARIOS

    base = SCENARIOS / "lang_son_minimal.yaml"
    # a run estimated at 1,000 trucks that simulated 100,000 in 100 s: 1,000 trucks/s, not 10
    _done_job(tmp_path, "1", expected=1_000.0, seconds=100.0, trucks=100_000.0)
    # an older run that recorded no count is left out (its estimate may be the wrong one)
    _done_job(tmp_path, "2", expected=10.0, seconds=1_000.0, trucks=None)
    text = run_estimate(tmp_path, base, ("run.horizon=168",), 2)
    assert "at the 1,000 trucks/s measured on 1 earlier run(s)" in text, text


def test_reused_replications_do_not_count_as_simulated(tmp_path: Path) -> None:
    from sim.studies.options import Bar

    state = jobs.JobState(status=jobs.RUNNING)
    monitor = jobs.StateMonitor(tmp_path, state)
    monitor.begin([Bar("base", 4, 4), Bar("policy", 4, 0)])  # the base's four were already run
    state.record_trucks(8_000.0)  # the run's count over all eight replications
    assert state.reused == 4 and state.trucks == pytest.approx(4_000.0)
