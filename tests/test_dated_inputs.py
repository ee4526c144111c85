"""Dated inputs: arrival rates and stage settings that change from a date take effect on that date.

Arrivals are checked against the rates they should have: each day's count over replications is Poisson
with a known mean, so it must lie within a few standard deviations of it, and on days whose rate is zero
there must be no arrival at all (a schedule applied an hour late or early would put trucks there).
Stage changes are checked exactly from the records: a daily cap bounds each day's crossings and, with a
queue that never empties, is met exactly; a service time, a number of servers and opening hours in force
from a date show in every service that starts after it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from sim.model.calendar import Calendar
from sim.scenario.demand import derived_arrivals
from sim.scenario.schema import Scenario
from tests.conftest import run, scenario

DAY = 24.0


def one_stage(*extra: str, rate: float = 20.0, horizon: float = 240.0) -> Scenario:
    """One always-open stage fed by one stream (rate a day), starting 2022-01-01."""
    return scenario(
        "examples/mmc.yaml",
        "run.start=2022-01-01T00:00:00",
        f"run.horizon={horizon}",
        "run.warmup=0",
        f"arrivals.trucks.rate={rate}",
        "arrivals.trucks.per=day",
        *extra,
    )


def daily_arrivals(s: Scenario, reps: int, days: int) -> np.ndarray:
    counts = np.zeros(days)
    for r in range(reps):
        t = run(s, 7, r).trucks["arrival"].to_numpy()
        counts += np.bincount((t // DAY).astype(int), minlength=days)[:days]
    return counts


def test_a_dated_rate_takes_effect_on_its_date() -> None:
    # 10 days: rate 20/day, from the 3rd 100/day, from the 5th none, from the 7th factor 3 (= 60/day)
    schedule = "[{from: 2022-01-03, rate: 100}, {from: 2022-01-05, rate: 0}, {from: 2022-01-07, factor: 3}]"
    s = one_stage(f"arrivals.trucks.schedule={schedule}", "gates.gate.export.stages.service.servers=200")
    reps = 20
    counts = daily_arrivals(s, reps, 10)
    expected = reps * np.array([20, 20, 100, 100, 0, 0, 60, 60, 60, 60], dtype=float)
    zero = expected == 0
    assert (counts[zero] == 0).all()
    z = (counts[~zero] - expected[~zero]) / np.sqrt(expected[~zero])
    assert np.abs(z).max() < 4.5, (counts, expected)
    # power: a change one day late would put 20 reps x 80 more trucks on day 3 (z ~ 40)


def test_a_schedule_keeps_common_random_numbers() -> None:
    """Truck k is the same truck (same value) whatever the schedule; only its arrival time moves."""
    a = run(one_stage("arrivals.trucks.schedule=[{from: 2022-01-04, factor: 2}]"), 3).trucks
    b = run(one_stage("arrivals.trucks.schedule=[{from: 2022-01-04, factor: 0.5}]"), 3).trucks
    n = min(len(a), len(b))
    before = a["arrival"].to_numpy()[:n] < 3 * DAY
    assert before.sum() > 30
    np.testing.assert_array_equal(a["arrival"].to_numpy()[:n][before], b["arrival"].to_numpy()[:n][before])


def test_demand_schedule_selects_streams() -> None:
    s = scenario(
        "lang_son/base_2021.yaml",
        "demand.schedule=[{from: 2021-12-01, factor: 2, direction: export}, "
        "{from: 2021-12-10, factor: 0, truck_class: fruit_reefer}]",
    )
    streams = derived_arrivals(s)
    reefer = streams["huu_nghi_fruit_reefer"].schedule
    assert [(c.from_, c.factor) for c in reefer] == [(date(2021, 12, 1), 2), (date(2021, 12, 10), 0)]
    assert [c.factor for c in streams["tan_thanh_farm_produce"].schedule] == [2]
    assert streams["huu_nghi_import_goods"].schedule == []


def stage_runs(*changes: str, stage: str = "gates.gate.export.stages.service") -> Scenario:
    """A saturated stage (arrivals far above what it serves) whose settings change from 2022-01-04."""
    return one_stage(
        f"{stage}.service={{dist: deterministic, value: 1.0}}",
        f"{stage}.servers=2",
        f"{stage}.changes=[{{from: 2022-01-04, {', '.join(changes)}}}]",
        rate=200.0,
        horizon=7 * DAY,
    )


def test_a_dated_daily_cap_takes_effect_on_its_date() -> None:
    s = one_stage(
        *[f"{k}={v}" for k, v in {"gates.gate.export.stages.service.daily_cap": 10}.items()],
        "gates.gate.export.stages.service.servers=2",
        "gates.gate.export.stages.service.service={dist: deterministic, value: 1.0}",
        "gates.gate.export.stages.service.changes=[{from: 2022-01-04, daily_cap: 30}]",
        rate=200.0,
        horizon=7 * DAY,
    )
    trucks = run(s, 1).trucks
    starts = run(s, 1).stages["start"].to_numpy()
    per_day = np.bincount((starts // DAY).astype(int), minlength=7)[:7]
    assert per_day.tolist() == [10, 10, 10, 30, 30, 30, 30]
    assert len(trucks) > 7 * 150  # the queue never emptied: the cap, not the arrivals, set the count


def most_in_service(stages) -> int:
    """The most services in progress at once (ends before starts at equal times)."""
    times = np.concatenate([stages["start"], stages["end"]])
    steps = np.concatenate([np.ones(len(stages)), -np.ones(len(stages))])
    order = np.lexsort((steps, times))
    return int(np.cumsum(steps[order]).max())


def test_dated_service_servers_and_hours_take_effect_on_their_date() -> None:
    s = stage_runs("service: {dist: deterministic, value: 2.0}", "servers: 3", "hours: '08:00-12:00'")
    stages = run(s, 1).stages
    change = 3 * DAY
    before, after = stages[stages["start"] < change], stages[stages["start"] >= change]
    assert np.allclose(before["service"], 1.0) and np.allclose(after["service"], 2.0)
    # servers: 2 busy at once before, 3 after (start times of a saturated deterministic stage)
    assert most_in_service(before) == 2 and most_in_service(after) == 3
    hour = (after["start"] % DAY).to_numpy()
    assert ((hour >= 8) & (hour < 12)).all() and (before["start"] % DAY >= 12).any()
    # a service that started before the date keeps the time drawn for its own period
    last = stages[(stages["start"] < change) & (stages["end"] > change)]
    assert len(last) and np.allclose(last["service"], 1.0)


@pytest.mark.parametrize(
    "change, message",
    [
        ("{from: 2022-01-04}", "at least one of"),
        ("{from: 2022-01-04T06:00:00, servers: 2}", "local midnight"),
    ],
)
def test_bad_dated_changes_are_refused(change: str, message: str) -> None:
    from sim.errors import UserError

    with pytest.raises(UserError, match=message):
        one_stage(f"gates.gate.export.stages.service.changes=[{change}]")


def test_calendar_of_scenario_is_used_for_dates() -> None:
    s = one_stage()
    assert Calendar(s.run.start, s.run.unit_hours).from_datetime(s.run.start) == 0.0


def test_random_stoppages_start_on_their_date() -> None:
    """``random_closures.from``: no stoppage before the date, and the Poisson count after it is the rate's
    (200 days at 0.5 a day: 100 expected, sd 10)."""
    stoppages = "{rate_per_day: 0.5, duration_h: {dist: deterministic, value: 2}, from: 2022-01-11}"
    s = one_stage(f"gates.gate.random_closures={stoppages}", horizon=210 * DAY)
    closures = run(s, 3).closures
    random = closures[closures["kind"] == "random"]
    assert (random["start"] >= 10 * DAY).all() and random["start"].min() < 14 * DAY
    assert abs(len(random) - 100) < 4.5 * 10
