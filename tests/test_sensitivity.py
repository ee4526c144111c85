"""``sensitivity``: the assumptions of the scenario files, varied, and ranked by what they move.

The synthetic scenario is built so that only one of its '# assumption' numbers matters: the mean service
time of a busy two-server stage (its load goes from 0.45 to 0.75 over the ±25% range, and the queueing
delay with it), while the others are a near-instant second stage, a yard far larger than any queue, a
flag nothing reads and a cargo value. That parameter must rank first, by a wide margin.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.scenario import load_scenario
from sim.scenario.sources import assumptions
from sim.store.tables import TABLES
from sim.studies.options import StudyOptions
from sim.studies.sensitivity import factors, sensitivity

SCENARIO = """# synthetic: one assumption matters
name: one_that_matters
run: {time_unit: hours, horizon: 600, warmup: 50, seed: 5}
truck_classes:
  truck:
    commodity: generic
    flags: {vip: 0.5}                               # assumption: read by no rule
    value_usd: {dist: deterministic, value: 100}    # assumption: value plays no part in waiting
gates:
  gate:
    yard: {capacity: 100000}                        # assumption: never full
    export:
      stages:
        main:
          servers: 2                                # facts #1: given, not varied
          service: {dist: exponential, mean: 0.6}   # assumption: the one that matters
        check:
          servers: unlimited
          service: &quick {dist: deterministic, value: 0.01}   # assumption: a glance
        check_again: {servers: unlimited, service: *quick}
arrivals: {trucks: {gate: gate, direction: export, truck_class: truck, rate: 2.5}}
"""


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    path = tmp_path / "one_that_matters.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_assumptions_are_read_from_the_comments(synthetic: Path) -> None:
    found = {a.name: a for a in assumptions([synthetic])}
    assert set(found) == {
        "truck_classes.truck.flags",  # a one-line mapping: one assumption
        "truck_classes.truck.value_usd",
        "gates.gate.yard",
        "gates.gate.export.stages.main.service",
        "gates.gate.export.stages.check.service (+1 more)",  # an anchor and its alias: one assumption
    }
    main_service = found["gates.gate.export.stages.main.service"]
    assert main_service.fields == (("mean",),) and main_service.values == (0.6,)
    f = next(f for f in factors([synthetic], 0.25) if f.name == "gates.gate.export.stages.main.service")
    assert f.settings(0.0) == {"gates.gate.export.stages.main.service.mean": pytest.approx(0.45)}
    quick = next(f for f in factors([synthetic], 0.25) if f.name.startswith("gates.gate.export.stages.check"))
    assert set(quick.settings(1.0)) == {
        "gates.gate.export.stages.check.service.value",
        "gates.gate.export.stages.check_again.service.value",
    }


def test_the_lang_son_base_has_its_assumptions_found() -> None:
    files = load_scenario(Path(__file__).parents[1] / "scenarios/lang_son/base_2021_calibrated.yaml").files
    names = [f.name for f in factors(files, 0.25)]
    assert "gates.huu_nghi.export.stages.customs.servers" in names
    assert len(names) > 30 and not any(n.startswith("run.") for n in names)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_one_at_a_time_ranks_the_parameter_it_depends_on_first(synthetic: Path, tmp_path: Path) -> None:
    options = StudyOptions(replications=2, root=tmp_path / "r", label="oat")
    result = sensitivity(synthetic, options, metric="mean_clearance_h")
    table = result.table
    assert table.iloc[0]["assumption"] == "gates.gate.export.stages.main.service"
    top, second = table.iloc[0]["swing"], table.iloc[1]["swing"]
    assert top > 0.3 and top > 20 * second
    assert table.iloc[0]["low_diff"] < 0 < table.iloc[0]["high_diff"]  # slower service, longer clearance
    saved = pd.read_csv(result.folder / "sensitivity.csv")
    assert saved["assumption"].tolist() == table["assumption"].tolist()
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["points"] == 1 + 2 * len(table) and manifest["method"] == "oat"
    assert not [p for p in result.folder.rglob("*") if p.is_dir() and p.name in TABLES]  # metrics only


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_morris_ranks_it_first_too(synthetic: Path, tmp_path: Path) -> None:
    options = StudyOptions(replications=2, root=tmp_path / "r")
    result = sensitivity(synthetic, options, metric="mean_clearance_h", method="morris", trajectories=3)
    assert result.table.iloc[0]["assumption"] == "gates.gate.export.stages.main.service"
    assert result.table.iloc[0]["mu_star"] > 10 * result.table.iloc[1]["mu_star"]


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_command_draws_a_tornado_chart(synthetic: Path, tmp_path: Path, capsys) -> None:
    code = main(
        [
            "sensitivity",
            str(synthetic),
            "--replications",
            "2",
            "--results-root",
            str(tmp_path / "r"),
            "--only",
            "main",
            "--only",
            "yard",
            "--jobs",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.index("gates.gate.export.stages.main.service") < out.index("gates.gate.yard")
    assert len(list((tmp_path / "r").glob("one_that_matters/sensitivity-*/tornado.png"))) == 1
    assert (
        main(["sensitivity", str(synthetic), "--only", "nothing", "--results-root", str(tmp_path / "x")]) == 2
    )
    assert (
        main(["sensitivity", str(synthetic), "--metric", "nope", "--results-root", str(tmp_path / "x")]) == 2
    )
    assert not (tmp_path / "x").exists()
