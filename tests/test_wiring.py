"""Plain wiring (issue 28): what a scenario stands for is derived once, a run is summarised once, and a
resumed run's plan has its replication count when it is made."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim.runner.experiment as experiment
import sim.scenario.schema.scenario as scenario_module
from sim.model.size import estimate
from sim.runner.backends import Backend
from sim.runner.experiment import RESUME, Experiment, plan
from sim.scenario import load_scenario
from sim.scenario.loader import resolved_yaml
from sim.scenario.state import state_problems
from sim.studies.calibrate import scaled
from sim.studies.options import StudyOptions
from sim.studies.run import run_scenario
from tests.conftest import SCENARIOS

BASE = SCENARIOS / "lang_son/base_2021.yaml"  # arrivals derived from trade value (``demand``)


def test_demand_arrivals_are_derived_once_per_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    derive = scenario_module.derive_arrivals

    def counted(s):  # type: ignore[no-untyped-def]
        calls.append(s.name)
        return derive(s)

    monkeypatch.setattr(scenario_module, "derive_arrivals", counted)
    loaded = load_scenario(BASE)
    assert loaded.scenario.derived_arrivals  # this scenario derives its streams from demand
    estimate(loaded.scenario)
    state_problems(loaded.scenario)
    resolved_yaml(loaded)
    assert set(loaded.scenario.all_arrivals) >= set(loaded.scenario.derived_arrivals)
    assert calls == [loaded.scenario.name]  # at load, and never again


def test_a_changed_copy_derives_its_own_arrivals() -> None:
    """Calibration scales ``demand`` through ``model_copy``: the copy must not keep the original's rates."""
    s = load_scenario(BASE).scenario
    before = {k: a.rate for k, a in s.derived_arrivals.items()}
    doubled = scaled(s, 2.0)
    assert {k: a.rate for k, a in doubled.derived_arrivals.items()} == pytest.approx(
        {k: 2 * r for k, r in before.items()}
    )
    assert {k: a.rate for k, a in s.derived_arrivals.items()} == before


def test_a_resume_without_a_count_plans_the_folders_count(tmp_path: Path) -> None:
    loaded = load_scenario(SCENARIOS / "lang_son_minimal.yaml")
    folder = tmp_path / "run"
    (folder).mkdir()
    (folder / "scenario.yaml").write_text(resolved_yaml(loaded), encoding="utf-8")
    manifest = {"root_seed": 7, "replications": 6, "keep_tables": True}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    asked = Experiment(loaded, folder, 7, 2)
    plan(asked, RESUME)
    assert asked.replications == 2  # a count given on the command line wins
    saved = Experiment(loaded, folder, 7, 2)
    plan(saved, RESUME, saved_replications=True)
    assert saved.replications == 6


def test_a_run_is_summarised_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.studies.run as run_module

    calls: list[int] = []
    summary_of = experiment.summary_of

    def counted(metrics: pd.DataFrame, s):  # type: ignore[no-untyped-def]
        calls.append(len(metrics))
        return summary_of(metrics, s)

    monkeypatch.setattr(experiment, "summary_of", counted)
    monkeypatch.setattr(run_module, "summary_of", counted)
    result = run_scenario(
        SCENARIOS / "lang_son_minimal.yaml",
        StudyOptions(
            overrides=("run.horizon=96", "run.warmup=0"),
            replications=2,
            backend=Backend(jobs=1),
            out=tmp_path / "run",
        ),
    )
    assert not result.failures and result.summary is not None
    assert len(calls) == 1
    written = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert len(written) == len(result.summary)
