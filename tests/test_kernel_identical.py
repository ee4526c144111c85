"""The heapq kernel gives the very same tables as the SimPy kernel (the reference), for every committed
scenario and for every rule of ``tests/data/rules.yaml`` (hours, closures, bans, caps, priorities on a
shared pool, green lanes, return trips, reneging with diversion, pure delays, a yard per direction,
patience as a hazard), same seed.

Both kernels order events by (time, insertion order) and the model schedules every event at SimPy's
NORMAL priority, so identity is expected by construction; this test is what makes it a fact."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS
from tests.golden.tables import short_run

RULES = ROOT / "tests" / "data" / "rules.yaml"

RULE_VARIANTS = {
    "as_written": [],
    "few_drivers": ["gates.a.resources.drivers.servers=2"],
    "closure": ["gates.a.closures=[{start: 2021-03-05, end: 2021-03-07}]"],
    "ban": [
        "gates.a.closures=[{start: 2021-03-05, end: 2021-03-07, stages: [china], when: {perishable: true}}]"
    ],
    "ban_on_a_delay": [
        "gates.a.closures=[{start: 2021-03-05, end: 2021-03-07, stages: [processing],"
        " when: {perishable: true}}]"
    ],
    "green_lane": [
        "gates.a.export.stages.customs.green_lane={when: {perishable: true}, servers: 1}",
        "gates.a.export.stages.customs.servers=1",
    ],
    "priority_on_shared_pool": [
        "gates.a.import={stages: {handover: {resource: drivers,"
        " service: {dist: uniform, low: 0.3, high: 0.7}}}}",
        "arrivals.a_import={gate: a, direction: import, truck_class: goods, rate: 30, per: day}",
        "gates.a.export.stages.handover.priority={when: {perishable: true}}",
        "gates.a.resources.drivers.servers=2",
    ],
    "tight_yard_and_cap": ["gates.a.yard.capacity=5", "gates.a.export.stages.china.daily_cap=10"],
    "yard_per_direction": [
        "gates.a.import={enters_yard_at: handover, yard: {capacity: 3}, stages: {china: {servers: 1,"
        " service: {dist: exponential, mean: 0.3}}, handover: {resource: drivers,"
        " service: {dist: uniform, low: 0.3, high: 0.7}}}}",
        "arrivals.a_import={gate: a, direction: import, truck_class: goods, rate: 30, per: day}",
        "gates.a.yard.capacity=5",
        "gates.a.export.stages.china.daily_cap=10",
    ],
    "patience_hazard": [
        "gates.a.export.reneging.patience_h=null",
        "gates.a.export.reneging.hazard={per_day: 0.3, past_shelf_life_per_day: 4}",
        "gates.a.export.stages.china.daily_cap=15",
    ],
    "dated_changes": [
        "gates.a.export.stages.customs.changes=[{from: 2021-03-06, servers: 1, hours: '06:00-20:00',"
        " service: {dist: exponential, mean: 0.6}}, {from: 2021-03-10, daily_cap: 20}]",
        "arrivals.a_fruit.schedule=[{from: 2021-03-05, factor: 2}]",
    ],
    # the levers before and around the gate (issue 22)
    "upstream_quota": [
        "gates.a.export.upstream={periods: {q: {from: 2021-03-03, rule: quota, daily_quota: 20,"
        " compliance: 0.8}, end: {from: 2021-03-10, rule: none}}, cost_usd_per_day: 65,"
        " cancel_after_h: {dist: uniform, low: 24, high: 96}}"
    ],
    "upstream_slots": [
        "gates.a.export.upstream={periods: {s: {from: 2021-03-02, rule: slots, slots_per_hour: 2,"
        " hours: '07:00-17:00'}}, classes: [fruit], ageing_rate: 2.0}"
    ],
    "upstream_threshold": [
        "gates.a.export.upstream={periods: {t: {from: 2021-03-02, rule: threshold, threshold: 15,"
        " compliance: 0.9}}, cancel_after_h: {dist: deterministic, value: 48}}"
    ],
    "rail_share": [
        "rail={export: {wagons_per_day: 5, loads_per_wagon: 2}, classes: [fruit], handling: {dist: uniform,"
        " low: 2, high: 4}, transit: {dist: deterministic, value: 6}, hours: '06:00-18:00',"
        " closures: [{start: 2021-03-08, end: 2021-03-09}], send: {fruit: {share: 0.5}}}"
    ],
    "rail_threshold": [
        "rail={export: {wagons_per_day: 5}, classes: [fruit], handling: {dist: uniform, low: 2, high: 4},"
        " transit: {dist: deterministic, value: 6}, send: {fruit: {when_waiting_above: 10}}}"
    ],
    "route_choice": [
        "route_choice={ab: {direction: export, gates: {a: 0, b: 2}, informed_share: 0.5, update_every_h: 3}}"
    ],
}


def _assert_same(path, overrides: list[str]) -> None:
    scenario = load_scenario(path, overrides).scenario
    a = run_replication(scenario, replication_seed(7, 0), kernel="simpy")
    b = run_replication(scenario, replication_seed(7, 0), kernel="heap")
    assert len(a.stages) > 0
    for name, table in a.as_dict().items():
        pd.testing.assert_frame_equal(table, b.as_dict()[name], check_exact=True, obj=name)


@pytest.mark.parametrize("variant", sorted(RULE_VARIANTS))
def test_heap_kernel_gives_identical_tables_on_every_rule(variant: str) -> None:
    _assert_same(RULES, RULE_VARIANTS[variant])


@pytest.mark.parametrize(
    "relpath", [p.relative_to(SCENARIOS).as_posix() for p in sorted(SCENARIOS.rglob("*.yaml"))]
)
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_heap_kernel_gives_identical_tables_on_every_committed_scenario(relpath: str) -> None:
    horizon = 1000 if relpath.startswith("examples") else 336
    _assert_same(SCENARIOS / relpath, short_run(SCENARIOS / relpath, horizon))
