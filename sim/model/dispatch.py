"""Where a new truck goes (issue 22's levers, composed): held upstream, then rail or road, then the gate
its route choice picks. A stream no lever touches gets no dispatcher and its trucks go straight to their
gate as before (the same events, so the golden tables hold)."""

from __future__ import annotations

from collections.abc import Callable

from sim.model.rail import RailSender
from sim.model.trucks import Cargo, Truck

Send = Callable[[Cargo], None]


def dispatcher(model, gate: str, direction: str, truck_class: str) -> Send | None:
    """How a truck of this stream leaves its origin, or None when no lever applies to it."""
    flow = model.flows[(gate, direction)]
    class_index = list(model.scenario.truck_classes).index(truck_class)
    context, kernel = model.context, model.kernel
    chooser = next((c for c in model.choosers if c.covers(flow, class_index)), None)
    hold = model.holds.get((gate, direction))
    by_rail = RailSender.applies(model, direction, truck_class)
    if chooser is None and hold is None and not by_rail:
        return None

    def to_gate(cargo: Cargo) -> None:
        Truck(context, flow, cargo).advance(kernel.now)

    road: Send = to_gate if chooser is None else (lambda cargo: chooser.send(cargo, flow))
    onward = road
    if by_rail:
        sender = RailSender(model, gate, direction, truck_class)

        def rail_or_road(cargo: Cargo) -> None:
            if sender.by_rail(cargo):
                Truck(context, sender.rail_flow, cargo).advance(kernel.now)
            else:
                road(cargo)

        onward = rail_or_road
    if hold is None:
        return onward
    return lambda cargo: hold.offer(cargo, onward)
