"""Route choice between gates on announced waits (the scenario's ``route_choice``, issue 22).

Trucks moved between Lang Son and the gates of Quang Ninh, Cao Bang and Lao Cai as each closed and opened
(facts #20). Here the gates of a choice (Lang Son's and other provinces', each an ordinary gate of the
scenario with its capacity, hours and closures) each have an extra travel time from the Lang Son
approach. Every ``update_every_h`` hours the platform announces each gate's expected wait for one more
truck:

    (trucks waiting at the gate + 1) / ((its clearances over the last ``window_h`` hours + 1) / window_h)

(the ones added keep a gate that cleared nothing in the window finite but long, whether it is closed or
idle: one that is closed soon shows a growing queue and no clearances, one that is idle clears what it
is sent). A
share ``informed_share`` of drivers (one uniform a truck from its own stream) go where announced wait plus
travel is least (their planned gate wins a tie); the others go where their arrival stream planned. A
truck reaches its gate after that gate's travel time; its row's ``origin_arrival`` stays its arrival at
the approach.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.model.random_streams import stream, uniforms
from sim.model.routes import FlowRuntime
from sim.model.trucks import Cargo, Truck
from sim.scenario.schema import RouteChoice

if TYPE_CHECKING:
    from sim.model.network import Model


class RouteChooser:
    """One route choice: the announced waits of its gates and the drivers' choice."""

    def __init__(self, model: Model, name: str, spec: RouteChoice):
        self.spec = spec
        self.kernel = model.kernel
        self.context = model.context
        self.recorder = model.recorder
        self.cal = model.cal
        self.horizon = model.horizon
        self.flows: list[FlowRuntime] = [model.flows[(g, spec.direction)] for g in spec.gates]
        self.travel = [model.cal.from_hours(h) for h in spec.gates.values()]
        self.travel_h = list(spec.gates.values())
        self.covered = (
            None
            if spec.classes is None
            else {list(model.scenario.truck_classes).index(c) for c in spec.classes}
        )
        self.informed = uniforms(stream(model.seed, "route-informed", name))
        self.announced = [0.0] * len(self.flows)
        self.history: list[tuple[float, list[int]]] = []  # (time, clearances so far per gate) at updates
        self.kernel.at(0.0, self._announce)

    def covers(self, gate_flow: FlowRuntime, truck_class: int) -> bool:
        """Whether a truck planned for ``gate_flow`` of ``truck_class`` takes part in this choice."""
        return any(f is gate_flow for f in self.flows) and (
            self.covered is None or truck_class in self.covered
        )

    def _announce(self, _event: object) -> None:
        now = self.kernel.now
        cleared = [self.recorder.cleared_per_flow[f.index] for f in self.flows]
        self.history.append((now, cleared))
        since = now - self.cal.from_hours(self.spec.window_h)
        then, before = next(((t, c) for t, c in self.history if t >= since - 1e-9), self.history[0])
        window = max(self.cal.to_hours(now - then), self.spec.update_every_h)
        for i, flow in enumerate(self.flows):
            waiting = sum(self.recorder.b_counts[flow.index])
            rate = (cleared[i] - before[i] + 1) / window
            self.announced[i] = (waiting + 1) / rate
        self.history = [(t, c) for t, c in self.history if t >= since - 1e-9]
        nxt = now + self.cal.from_hours(self.spec.update_every_h)
        if nxt < self.horizon:
            self.kernel.at(nxt, self._announce)

    def send(self, cargo: Cargo, planned: FlowRuntime) -> None:
        """Send a truck planned for ``planned`` to the gate it chooses, arriving after the travel."""
        chosen = next(i for i, f in enumerate(self.flows) if f is planned)
        if self.informed() < self.spec.informed_share:
            best = self.announced[chosen] + self.travel_h[chosen]
            for i in range(len(self.flows)):
                cost = self.announced[i] + self.travel_h[i]
                if cost < best:
                    chosen, best = i, cost
        flow, travel = self.flows[chosen], self.travel[chosen]
        if travel <= 0.0:
            Truck(self.context, flow, cargo, travelled=True).advance(self.kernel.now)
            return
        self.kernel.after(
            travel, lambda _e: Truck(self.context, flow, cargo, travelled=True).advance(self.kernel.now)
        )
