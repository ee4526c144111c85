"""The starting state placed: trucks already waiting at time 0, with their past counted from arrival.

A scenario's ``run.initial_state`` (rows checked by :mod:`sim.scenario.state`) gives groups of trucks at
a gate and direction. Each becomes a :class:`~sim.model.trucks.Truck` whose record row says it arrived
when it did (a negative time: before the run's start), so that its clearance time, waiting cost, cargo
age and shelf life (spoilage is judged from the arrival in the province) and patience all count from
that arrival, not from the start.

**Common random numbers.** Everything random about a starting truck (its class when the row leaves it
to the mix, flags, shelf life and age, value, tonnage, service times at every stage, return trips,
patience, whether it would divert and the drive) comes from streams of its own, named ``initial-...``,
never from the streams of the trucks that arrive later. So a run with an empty state is the very run it
was before (same tables), and a policy compared on the same state keeps every arriving truck's draws.
Only a starting truck that diverts draws its second gate's times from that gate's diverted-truck
streams, as any diverting truck does.

**Conditioned on still waiting.** A truck observed in the queue after waiting w hours has not given up
yet, so its patience (capped by its shelf life left, as for every truck) exceeds w. Its patience, shelf
life and age are drawn together, again and again from its own streams, until they satisfy that
(rejection: exact for the conditional distribution); after ``MAX_TRIES`` failures the last draw is kept
and the truck gives up as soon as it has to queue. Without reneging nothing selects who is still there,
and the draws are not conditioned.

**Placed in order.** Trucks in the yard or at a named stage first, then those outside, then those
before the yard, each group oldest first. A truck outside or in the yard asks for a yard place at time
0 (it gets one while the yard has room, otherwise it queues for it in order of arrival); a truck before
the yard starts its route again from the first stage; a truck ``in_yard`` starts at the first stage
after yard entry. A truck at a named stage queues for the first stage of its route at or after it (a
stage that does not apply to its class is skipped), holding a yard place if that stage comes after
yard entry: a saved run's state (``bordersim backlog --state-at``) names every truck's stage.

**What a state does not say** (and the model therefore starts afresh): how far a truck in service is
through it (it starts that service again, with a fresh draw), and how much of the day's quota a capped
pool has used (a daily cap starts the state's day with its full quota, so at most one day's cap more
can cross on the first day than if the run had gone on from midnight).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sim.model.arrivals import rate_per_time_unit, schedule_levels
from sim.model.dated import service_periods
from sim.model.patience import UNIT_EXPONENTIAL, hazard_patience_h
from sim.model.random_streams import alternatives_sampler, sampler, stream, uniforms
from sim.model.routes import FlowRuntime
from sim.model.trucks import Cargo, Truck
from sim.scenario.schema import STATE_PLACES, InitialState, Scenario, StateGroup
from sim.scenario.state import gate_key, waited_hours

if TYPE_CHECKING:
    from sim.model.network import Model

PLACE_ORDER = {"in_yard": 0, "outside": 1, None: 1, "before_yard": 2}  # a named stage: 0
MAX_TRIES = 1000  # joint draws of patience, shelf life and age tried for a truck still waiting


@dataclass(frozen=True)
class _Planned:
    """One starting truck before it is placed."""

    flow: tuple[str, str]
    truck_class: str
    where: str | None
    waited_h: float
    order: int  # its place in the file (ties keep it)


class _Held:
    """A patience sampler that returns the value set for the next truck (its conditioned draw)."""

    def __init__(self) -> None:
        self.value = math.inf

    def __call__(self) -> float:
        return self.value


def _mix(scenario: Scenario, model: Model) -> dict[tuple[str, str], tuple[list[str], np.ndarray]]:
    """The classes arriving at each gate and direction, with their share of the trucks at the start:
    each stream's rate in the start's month and the schedule level in force then."""
    month = scenario.run.start.month - 1
    weights: dict[tuple[str, str], dict[str, float]] = {}
    for arrival in scenario.all_arrivals.values():
        rate = rate_per_time_unit(arrival, model.cal) * (arrival.month_factors or [1.0] * 12)[month]
        if arrival.schedule:
            starts, levels = schedule_levels(arrival, model.cal)
            k = int(np.searchsorted(starts, 0.0, side="right")) - 1
            rate *= float(levels[k]) if k >= 0 else 1.0
        by_class = weights.setdefault((arrival.gate, arrival.direction), {})
        by_class[arrival.truck_class] = by_class.get(arrival.truck_class, 0.0) + rate
    out = {}
    for key, by_class in weights.items():
        total = sum(by_class.values())
        shares = np.array([w / total if total > 0 else 1.0 / len(by_class) for w in by_class.values()])
        out[key] = (list(by_class), np.cumsum(shares))
    return out


def _plan(scenario: Scenario, model: Model, state: InitialState) -> list[_Planned]:
    """The starting trucks, one by one, in the order they are placed."""
    mix = _mix(scenario, model)
    class_u: dict[tuple[str, str], Callable[[], float]] = {}
    planned: list[_Planned] = []
    for group in state.groups:
        key = (gate_key(scenario, group.gate) or group.gate, group.direction)
        waits = waited_hours(group, scenario.run.start, state.spread_days)
        for k in range(group.count):
            planned.append(
                _Planned(key, _class_of(group, key, mix, class_u, model), group.where, waits[k], len(planned))
            )
    planned.sort(key=lambda p: (PLACE_ORDER.get(p.where, 0), -p.waited_h, p.order))
    return planned


def _class_of(
    group: StateGroup,
    key: tuple[str, str],
    mix: dict[tuple[str, str], tuple[list[str], np.ndarray]],
    class_u: dict[tuple[str, str], Callable[[], float]],
    model: Model,
) -> str:
    if group.truck_class is not None:
        return group.truck_class
    names, cumulative = mix[key]
    if key not in class_u:
        class_u[key] = uniforms(stream(model.seed, "initial-class", *key))
    u = class_u[key]()
    return names[min(int(np.searchsorted(cumulative, u, side="right")), len(names) - 1)]


class _Draws:
    """The own streams of the starting trucks of one flow and class: attributes and reneging."""

    def __init__(self, model: Model, flow: tuple[str, str], class_name: str):
        seed = model.seed
        name = (*flow, class_name)
        truck_class = model.scenario.truck_classes[class_name]
        self.class_index = list(model.scenario.truck_classes).index(class_name)
        self.value = sampler(truck_class.value_usd, stream(seed, "initial-value", *name))
        self.tonnage = sampler(truck_class.tonnage_t, stream(seed, "initial-tonnage", *name))
        self.flag_names = list(truck_class.flags)
        self.flags = [
            (p, uniforms(stream(seed, "initial-flag", *name, flag))) for flag, p in truck_class.flags.items()
        ]
        self.fixed = {"commodity": truck_class.commodity, **truck_class.attributes}
        perishable = truck_class.perishable
        self.shelf = self.age = None
        if perishable is not None:
            self.shelf = sampler(perishable.shelf_life_h, stream(seed, "initial-shelf-life", *name))
            self.age = sampler(perishable.age_on_arrival_h, stream(seed, "initial-age", *name))
        self.cost = truck_class.waiting_cost_usd_per_day
        rule = model.scenario.gates[flow[0]].flow(flow[1]).reneging  # type: ignore[union-attr]
        self.rule = rule
        # with a hazard, the stream gives the unit exponential its patience is read from (model/patience.py)
        patience = (rule.patience_h or UNIT_EXPONENTIAL) if rule else None
        self.patience = sampler(patience, stream(seed, "initial-patience", *name)) if patience else None

    def shelf_left(self) -> float:
        return self.shelf() - self.age() if self.shelf is not None else math.inf  # type: ignore[misc]

    def still_waiting(self, waited_h: float) -> tuple[float, float, bool]:
        """Shelf life left on arrival and patience of a truck still waiting after ``waited_h`` hours
        (drawn jointly until its patience, capped by shelf life, outlasts the wait), and whether a draw
        did."""
        if self.patience is None:
            return self.shelf_left(), math.inf, True
        fraction = self.rule.shelf_life_fraction  # type: ignore[union-attr]
        for _ in range(MAX_TRIES):
            shelf, patience = self.shelf_left(), self.patience()
            hazard = self.rule.hazard  # type: ignore[union-attr]
            if hazard is not None:
                effective = hazard_patience_h(
                    patience, hazard.per_day, hazard.past_shelf_life_per_day, fraction * shelf
                )
            else:
                effective = min(patience, max(0.0, fraction * shelf)) if math.isfinite(shelf) else patience
            if effective > waited_h:
                return shelf, patience, True
        return shelf, patience, False


def _shadow_flow(model: Model, flow: FlowRuntime, key: tuple[str, str], held: _Held) -> FlowRuntime:
    """The flow as starting trucks see it: the same pools and yard, service, return and reneging draws
    from their own ``initial-...`` streams, and a route cache of its own."""
    seed = model.seed
    stages = []
    for st in flow.stages:
        key3 = (*key, st.name)
        _, defaults = service_periods(st.spec.service, st.spec.changes, model.cal)
        specs = [spec for d in defaults for spec in (d, *(rule.service for rule in st.spec.service_when))]

        def draws(gen: np.random.Generator, specs: list = specs) -> Callable:
            return sampler(specs[0], gen) if len(specs) == 1 else alternatives_sampler(specs, gen)

        stages.append(
            replace(
                st,
                services=draws(stream(seed, "initial-service", *key3)),
                diverted_services=draws(stream(seed, "initial-service-diverted", *key3)),
                returns=sampler(st.spec.return_time, stream(seed, "initial-return", *key3))
                if st.spec.return_time is not None
                else None,
            )
        )
    reneging = None
    rule = flow.spec.reneging
    if rule is not None and flow.reneging is not None:  # the flow's rule, the starting trucks' own draws
        reneging = replace(
            flow.reneging,
            patience=held,
            diverted_patience=held,
            divert_u=uniforms(stream(seed, "initial-divert", *key)),
            travel=sampler(rule.travel_h, stream(seed, "initial-travel", *key)),
        )
    return replace(flow, stages=stages, reneging=reneging, routes={})


def place_initial_state(model: Model) -> int:
    """Put the scenario's starting trucks in their places at time 0; returns how many could not be
    given a patience longer than their wait (they give up as soon as they queue)."""
    state = model.scenario.run.initial_state
    if state is None or not state.groups:
        return 0
    held = _Held()
    shadows: dict[tuple[str, str], FlowRuntime] = {}
    draws: dict[tuple[tuple[str, str], str], _Draws] = {}
    attrs: dict[tuple, Callable] = {}
    to_units = model.cal.from_hours
    impatient = 0
    for truck in _plan(model.scenario, model, state):
        if truck.flow not in shadows:
            shadows[truck.flow] = _shadow_flow(model, model.flows[truck.flow], truck.flow, held)
        d = draws.get((truck.flow, truck.truck_class))
        if d is None:
            d = draws[(truck.flow, truck.truck_class)] = _Draws(model, truck.flow, truck.truck_class)
        flags = tuple(u() < p for p, u in d.flags)
        key = (d.class_index, *flags)
        if key not in attrs:
            attrs[key] = (
                lambda fixed, names, values: lambda: {**fixed, **dict(zip(names, values, strict=True))}
            )(d.fixed, d.flag_names, flags)
        shelf, patience, ok = d.still_waiting(truck.waited_h)
        impatient += not ok
        held.value = patience
        arrival = -to_units(truck.waited_h)
        cargo = Cargo(
            truck_class=d.class_index,
            key=key,
            attributes=attrs[key],
            value=d.value(),
            tonnage=d.tonnage(),
            cost_per_day=d.cost,
            origin=arrival,
            shelf_left_h=shelf,
        )
        t = Truck(model.context, shadows[truck.flow], cargo)
        t.deadline += arrival  # patience counts from the arrival, not from the start
        _put(t, truck.where, model.flows[truck.flow])
    return impatient


def _put(t: Truck, where: str | None, flow: FlowRuntime) -> None:
    """Start a placed truck where the state says it is (time 0)."""
    if where == "before_yard":
        t.advance(0.0)
        return
    if where in STATE_PLACES or where is None:
        t.pos = t.route.yard_step  # asks for a yard place first (gets one while there is room)
        t.advance(0.0)
        return
    # at a named stage: the first step of its route at or after that stage
    target = [st.name for st in flow.stages].index(where)
    position = {st.index: i for i, st in enumerate(flow.stages)}
    steps = t.route.steps
    t.pos = next((k for k, step in enumerate(steps) if position[step.stage_index] >= target), len(steps))
    if target >= flow.yard_at and t.pos >= t.route.yard_step:  # in the yard: take its place now
        t.yard_done = True
        yard = flow.yard
        if yard is None or yard.request(t, None, (), 0.0):
            t._enter_yard(0.0)
        else:  # more than the yard holds (a file checked against the scenario never asks it)
            t.ctx.recorder.outside(t.tid, 0.0)
            t._queue_at(yard, 0.0)
            return
    t.advance(0.0)
