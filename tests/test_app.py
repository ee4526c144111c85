"""The what-if page's logic without a browser: levers from the schema, policy files, windows, jobs.

Each check would fail if the page wrote a policy that changes something else than what was edited, lost
a source, worded an error differently from the command line, or ran a job that does not reach the store.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.app import jobs
from sim.app.background import run_job
from sim.app.levers import (
    CLOSURES,
    COUNT,
    HOURS,
    LEVER_FIELDS,
    NOT_SET,
    OPTIONAL_COUNT,
    PERISHABLE_FIRST,
    PRIORITY,
    SHARE,
    kind_of,
    lever_for,
    levers,
    policy_data,
)
from sim.app.policy import Draft, policy_text, rerun_command, validate, write_policy
from sim.app.windows import windows
from sim.cli import main
from sim.commands.app import streamlit_command
from sim.errors import UserError
from sim.scenario import load_scenario
from sim.scenario.schema import Gate, SharedResource, Stage, TruckClass
from tests.conftest import SCENARIOS

BASE = SCENARIOS / "lang_son" / "base_2021_calibrated.yaml"
HN_CUSTOMS = ("gates", "huu_nghi", "export", "stages", "customs", "servers")


@pytest.fixture(scope="module")
def base():
    loaded = load_scenario(BASE)
    return loaded, levers(loaded)


def test_lever_kinds_come_from_the_schema_annotations() -> None:
    assert kind_of(SharedResource, "servers") == COUNT
    assert kind_of(Stage, "servers") == COUNT  # int | 'unlimited' | None, offered only for own pools
    assert kind_of(Stage, "daily_cap") == OPTIONAL_COUNT
    assert kind_of(Stage, "hours") == HOURS
    assert kind_of(Stage, "priority") == PRIORITY
    assert kind_of(Gate, "closures") == CLOSURES
    assert kind_of(TruckClass, "flags.predeclared") == SHARE
    assert set(LEVER_FIELDS) == {SharedResource, Stage, Gate, TruckClass}


def test_levers_carry_the_base_value_and_its_source(base) -> None:
    loaded, all_levers = base
    by_key = {lv.key: lv for lv in all_levers}
    s = loaded.scenario
    hn = s.gates["huu_nghi"]
    assert by_key[HN_CUSTOMS].base == hn.export.stages["customs"].servers == 8
    assert "assumption" in by_key[HN_CUSTOMS].source and "base_2021.yaml" in by_key[HN_CUSTOMS].source
    hours = by_key[("gates", "huu_nghi", "export", "stages", "china_side", "hours")]
    assert hours.base == ["07:00-18:00"] and "facts #1" in hours.source
    cap = by_key[("gates", "huu_nghi", "export", "stages", "china_side", "daily_cap")]
    assert cap.base is None and cap.source == NOT_SET
    drivers = by_key[("gates", "tan_thanh", "resources", "border_drivers", "servers")]
    assert drivers.base == s.gates["tan_thanh"].resources["border_drivers"].servers
    share = by_key[("truck_classes", "fruit_reefer", "flags", "predeclared")]
    assert share.base == 0.0 and "assumption" in share.source
    # every own-server stage of every gate and direction is offered; delays and shared-pool stages are not
    own = {
        (g, d, st)
        for g, gate in s.gates.items()
        for d in ("export", "import")
        if gate.flow(d) is not None
        for st, stage in gate.flow(d).stages.items()
        if isinstance(stage.servers, int)
    }
    offered = {(k[1], k[2], k[4]) for k in by_key if len(k) == 6 and k[3] == "stages" and k[5] == "servers"}
    assert offered == own
    assert ("gates", "huu_nghi", "export", "stages", "pcr_test", "servers") not in by_key  # a delay


def test_unchanged_values_write_nothing(base) -> None:
    _, all_levers = base
    assert policy_data(all_levers, {lv.key: lv.base for lv in all_levers}) == {}


def test_a_saved_policy_is_the_base_with_only_the_edits(base, tmp_path: Path) -> None:
    loaded, all_levers = base
    cap = ("gates", "huu_nghi", "export", "stages", "china_side", "daily_cap")
    prio = ("gates", "tan_thanh", "export", "stages", "customs", "priority")
    hours = ("gates", "chi_ma", "import", "stages", "customs", "hours")
    closures = ("gates", "coc_nam", "closures")
    share = ("truck_classes", "import_food", "flags", "predeclared")
    values = {
        HN_CUSTOMS: 10,
        cap: 40,
        prio: PERISHABLE_FIRST,
        hours: ["07:00-12:00", "13:00-20:00"],
        closures: [
            {"start": date(2021, 6, 1), "end": date(2021, 6, 2), "stages": ["china_side"], "reason": "test"}
        ],
        share: 0.5,
    }
    draft = Draft(BASE, "hn_customs", "test", all_levers, values)
    path = tmp_path / "policies" / "hn_customs.yaml"
    saved = write_policy(draft, path)
    text = path.read_text(encoding="utf-8")
    extends = yaml.safe_load(text)["extends"]
    assert not Path(extends).is_absolute() and (path.parent / extends).resolve() == BASE.resolve()
    # every written value says it is a what-if and cites what the base had
    value_lines = [ln for ln in text.splitlines() if re.match(r"^\s*[\w-]+: \S", ln)]
    changed_lines = [ln for ln in value_lines if not ln.startswith(("extends", "name", "description"))]
    assert len(changed_lines) == len(values) and all("# assumption: what-if" in ln for ln in changed_lines)
    # the same scenario as the base with the edits as --set overrides: nothing else changed
    expected = load_scenario(
        BASE,
        [
            f"{'.'.join(HN_CUSTOMS)}=10",
            f"{'.'.join(cap)}=40",
            f"{'.'.join(prio)}=[{{when: {{perishable: true}}}}]",
            f"{'.'.join(hours)}.windows=[07:00-12:00, 13:00-20:00]",  # the base's days (mon-fri) stay
            f"{'.'.join(closures)}=[{{start: 2021-06-01, end: 2021-06-02, stages: [china_side], "
            "reason: test}]",
            f"{'.'.join(share)}=0.5",
            "name=hn_customs",
            "description=test",
        ],
    ).scenario
    assert saved.scenario.model_dump() == expected.model_dump()
    assert saved.scenario.model_dump() != loaded.scenario.model_dump()


def test_bad_values_get_the_command_lines_messages_on_their_field(base, tmp_path: Path, capsys) -> None:
    _, all_levers = base
    draft = Draft(BASE, "bad", "", all_levers, {HN_CUSTOMS: -2})
    problems = validate(draft, tmp_path)
    assert len(problems) == 1
    assert lever_for(all_levers, problems[0].path).key == HN_CUSTOMS
    # the command line, given the same file, says the same thing
    policy = tmp_path / "bad.yaml"
    policy.write_text(policy_text(draft, policy), encoding="utf-8")
    assert main(["validate", str(policy)]) == 2
    err = capsys.readouterr().err
    assert problems[0].message in " ".join(err.split()) and problems[0].path in err
    # a bad time window is reported on the hours field
    hours = ("gates", "huu_nghi", "export", "stages", "customs", "hours")
    problems = validate(Draft(BASE, "bad", "", all_levers, {hours: ["07:00-26:00"]}), tmp_path)
    assert [lever_for(all_levers, p.path).key for p in problems] == [hours]
    assert "26:00 is not a time of day" in problems[0].message
    with pytest.raises(UserError):  # a name that cannot be a file name
        write_policy(Draft(BASE, "../x", "", all_levers, {}), tmp_path / "x.yaml")
    assert not (tmp_path / "x.yaml").exists()


def test_windows_are_months_and_seasons_of_the_base_period(base) -> None:
    loaded, _ = base
    run = loaded.scenario.run
    found = windows(run)
    assert found[0].overrides == ()  # the whole period: no override
    months = [w for w in found if w.label.startswith("month")]
    seasons = [w for w in found if w.label.startswith("season")]
    assert len(months) == 12 and len(seasons) == 4

    def measured(w) -> float:  # the hours a window's statistics cover: horizon less warm-up
        sets = dict(o.split("=") for o in w.overrides)
        return float(sets["run.horizon"]) - float(sets["run.warmup"])

    assert sum(map(measured, months)) == run.horizon == 8760
    assert sum(map(measured, seasons)) == 8760
    june = next(w for w in months if "June" in w.label)
    in_june = load_scenario(BASE, june.overrides).scenario.run
    # June starts from the state the base has on 1 June: the run begins at the base's start, and the
    # months before are warm-up
    assert in_june.start == run.start
    assert in_june.start + timedelta(hours=in_june.warmup) == datetime(2021, 6, 1)
    assert in_june.horizon - in_june.warmup == 720 and "runs from 1 Jan" in june.label


@pytest.mark.parametrize("path", sorted(str(p.relative_to(SCENARIOS)) for p in SCENARIOS.rglob("*.yaml")))
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_every_window_of_every_committed_scenario_is_valid_and_measures_something(path: str) -> None:
    """The winter replay's first month is its warm-up: offered as a window it was invalid ("warmup (720.0)
    must be shorter than horizon (720.0)"), and it was the page's default."""
    try:
        loaded = load_scenario(SCENARIOS / path)
    except UserError:
        pytest.skip("not a scenario on its own (a fragment or a deliberately broken example)")
    run = loaded.scenario.run
    for w in windows(run):
        windowed = load_scenario(SCENARIOS / path, w.overrides).scenario.run  # no UserError
        assert windowed.start == run.start and windowed.warmup < windowed.horizon
        assert windowed.warmup >= run.warmup


def test_the_page_server_listens_on_localhost_only_without_usage_stats(tmp_path: Path) -> None:
    cmd = streamlit_command(8600, tmp_path, SCENARIOS)
    pairs = dict(itertools.pairwise(cmd))
    assert pairs["--server.address"] == "127.0.0.1"
    assert pairs["--server.headless"] == "true"
    assert pairs["--browser.gatherUsageStats"] == "false"
    assert pairs["--server.port"] == "8600"
    assert main(["app", "--port", "0"]) == 2


MMC_SHORT = ["run.horizon=300", "run.warmup=20"]


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_job_runs_the_comparison_into_the_store_and_reports_progress(tmp_path: Path) -> None:
    """The background job on a small scenario: state goes to done, every replication is counted, the
    folder is a comparison folder whose numbers are the command line's, and the figures are listed."""
    base_file = SCENARIOS / "examples" / "mmc.yaml"
    loaded = load_scenario(base_file)
    all_levers = levers(loaded)
    key = ("gates", "gate", "export", "stages", "service", "servers")
    draft = Draft(base_file, "four_servers", "", all_levers, {key: 4})
    root = tmp_path / "results"
    folder = root / "whatif-test"
    policy = folder / "four_servers.yaml"
    rerun = rerun_command(base_file, policy, MMC_SHORT, 2, 7)
    write_policy(draft, policy, MMC_SHORT, rerun)
    jobs.write_spec(
        folder,
        jobs.JobSpec(str(base_file), str(policy), "four_servers", "test", MMC_SHORT, 2, 7, str(root), rerun),
    )
    assert run_job(folder) == 0
    state = jobs.read_state(folder)
    assert state.status == jobs.DONE and state.done == state.total == 4 and not state.problems
    assert [j[0] for j in jobs.jobs(root)] == [folder]
    figures = jobs.figures(folder)
    assert [Path(f["png"]).stem for f in figures] == ["headline_clearance", "backlog"]
    page = pd.read_csv(folder / "comparison.csv")
    # the rerun command, in another results folder (so nothing is reused), gives the same numbers
    out = tmp_path / "cli"
    args = [*rerun.split()[1:], "--results-root", str(out), "--out", str(out / "c")]
    assert main(args) == 0
    cli = pd.read_csv(out / "c" / "comparison.csv")
    pd.testing.assert_frame_equal(page, cli)
    wait = page[(page.metric == "mean_wait_h") & (page.gate == "all") & (page.direction == "all")]
    assert wait.set_index("role")["diff"]["policy"] < 0  # a fourth server shortens the wait


def test_a_job_with_a_bad_input_fails_with_the_command_lines_message(tmp_path: Path) -> None:
    folder = tmp_path / "whatif-bad"
    jobs.write_spec(
        folder,
        jobs.JobSpec(
            str(SCENARIOS / "examples" / "mmc.yaml"),
            str(tmp_path / "missing.yaml"),
            "x",
            "",
            [],
            2,
            1,
            str(tmp_path),
            "",
        ),
    )
    assert run_job(folder) == 2
    state = jobs.read_state(folder)
    assert state.status == jobs.FAILED and "file not found" in state.problems[0]


def test_a_set_inside_a_yaml_alias_changes_only_its_own_key() -> None:
    """The base's truck classes share their flags through a YAML anchor; ``--set`` on one class (as a
    window or a sweep does) must not change the others (found through the page's policy check)."""
    s = load_scenario(BASE, ["truck_classes.import_food.flags.predeclared=0.5"]).scenario
    shares = {name: c.flags.get("predeclared") for name, c in s.truck_classes.items()}
    assert shares["import_food"] == 0.5
    assert shares["import_goods"] == shares["import_vehicles"] == 0.0


def test_the_state_file_moves_within_replications(tmp_path: Path) -> None:
    """The runner's within-replication progress reaches the page's bar through the state file."""
    from sim.runner.progress import Bar

    monitor = jobs.StateMonitor(tmp_path, jobs.JobState(status=jobs.RUNNING))
    monitor.begin([Bar("base", 4, 4), Bar("policy", 4, 0)])
    assert jobs.read_state(tmp_path).fraction == 0.5  # the base's replications were reused
    monitor.running(1, 1.5)
    assert jobs.read_state(tmp_path).fraction == (4 + 1.5) / 8
    monitor.advance(1)
    monitor.running(1, 0.25)  # less than shown before: the page's count holds (it never falls)
    state = jobs.read_state(tmp_path)
    assert state.done == 5 and state.fraction == (4 + 1.5) / 8
    monitor.running(1, 0.75)
    assert jobs.read_state(tmp_path).fraction == (5 + 0.75) / 8
