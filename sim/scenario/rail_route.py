"""The rail route at Dong Dang as one more gate of the scenario (its ``rail`` section, issue 22).

A pure function of the scenario, so that the model, the analysis and the store's reader see the same
gates without the analysis or the reader loading the model: per direction a pure delay ``handling``, a
``wagons`` stage whose daily cap is the truckloads the day's wagons take, hours and closures the route's,
then a pure delay ``transit`` (sim/model/rail.py sends trucks to it).
"""

from __future__ import annotations

from sim.scenario.schema import DIRECTIONS, Flow, Gate, GateClosure, Rail, Scenario, Stage

__all__ = ["WAGONS", "all_gates", "rail_gate"]

WAGONS = "wagons"


def rail_gate(rail: Rail) -> Gate:
    """The rail route as a gate: handling, a wagon place (capped a day), transit, per direction."""
    flows = {}
    for direction in DIRECTIONS:
        service = rail.direction(direction)
        if service is None:
            continue
        flows["export" if direction == "export" else "import"] = Flow(
            stages={
                "handling": Stage(servers="unlimited", service=rail.handling),
                WAGONS: Stage(
                    servers=service.loads_per_day,
                    service=rail.loading,
                    daily_cap=service.loads_per_day,
                    hours=rail.hours,
                ),
                "transit": Stage(servers="unlimited", service=rail.transit),
            }
        )
    closures = [
        GateClosure(start=c.start, end=c.end, reason=c.reason, stages=[WAGONS]) for c in rail.closures
    ]
    return Gate(name=rail.display_name, closures=closures, **flows)  # the key stays the dict's


def all_gates(scenario: Scenario) -> dict[str, Gate]:
    """The scenario's road gates, and its rail route as one more gate if it has one."""
    if scenario.rail is None:
        return dict(scenario.gates)
    return {**scenario.gates, scenario.rail.name: rail_gate(scenario.rail)}
