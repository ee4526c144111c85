"""Issue 29 row 17: the rail route is named in figures, tables and the page as Vietnamese writes it
('Đồng Đăng (rail)'), never by its key ('dong_dang_rail'); a scenario may name it itself (``rail.label``),
and a route under another key without a label keeps its key. The records still use the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import UserError
from sim.scenario import load_scenario
from sim.scenario.rail_route import all_gates
from sim.store.reader import load_study
from tests.conftest import SCENARIOS
from tests.test_levers import RAIL, RULES

WINTER_RAIL = SCENARIOS / "lang_son" / "policies_winter" / "rail_fruit.yaml"


def test_the_rail_route_is_named_dong_dang_unless_the_scenario_names_it() -> None:
    s = load_scenario(RULES, [RAIL]).scenario
    assert s.rail is not None and s.rail.name == "dong_dang_rail"  # the key the records use
    assert all_gates(s)["dong_dang_rail"].name == "Đồng Đăng (rail)"
    own = load_scenario(RULES, [RAIL, "rail.label=Ga Đồng Đăng"]).scenario
    assert all_gates(own)["dong_dang_rail"].name == "Ga Đồng Đăng"
    other = load_scenario(RULES, [RAIL, "rail.name=lang_son_rail"]).scenario
    assert all_gates(other)["lang_son_rail"].name == "lang_son_rail"  # no made-up station name
    with pytest.raises(UserError, match=r"rail\.label"):
        load_scenario(RULES, [RAIL, "rail.label=''"])
    winter = load_scenario(WINTER_RAIL).scenario
    assert winter.rail is not None and all_gates(winter)[winter.rail.name].name == "Đồng Đăng (rail)"


def test_a_run_names_the_rail_route_as_its_scenario_does(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = main(["run", str(RULES), "--set", RAIL, "--set", "run.horizon=72", "--replications", "1",
                 "--jobs", "1", "--out", str(out), "--format", "csv", "-q"])  # fmt: skip
    assert code == 0
    study = load_study(out)
    assert "dong_dang_rail" in study.gates()  # the key in the records ...
    assert study.gate_label("dong_dang_rail") == "Đồng Đăng (rail)"  # ... the name in figures and titles
    assert study.runs[0].gate_label("dong_dang_rail") == "Đồng Đăng (rail)"
