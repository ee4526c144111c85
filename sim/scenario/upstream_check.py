"""Upstream holding that releases nobody: a valid scenario whose answer is nothing but a growing pile.

``daily_quota: 0``, ``slots_per_hour: 0`` or ``threshold: 0`` are valid values (a stop order is a real
policy for a few days), but when the period in force at the end of the run is one of them, every truck
held from then on stays held: nothing arrives at the gate, and a summary of the gate alone reads as if
there were no trucks. A pure function of the scenario, so a command can say so before the run is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sim.scenario.schema import DIRECTIONS, Scenario, UpstreamPeriod


@dataclass(frozen=True)
class NeverReleased:
    """A flow whose upstream period in force at the end of the run releases no truck that waits when
    asked (``compliance`` of them; the others come anyway)."""

    gate: str
    direction: str
    period: str  # the period's name in the scenario
    start: datetime
    why: str  # the setting that releases nobody, as written in the scenario ('daily_quota: 0')
    compliance: float


def releases_none(period: UpstreamPeriod) -> str:
    """The setting by which ``period`` never releases a held truck, or '' if it releases some."""
    if period.rule == "quota" and period.daily_quota == 0:
        return "daily_quota: 0"
    if period.rule == "slots" and period.slots_per_hour == 0:
        return "slots_per_hour: 0"
    if period.rule == "threshold" and period.threshold == 0:
        return "threshold: 0"  # released while fewer than 0 trucks wait: never
    return ""


def never_released(scenario: Scenario) -> list[NeverReleased]:
    """The flows whose held trucks are never released: the last upstream period starting before the end
    of the run releases nobody (and some trucks comply, so some are held)."""
    run = scenario.run
    end = run.start + timedelta(hours=run.horizon * run.unit_hours)
    out = []
    for gate, spec in scenario.gates.items():
        for direction in DIRECTIONS:
            flow = spec.flow(direction)
            if flow is None or flow.upstream is None:
                continue
            in_run = [(name, p) for name, p in flow.upstream.periods.items() if p.start < end]
            if not in_run:
                continue
            name, period = in_run[-1]
            why = releases_none(period)
            if why and period.compliance > 0:
                out.append(NeverReleased(gate, direction, name, period.start, why, period.compliance))
    return out
