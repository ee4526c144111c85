"""The exact backlog series against the per-truck and per-stage tables, at every event time.

The counters in ``backlog_series`` are updated by the model as trucks move; here the same counts are
rebuilt independently from when each truck arrived, finished its last stage before the yard, entered the
yard and left (crossed, turned back or diverted), and the two must agree at every time the series
changes. The yard checks read the exact series: a gate's yard never holds more trucks than its capacity
(and does fill up, so the check bites), and a truck is in the yard from the moment it queues at the
``enters_yard_at`` stage (moving yard entry a stage later makes this fail).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.analysis.backlog import daily, group_steps, peak, value_at
from sim.scenario.loader import load_scenario
from tests.conftest import run

SCENARIO = """
name: backlog_check
run: {horizon: 96, seed: 1}
truck_classes:
  truck: {commodity: generic}
gates:
  a:
    yard: {capacity: 6}
    export:
      enters_yard_at: yard_stage
      reneging:
        patience_h: {dist: exponential, mean: 10}
        divert_to: b
        divert_share: 0.5
        travel_h: {dist: deterministic, value: 1}
      stages:
        desk: {servers: 2, service: {dist: exponential, mean: 0.2}}
        paperwork: {servers: unlimited, service: {dist: uniform, low: 0.5, high: 1.5}}
        yard_stage: {servers: 1, service: {dist: exponential, mean: 0.35}, hours: "07:00-18:00"}
        last: {servers: 2, service: {dist: exponential, mean: 0.3}}
    import:
      enters_yard_at: first
      stages:
        first: {servers: 1, service: {dist: exponential, mean: 0.3}}
        second: {servers: 1, service: {dist: exponential, mean: 0.2}}
  b:
    yard: {capacity: 4}
    export:
      enters_yard_at: only
      stages:
        only: {servers: 1, service: {dist: exponential, mean: 0.4}, hours: "08:00-16:00"}
arrivals:
  exports: {gate: a, direction: export, truck_class: truck, rate: 3}
  imports: {gate: a, direction: import, truck_class: truck, rate: 1.5}
  b_exports: {gate: b, direction: export, truck_class: truck, rate: 0.8}
"""
YARD_STAGE = {("a", "export"): "yard_stage", ("a", "import"): "first", ("b", "export"): "only"}
CAPACITY = {"a": 6, "b": 4}


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("backlog") / "backlog_check.yaml"
    path.write_text(SCENARIO)
    s = load_scenario(path).scenario
    return s, run(s, 5)


def expected_counts(trucks: pd.DataFrame, stages: pd.DataFrame, gate: str, direction: str, t: np.ndarray):
    """Before the yard, outside it and in it at times ``t``, from the truck and stage tables alone."""
    mine = trucks[(trucks["gate"] == gate) & (trucks["direction"] == direction)]
    rows = stages[(stages["gate"] == gate) & (stages["direction"] == direction)]
    yard_order = int(rows.loc[rows["stage"] == YARD_STAGE[(gate, direction)], "stage_order"].iloc[0])
    last_before = rows[rows["stage_order"] == yard_order - 1].set_index("truck")["end"]
    arrival = mine["arrival"].to_numpy()[:, None]
    gone = mine["exit"].fillna(np.inf).to_numpy()[:, None]
    entered = mine["yard_entry"].fillna(np.inf).to_numpy()[:, None]
    if yard_order == 0:
        reached = arrival
    else:
        reached = mine["truck"].map(last_before).fillna(np.inf).to_numpy()[:, None]
    tt = t[None, :]
    present = (arrival <= tt) & (tt < gone)
    in_yard = present & (entered <= tt)
    outside = present & ~in_yard & (reached <= tt)
    before = present & ~in_yard & ~outside
    return before.sum(0), outside.sum(0), in_yard.sum(0)


def test_counters_agree_with_the_truck_table_at_every_event(tables) -> None:
    _, t = tables
    series = t.backlog_series
    assert (t.trucks["status"] == "diverted").sum() > 0 and (t.trucks["status"] == "turned_back").sum() > 0
    for (gate, direction), rows in series.groupby(["gate", "direction"], observed=True):
        last = rows.groupby("time").tail(1)  # the state after everything that happened at that instant
        times = last["time"].to_numpy()
        before, outside, in_yard = expected_counts(t.trucks, t.stages, gate, direction, times)
        np.testing.assert_array_equal(last["before_yard"].to_numpy(), before)
        np.testing.assert_array_equal(last["outside"].to_numpy(), outside)
        np.testing.assert_array_equal(last["in_yard"].to_numpy(), in_yard)
        assert (last["waiting"] == before + outside + in_yard).all()
        assert outside.max() > 0 or direction == "import"


def test_group_sums_are_exact(tables) -> None:
    s, t = tables
    steps = group_steps(t.backlog_series, "all", "export")
    times = np.unique(steps["time"])
    got = value_at(steps, times)
    want = sum(
        np.add(*expected_counts(t.trucks, t.stages, g, "export", times)[:2])
        + expected_counts(t.trucks, t.stages, g, "export", times)[2]
        for g in ("a", "b")
    )
    np.testing.assert_array_equal(got, want)
    # the day's value at noon and the day's peak come from the same step function
    days = daily(steps, s.run.start, 1.0, s.run.horizon)
    assert days["at"].iloc[1] == value_at(steps, np.array([36.0]))[0]
    assert days["peak"].max() == peak(steps, "waiting")


def test_yard_never_holds_more_than_its_capacity_and_fills(tables) -> None:
    _, t = tables
    for gate, cap in CAPACITY.items():
        steps = group_steps(t.backlog_series, gate, "all")  # both directions share the yard
        assert steps["in_yard"].max() == cap  # every intermediate row too, not only end-of-instant
        assert (steps["in_yard"] >= 0).all() and (steps["outside"] >= 0).all()


def test_yard_entry_happens_at_the_enters_yard_at_stage(tables) -> None:
    """In the exact series a truck is in the yard from when it queues at the yard stage (whether it then
    waits there, is served or gives up), not from when it finishes that stage."""
    _, t = tables
    trucks, stages = t.trucks, t.stages
    for (gate, direction), stage in YARD_STAGE.items():
        mine = trucks[(trucks["gate"] == gate) & (trucks["direction"] == direction)].set_index("truck")
        at_stage = stages[(stages["gate"] == gate) & (stages["stage"] == stage)].set_index("truck")
        queued = at_stage["queued"].reindex(mine.index)
        start = queued.fillna(mine["yard_entry"]).fillna(np.inf).to_numpy()[:, None]  # no row: still there
        gone = mine["exit"].fillna(np.inf).to_numpy()[:, None]
        rows = t.backlog_series
        rows = rows[(rows["gate"] == gate) & (rows["direction"] == direction)].groupby("time").tail(1)
        times = rows["time"].to_numpy()[None, :]
        expected = ((start <= times) & (times < gone)).sum(0)
        np.testing.assert_array_equal(rows["in_yard"].to_numpy(), expected)
        served = at_stage.index.intersection(mine.index)
        assert len(served) > 10
        assert (mine.loc[served, "yard_entry"] == at_stage.loc[served, "queued"]).all()


def test_scenario_text_is_valid_yaml() -> None:
    assert yaml.safe_load(SCENARIO)["name"] == "backlog_check"
