"""Cross-references the schema cannot check field by field: an arrival naming a gate, a stage naming a
shared pool, a route choice naming gates with a flow in its direction.

They need the whole scenario, so they run after it validates, and return field paths so that the loader
can point at the line of the YAML file.
"""

from __future__ import annotations

import itertools

from sim.scenario.schema.common import DIRECTIONS
from sim.scenario.schema.scenario import Scenario


def reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """Cross-references the schema cannot check field by field: (field path, message) pairs."""
    problems: list[tuple[str, str]] = []
    for gname, gate in s.gates.items():
        if gate.export is None and gate.import_ is None:
            problems.append((f"gates.{gname}", "a gate needs an 'export' or an 'import' flow (or both)"))
        for direction in DIRECTIONS:
            flow = gate.flow(direction)
            if flow is None:
                continue
            base = f"gates.{gname}.{direction}"
            for sname, stage in flow.stages.items():
                if stage.resource is not None and stage.resource not in gate.resources:
                    known = ", ".join(sorted(gate.resources)) or "none defined"
                    problems.append(
                        (
                            f"{base}.stages.{sname}.resource",
                            f"names resource '{stage.resource}', which gate '{gname}' does not define "
                            f"(its resources: {known})",
                        )
                    )
            for sname, stage in flow.stages.items():
                if stage.green_lane is not None and (stage.resource is not None or stage.is_delay):
                    problems.append(
                        (f"{base}.stages.{sname}.green_lane", "a green lane needs a stage with own servers")
                    )
            ren = flow.reneging
            if ren is not None and ren.divert_to is not None:
                target = s.gates.get(ren.divert_to)
                if ren.divert_to == gname or target is None or target.flow(direction) is None:
                    problems.append(
                        (
                            f"{base}.reneging.divert_to",
                            f"'{ren.divert_to}' must be another gate with a '{direction}' flow",
                        )
                    )
            if flow.enters_yard_at is not None and flow.enters_yard_at not in flow.stages:
                problems.append(
                    (
                        f"{base}.enters_yard_at",
                        f"names stage '{flow.enters_yard_at}', which is not one of this flow's stages "
                        f"({', '.join(flow.stages)})",
                    )
                )
        names = set(gate.resources)
        for d in DIRECTIONS:
            if gate.flow(d) is not None:
                names |= set(gate.flow(d).stages)  # type: ignore[union-attr]
        targets = [(f"gates.{gname}.closures.{i}.stages", c.stages) for i, c in enumerate(gate.closures)]
        if gate.random_closures is not None:
            targets.append((f"gates.{gname}.random_closures.stages", gate.random_closures.stages))
        for path, listed in targets:
            for name in listed or []:
                if name not in names:
                    problems.append((path, f"'{name}' is not a stage or resource of gate '{gname}'"))
    if s.demand is not None:
        problems += _demand_problems(s)
    problems += _lever_problems(s)
    for aname, arr in s.arrivals.items():
        base = f"arrivals.{aname}"
        if arr.gate not in s.gates:
            problems.append((f"{base}.gate", f"names gate '{arr.gate}', not one of: {', '.join(s.gates)}"))
        elif s.gates[arr.gate].flow(arr.direction) is None:
            problems.append((f"{base}.direction", f"gate '{arr.gate}' has no '{arr.direction}' flow"))
        if arr.truck_class not in s.truck_classes:
            problems.append(
                (
                    f"{base}.truck_class",
                    f"names truck class '{arr.truck_class}', not one of: {', '.join(s.truck_classes)}",
                )
            )
    return problems


def _demand_problems(s: Scenario) -> list[tuple[str, str]]:
    d = s.demand
    assert d is not None
    problems = []
    for direction, shares in d.gate_shares.items():
        for gname, share in shares.items():
            if gname not in s.gates:
                problems.append((f"demand.gate_shares.{direction}.{gname}", f"'{gname}' is not a gate"))
            elif share > 0 and s.gates[gname].flow(direction) is None:
                problems.append(
                    (f"demand.gate_shares.{direction}.{gname}", f"gate '{gname}' has no '{direction}' flow")
                )
    for direction, shares in d.class_shares.items():
        for cname in shares:
            if cname not in s.truck_classes:
                problems.append(
                    (f"demand.class_shares.{direction}.{cname}", f"'{cname}' is not a truck class")
                )
    for direction, share in d.direction_shares.items():
        if share > 0 and (direction not in d.gate_shares or direction not in d.class_shares):
            problems.append(
                (
                    f"demand.direction_shares.{direction}",
                    "needs gate_shares and class_shares for this direction",
                )
            )
    for i, change in enumerate(d.schedule):
        if change.gate is not None and change.gate not in s.gates:
            problems.append((f"demand.schedule.{i}.gate", f"'{change.gate}' is not a gate"))
        if change.truck_class is not None and change.truck_class not in s.truck_classes:
            problems.append(
                (f"demand.schedule.{i}.truck_class", f"'{change.truck_class}' is not a truck class")
            )
    for i, (a, b) in enumerate(itertools.pairwise(d.schedule), start=1):
        if b.from_ < a.from_:
            problems.append((f"demand.schedule.{i}.from", "entries must be in date order"))
    if not problems:
        for name in sorted(set(s.derived_arrivals) & set(s.arrivals)):
            problems.append((f"arrivals.{name}", "this stream is also derived from 'demand': rename one"))
    return problems


def _lever_problems(s: Scenario) -> list[tuple[str, str]]:
    """Names the upstream, rail and route-choice sections use must be classes and gates of the scenario."""
    problems: list[tuple[str, str]] = []
    classes = set(s.truck_classes)

    def unknown_classes(path: str, names: list[str] | None) -> None:
        for name in names or []:
            if name not in classes:
                problems.append((path, f"'{name}' is not a truck class ({', '.join(s.truck_classes)})"))

    for gname, gate in s.gates.items():
        for direction in DIRECTIONS:
            flow = gate.flow(direction)
            if flow is not None and flow.upstream is not None:
                up = flow.upstream
                unknown_classes(f"gates.{gname}.{direction}.upstream.classes", up.classes)
                for by_class in ("ageing_rate_by_class", "cost_usd_per_day_by_class"):
                    path = f"gates.{gname}.{direction}.upstream.{by_class}"
                    unknown_classes(path, list(getattr(up, by_class)))
    if s.rail is not None:
        rail = s.rail
        if rail.name in s.gates:
            problems.append(("rail.name", f"'{rail.name}' is already a road gate: name the rail route apart"))
        unknown_classes("rail.classes", rail.classes)
        for cname in rail.send:
            if cname not in rail.classes:
                problems.append((f"rail.send.{cname}", f"'{cname}' is not in rail.classes"))
            travels = {a.direction for a in s.arrivals.values() if a.truck_class == cname} or set(DIRECTIONS)
            if not any(rail.direction(d) is not None for d in travels):
                problems.append((f"rail.send.{cname}", "the rail route runs in no direction of this class"))
    for i, choice in s.route_choice.items():
        unknown_classes(f"route_choice.{i}.classes", choice.classes)
        for gname in choice.gates:
            gate = s.gates.get(gname)
            if gate is None or gate.flow(choice.direction) is None:
                problems.append(
                    (f"route_choice.{i}.gates.{gname}", f"must be a gate with a '{choice.direction}' flow")
                )
    pairs = [(c.direction, g) for c in s.route_choice.values() for g in c.gates]
    for d, g in sorted({p for p in pairs if pairs.count(p) > 1}):
        problems.append(("route_choice", f"gate '{g}' ({d}) is in more than one route choice"))
    return problems
