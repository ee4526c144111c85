"""Issue 31 row 5 on the page: "The page's policy comparison gets an 'across plausible winters' switch."

The switch (offered only when the base has an ``uncertain:`` section) reaches the job's spec and its
size; the job then runs the robust study over the same base and policies after the comparison (into a
folder beside the job's), counted in its progress from the start; the results lead with the robust
summary and its table, before the effect at the central values; a job without it shows none of it.

Scenarios are the toys of tests/test_robust_study.py (an uncertain service mean in the base; ``two`` has
its own uncertain arrival rate).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.app import jobs, plausible
from sim.app.background import run_job
from sim.app.policy import rerun_command
from sim.app.windows import windows
from sim.scenario import load_scenario
from sim.studies.robust_result import load_robust
from sim.studies.run import expected_trucks
from tests.test_app_swing import _page
from tests.test_robust_study import toys

HEADING = "Across {sets} plausible winters"
REPS, SETS = 2, 4


def test_the_switch_is_offered_only_with_ranges_and_reaches_the_spec_and_the_size(
    monkeypatch: pytest.MonkeyPatch,
    toy_scenarios,
    tmp_path: Path,
) -> None:
    scenarios, base, _, two = toy_scenarios
    started: list[jobs.JobSpec] = []
    monkeypatch.setattr(jobs, "start", lambda folder, spec: started.append(spec))
    app = _page(monkeypatch, scenarios, tmp_path / "results")
    app.multiselect(key="others").set_value(["two.yaml"]).run()
    switch = app.checkbox(key="plausible")
    assert switch.value is False and "uncertain" in switch.help
    assert not any("plausible winters" in c.value for c in app.caption)
    switch.check().run()
    app.number_input(key="plausible_sets").set_value(SETS).run()
    assert not app.exception
    runs = (SETS + 1) * 2  # the base and two, over every input set and at the central values
    assert any(f"{runs} runs across plausible winters" in c.value for c in app.caption)
    app.button(key="run").click().run()
    assert not app.exception
    (spec,) = started
    assert spec.plausible == SETS
    sets = list(spec.overrides)
    comparison = expected_trucks(load_scenario(base, sets)) + expected_trucks(load_scenario(two, sets))
    robust = runs * expected_trucks(load_scenario(base, sets))
    assert spec.expected_trucks == pytest.approx((comparison + robust) * spec.replications)

    plain = scenarios / "plain.yaml"  # no 'uncertain:': nothing to draw, no switch
    plain.write_text("extends: base.yaml\nname: plain\nuncertain: null\n", encoding="utf-8")
    assert not plausible.offered(load_scenario(plain).scenario)
    assert plausible.offered(load_scenario(base).scenario)


def test_the_command_is_the_robust_study_the_command_line_knows() -> None:
    from sim.cli import build_parser

    words = plausible.command(Path("b.yaml"), ["p.yaml", "q.yaml"], ["run.horizon=48"], 8, 2, 7).split()
    args = build_parser().parse_args(words[1:])
    assert words[:2] == ["bordersim", "robust"] and args.samples == 8 and args.replications == 2
    assert [str(p) for p in args.policies] == ["p.yaml", "q.yaml"] and args.seed == 7


@pytest.fixture
def toy_scenarios(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """The toys in their own scenarios folder (the page lists every YAML file under it)."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return (folder, *toys(folder))


def _job(toy_scenarios, results: Path, name: str, sets: int) -> Path:
    _, base, same, two = toy_scenarios
    folder = results / f"whatif-20260101-000000-{name}"
    window = windows(load_scenario(base).scenario.run)[0]
    spec = jobs.JobSpec(str(base), "", name, window.label, list(window.overrides), REPS, 5, str(results),
                        rerun_command(base, None, window.overrides, REPS, 5, [same, two]), 0.0,
                        [str(same), str(two)], plausible=sets)  # fmt: skip
    jobs.write_spec(folder, spec)
    assert run_job(folder) == 0, jobs.read_state(folder)
    return folder


@pytest.mark.slow  # the robust study's runs: over 3 s on two cores (.ci/run runs them: pytest -m slow)
def test_a_job_across_plausible_winters_leads_with_the_robust_summary(
    monkeypatch: pytest.MonkeyPatch,
    toy_scenarios,
    tmp_path: Path,
) -> None:
    scenarios = toy_scenarios[0]
    results = tmp_path / "results"
    folder = _job(toy_scenarios, results, "plausible", SETS)
    state = jobs.read_state(folder)
    assert state is not None and state.status == jobs.DONE
    ran = 3 * REPS + 3 * (SETS + 1) * REPS  # the comparison, then every set and the centre
    assert state.total == state.done == ran
    assert state.trucks == 0  # the sets' trucks are not counted: the page's speed leaves the job out
    result = load_robust(plausible.robust_folder(folder))
    assert result.samples == SETS and set(result.summary["policy"]) == {"toy_base", "same", "two"}

    app = _page(monkeypatch, scenarios, results, folder.name)
    assert app.checkbox(key="plausible").value is True  # the form filled with what the job ran
    heads = [h.value for h in app.subheader]
    assert HEADING.format(sets=SETS) in heads
    effect = next(i for i, h in enumerate(heads) if h.startswith("Effect: "))
    assert heads.index(HEADING.format(sets=SETS)) < effect  # the robust summary leads
    words = "\n".join(m.value for m in app.markdown)
    assert f"Across {SETS} plausible input sets" in words
    assert any(f"only {SETS} input sets" in w.value for w in app.warning)  # few sets: called unreliable
    (table,) = [d.value for d in app.dataframe if "P(best) (95%)" in d.value.columns]
    assert set(table["policy"]) == {"toy_base", "same", "two"}
    assert any("bordersim robust" in c.value for c in app.code)

    without = _job(toy_scenarios, results, "central", 0)
    assert not plausible.robust_folder(without).exists()
    app = _page(monkeypatch, scenarios, results, without.name)
    assert app.checkbox(key="plausible").value is False
    assert not any("plausible winters" in h.value for h in app.subheader)
