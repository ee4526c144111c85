"""Yards per direction: a gate's yard is shared by its directions unless a flow has its own (a zone kept
for one direction, as Huu Nghi's transshipment zone, facts #29, #33).

One gate, both directions. Exports enter the yard before a Chinese side capped at 5 a day, against 40
arriving a day, so they fill any yard they may use and stay there. Imports enter the yard after their
own fast lanes and leave within the hour. With one shared yard the exports' places are never given back
faster than the cap, so the imports queue outside with them and cross at a trickle; with a zone of their
own the imports never wait outside and every import that arrived (bar the last hour's) crosses, while
the exports cross exactly as before (5 a day: the cap, not the yard, sets their count).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from sim.scenario.schema import Scenario
from tests.conftest import run

DAYS = 10
DAY = 24.0
CAP = 5

GATE = f"""
name: two_way
run: {{time_unit: hours, start: 2022-01-01T00:00:00, horizon: {DAYS * DAY}, seed: 1}}
truck_classes:
  goods: {{commodity: goods}}
gates:
  g:
    yard: {{capacity: 30}}
    export:
      enters_yard_at: china_side
      stages:
        china_side: {{servers: 2, service: {{dist: exponential, mean: 0.2}}, daily_cap: {CAP}}}
    import:
      enters_yard_at: handover
      stages:
        china_side: {{servers: 4, service: {{dist: exponential, mean: 0.1}}}}
        handover: {{servers: 4, service: {{dist: exponential, mean: 0.2}}}}
arrivals:
  exports: {{gate: g, direction: export, truck_class: goods, rate: 40, per: day}}
  imports: {{gate: g, direction: import, truck_class: goods, rate: 40, per: day}}
"""


def two_way(own_zones: bool) -> Scenario:
    data = yaml.safe_load(GATE)
    if own_zones:
        data["gates"]["g"]["export"]["yard"] = {"capacity": 30}
        data["gates"]["g"]["import"]["yard"] = {"capacity": 30}
        del data["gates"]["g"]["yard"]
    return Scenario.model_validate(data)


def crossed_per_day(trucks: pd.DataFrame, direction: str) -> np.ndarray:
    t = trucks.loc[(trucks["direction"] == direction) & (trucks["status"] == "cleared"), "cleared"]
    return np.bincount((t.to_numpy() // DAY).astype(int), minlength=DAYS)[:DAYS]


def most_outside(series: pd.DataFrame, direction: str) -> int:
    return int(series.loc[series["direction"] == direction, "outside"].max())


def test_exports_held_by_a_cap_block_imports_in_a_shared_yard_but_not_in_separate_zones() -> None:
    shared = run(two_way(own_zones=False), 3)
    zones = run(two_way(own_zones=True), 3)
    # exports: the cap sets their crossings in both layouts
    assert crossed_per_day(shared.trucks, "export").tolist() == [CAP] * DAYS
    assert crossed_per_day(zones.trucks, "export").tolist() == [CAP] * DAYS
    # shared yard: once the exports fill it (day 1), imports cross only as places come free
    late = slice(2, DAYS)
    assert crossed_per_day(shared.trucks, "import")[late].sum() < 0.25 * 40 * (DAYS - 2)
    assert most_outside(shared.backlog_series, "import") > 100
    # separate zones: imports never queue for a place and all but the last hour's cross
    assert most_outside(zones.backlog_series, "import") == 0
    imports = zones.trucks[zones.trucks["direction"] == "import"]
    late_arrivals = imports["arrival"] > DAYS * DAY - 1.0
    assert (imports.loc[~late_arrivals, "status"] == "cleared").mean() > 0.995
    # the exports still fill their own zone and wait outside it
    assert most_outside(zones.backlog_series, "export") > 100
    # the gate's sampled queue outside is the sum over its yards
    assert zones.gate_series["outside_queue"].max() >= most_outside(zones.backlog_series, "export")


def test_a_yard_capacity_counts_each_yard_once() -> None:
    shared, zones = two_way(False).gates["g"], two_way(True).gates["g"]
    assert shared.yard_capacity() == 30 and shared.yard_capacity("import") == 30
    assert zones.yard_capacity() == 60 and zones.yard_capacity("export") == 30
    assert zones.yard_for("import") is zones.import_.yard  # type: ignore[union-attr]


def test_a_starting_state_fills_each_yard_up_to_its_own_size() -> None:
    """A state's trucks in the yard are checked against the yard they use: 30 exports and 30 imports
    fit two zones of 30 but not one shared yard of 30, and 31 exports overfill the export zone."""
    from sim.scenario.schema import InitialState, StateGroup
    from sim.scenario.state import state_problems

    def with_state(s: Scenario, exports: int, imports: int) -> Scenario:
        groups = [
            StateGroup(gate="g", direction="export", count=exports, where="in_yard"),
            StateGroup(gate="g", direction="import", count=imports, where="in_yard"),
        ]
        run_ = s.run.model_copy(update={"initial_state": InitialState(groups=groups)})
        return s.model_copy(update={"run": run_})

    assert state_problems(with_state(two_way(True), 30, 30)) == []
    (shared,) = state_problems(with_state(two_way(False), 30, 30))
    assert "60 trucks in the yard of g, which holds 30" in shared.message
    (export,) = state_problems(with_state(two_way(True), 31, 30))
    assert "31 trucks in the export yard of g, which holds 30" in export.message
