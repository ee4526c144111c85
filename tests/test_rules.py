"""Each Lang Son rule changes what it should and nothing else (common random numbers), and the
bookkeeping of reneging, diversion, spoilage and the driver pool is consistent with the records.

Most checks use ``tests/data/rules.yaml``, a small two-gate scenario that exercises every rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model import run_replication
from sim.model.calendar import Calendar
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS
from tests.golden.tables import short_run

RULES = ROOT / "tests" / "data" / "rules.yaml"


def run_rules(*overrides: str, seed: int = 3):
    s = load_scenario(RULES, overrides).scenario
    return s, run_replication(s, replication_seed(seed, 0))


def day_of(s, t: np.ndarray) -> np.ndarray:
    cal = Calendar(s.run.start, s.run.unit_hours)
    return np.floor((np.asarray(t) * cal.unit_hours + cal.midnight_offset_hours) / 24.0).astype(int)


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_digital_declaration_shortens_screening_and_changes_nothing_else() -> None:
    base = load_scenario(SCENARIOS / "lang_son/base_2021_calibrated.yaml", ["run.horizon=168"]).scenario
    digital = load_scenario(SCENARIOS / "lang_son/digital_declaration.yaml", ["run.horizon=168"]).scenario
    a = run_replication(base, replication_seed(1, 0))
    b = run_replication(digital, replication_seed(1, 0))
    cols = ["truck", "gate", "direction", "truck_class", "value_usd", "tonnage_t", "arrival"]
    pd.testing.assert_frame_equal(a.trucks[cols], b.trucks[cols], check_exact=True)
    key = ["truck", "stage"]
    screening = ["health_declaration", "declaration_processing"]
    sa = a.stages[a.stages["stage"].isin(screening)].set_index(key)["service"]
    sb = b.stages[b.stages["stage"].isin(screening)].set_index(key)["service"]
    both = sa.index.intersection(sb.index)
    assert len(both) > 1000
    assert sb[both].mean() < 0.5 * sa[both].mean()
    # no truck's screening got longer: a truck pre-declared under the base is pre-declared here too
    assert (sb[both] <= sa[both] + 1e-9).all()
    # the stages after screening draw the same service times for every truck
    later = ["customs", "china_side"]
    la = a.stages[a.stages["stage"].isin(later)].set_index(["truck", "stage", "direction"])["service"]
    lb = b.stages[b.stages["stage"].isin(later)].set_index(["truck", "stage", "direction"])["service"]
    common = la.index.intersection(lb.index)
    np.testing.assert_allclose(la[common], lb[common], rtol=0, atol=1e-9)


def test_more_border_drivers_never_lengthen_handover_waits() -> None:
    waits = []
    for drivers in (2, 3, 6):
        _, t = run_rules(f"gates.a.resources.drivers.servers={drivers}")
        st = t.stages[t.stages["stage"] == "handover"]
        waits.append(st["wait"].mean())
    assert waits[0] >= waits[1] >= waits[2]
    assert waits[0] > waits[2] + 0.1  # the pool binds at 2 drivers: the check has content


def test_driver_pool_never_exceeds_its_size_and_trips_contain_crossings() -> None:
    s, t = run_rules("gates.a.resources.drivers.servers=3")
    trips = t.stages[t.stages["stage"] == "handover"]
    assert len(trips) > 300
    # the crossing (service) lies inside the driver's trip, which ends when the driver is back
    assert (trips["start"] <= trips["end"]).all() and (trips["end"] < trips["released"]).all()
    # sweep: at no time are more drivers out than exist
    events = np.concatenate(
        [np.c_[trips["start"], np.ones(len(trips))], np.c_[trips["released"], -np.ones(len(trips))]]
    )
    events = events[np.lexsort((events[:, 1], events[:, 0]))]  # releases before starts at equal times
    busy = np.cumsum(events[:, 1])
    assert busy.max() == 3
    # and no trip starts outside the drivers' shift (06:00-20:00)
    hour = (trips["start"].to_numpy() + Calendar(s.run.start, 1.0).midnight_offset_hours) % 24
    assert ((hour >= 6 - 1e-9) & (hour < 20)).all()


def test_daily_cap_is_never_exceeded_and_binds() -> None:
    s, t = run_rules()
    china = t.stages[t.stages["stage"] == "china"]
    per_day = pd.Series(day_of(s, china["start"].to_numpy())).value_counts()
    assert per_day.max() <= 30
    assert (per_day == 30).sum() >= 3  # the cap is reached on several days


def test_closure_clears_nothing_at_that_gate_for_its_dates() -> None:
    s, t = run_rules("gates.a.closures=[{start: 2021-03-05, end: 2021-03-07}]")
    cal = Calendar(s.run.start, s.run.unit_hours)
    t0 = cal.from_hours((pd.Timestamp("2021-03-05") - pd.Timestamp(s.run.start)).total_seconds() / 3600)
    t1 = t0 + 72.0  # three whole days: the end date is inclusive
    at_a = t.stages[t.stages["gate"] == "a"]
    assert not ((at_a["start"] >= t0) & (at_a["start"] < t1) & (at_a["service"] > 0)).any()
    cleared = t.trucks[(t.trucks["gate"] == "a") & (t.trucks["status"] == "cleared")]["cleared"]
    assert not ((cleared > t0 + 1.0) & (cleared < t1)).any()  # only services begun before t0 may end
    assert ((cleared >= t1) & (cleared < t1 + 24)).any()  # and clearing resumes after
    # the closure is recorded for plots
    assert ((t.closures["gate"] == "a") & (t.closures["kind"] == "closure")).sum() == 1


def test_product_ban_holds_only_matching_trucks() -> None:
    ban = "gates.a.closures=[{start: 2021-03-05, end: 2021-03-07, stages: [china], when: {perishable: true}}]"
    _, t = run_rules(ban)
    t0, t1 = 96.0, 168.0
    china = t.stages[(t.stages["stage"] == "china")].merge(t.trucks[["truck", "commodity"]], on="truck")
    inside = (china["start"] >= t0) & (china["start"] < t1)
    assert not (inside & (china["commodity"] == "fresh_fruit")).any()
    assert (inside & (china["commodity"] == "manufactured")).any()


def test_green_lane_trucks_never_queue_behind_other_trucks() -> None:
    _, t = run_rules(
        "gates.a.export.stages.customs.green_lane={when: {perishable: true}, servers: 1}",
        "gates.a.export.stages.customs.servers=1",
    )
    st = t.stages[t.stages["stage"] == "customs"].merge(t.trucks[["truck", "commodity"]], on="truck")
    st = st[st["gate"] == "a"]
    fruit, goods = st[st["commodity"] == "fresh_fruit"], st[st["commodity"] == "manufactured"]
    assert len(fruit) > 100 and len(goods) > 50

    def max_in_service(df: pd.DataFrame) -> int:
        ev = np.concatenate([np.c_[df["start"], np.ones(len(df))], np.c_[df["end"], -np.ones(len(df))]])
        ev = ev[np.lexsort((ev[:, 1], ev[:, 0]))]
        return int(np.cumsum(ev[:, 1]).max())

    # each class has its own single server: never two of a class in service at once, and the lane's
    # queue holds only eligible trucks (a fruit truck starts whenever the lane frees, whatever goods wait)
    assert max_in_service(fruit) == 1 and max_in_service(goods) == 1
    series = t.stage_series
    lane = series[series["resource"] == "export.customs.green_lane"]
    assert lane["in_service"].max() == 1


def test_conservation_with_reneging_and_diversion() -> None:
    s, t = run_rules()
    tr = t.trucks
    counts = tr.groupby(["gate", "status"], observed=True).size().unstack(fill_value=0)
    assert counts.loc["a", "turned_back"] > 0 and counts.loc["a", "diverted"] > 0
    diverted = tr[tr["status"] == "diverted"]
    successors = tr[tr["diverted_from"] >= 0]
    # every diversion that arrived before the horizon has exactly one successor, at gate b
    assert successors["diverted_from"].is_unique
    assert set(successors["diverted_from"]) <= set(diverted["truck"])
    assert (successors["gate"] == "b").all()
    arrived_in_time = diverted[diverted["exit"] + 1.0 < s.run.horizon]
    assert set(arrived_in_time["truck"]) <= set(successors["diverted_from"])
    # a successor keeps its province arrival time, value and class
    pair = successors.merge(tr, left_on="diverted_from", right_on="truck", suffixes=("", "_first"))
    assert (pair["origin_arrival"] == pair["arrival_first"]).all()
    assert (pair["value_usd"] == pair["value_usd_first"]).all()
    # per gate: every row that arrived ends in exactly one state
    for gate, g in tr.groupby("gate", observed=True):
        assert len(g) == g["status"].isin(["cleared", "inside", "turned_back", "diverted"]).sum(), gate
    # the gate that received the trucks counts them once, the gate that lost them counts them as diverted
    unique_trucks = len(tr) - len(successors)
    assert unique_trucks == (tr["diverted_from"] < 0).sum()
    # a truck gives up only while queued: never during service, so no stage row ends after its exit
    gone = tr[tr["status"].isin(["turned_back", "diverted"])].set_index("truck")["exit"]
    last_end = t.stages.groupby("truck")["end"].max()
    common = gone.index.intersection(last_end.index)
    assert (last_end[common] <= gone[common] + 1e-9).all()


def test_spoilage_is_counted_once_and_only_past_the_shelf_life() -> None:
    s, t = run_rules()
    tr = t.trucks
    end = tr["exit"].fillna(s.run.horizon)
    past_shelf = (end - tr["origin_arrival"]) * s.run.unit_hours > tr["shelf_left_h"]
    final = tr["status"] != "diverted"
    assert (tr["spoiled"] == (past_shelf & final)).all()
    assert tr["spoiled"].sum() > 0 and (~tr["spoiled"] & (tr["commodity"] == "fresh_fruit")).sum() > 0
    assert not tr.loc[tr["commodity"] == "manufactured", "spoiled"].any()
    # a diverted truck's cargo is judged once, on its last row
    chained = tr[tr["diverted_from"] >= 0]
    first_rows = tr.set_index("truck").loc[chained["diverted_from"]]
    assert not first_rows["spoiled"].any()
    np.testing.assert_allclose(tr["value_lost_usd"], np.where(tr["spoiled"], tr["value_usd"], 0.0))


def test_waiting_cost_is_waiting_days_times_the_class_rate() -> None:
    s, t = run_rules()
    tr = t.trucks
    rate = tr["truck_class"].map({"fruit": 40.0, "goods": 30.0}).astype(float)
    end = tr["exit"].fillna(s.run.horizon)
    service = t.stages.groupby("truck")["service"].sum().reindex(tr["truck"], fill_value=0.0).to_numpy()
    waiting_h = (end - tr["arrival"]) - service
    np.testing.assert_allclose(tr["waiting_cost_usd"], waiting_h.clip(lower=0) / 24 * rate, rtol=1e-9)


@pytest.mark.parametrize("rel", sorted(p.name for p in (SCENARIOS / "lang_son").glob("*.yaml")))
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_every_lang_son_scenario_runs_a_week(rel: str) -> None:
    s = load_scenario(SCENARIOS / "lang_son" / rel, short_run(SCENARIOS / "lang_son" / rel, 168)).scenario
    t = run_replication(s, replication_seed(1, 0))
    assert len(t.trucks) > 1000 and (t.trucks["status"] == "cleared").sum() > 100


def test_priority_on_a_shared_pool_ranks_other_stages_trucks_as_ordinary() -> None:
    """Fruit has priority at the export hand-over; imports share the drivers but their stage has no rule:
    they must queue behind waiting fruit, not beside it."""
    _, t = run_rules(
        "gates.a.import={stages: {handover: {resource: drivers,"
        " service: {dist: uniform, low: 0.3, high: 0.7}}}}",
        "arrivals.a_import={gate: a, direction: import, truck_class: goods, rate: 30, per: day}",
        "gates.a.export.stages.handover.priority={when: {perishable: true}}",
        "gates.a.resources.drivers.servers=2",
    )
    st = t.stages[t.stages["stage"] == "handover"].merge(t.trucks[["truck", "commodity"]], on="truck")
    fruit = st[(st["direction"] == "export") & (st["commodity"] == "fresh_fruit")]
    imports = st[st["direction"] == "import"]
    assert len(imports) > 100 and fruit["wait"].max() > 0.5  # the pool is contended
    starts = imports["start"].to_numpy()
    q, s0 = fruit["queued"].to_numpy(), fruit["start"].to_numpy()
    overtaken = ((q[None, :] < starts[:, None] - 1e-9) & (s0[None, :] > starts[:, None] + 1e-9)).sum()
    assert overtaken == 0
