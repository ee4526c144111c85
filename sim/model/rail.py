"""Rail at Dong Dang (the scenario's ``rail`` section, issue 22): a route for some trucks' cargo.

Customs proposed trains to clear the winter pile-up (facts #24) and Dong Dang's wagon trips grew 117% in
Q4 2021 (facts #44); the station runs about 25 wagons a day for exports and 30-35 for imports (facts #6).

The route is built as one more gate of the model, so that every record, count and metric covers it with
no code of its own: per direction a pure delay ``handling`` (unloading, transshipment), a ``wagons``
stage whose daily cap is the truckloads the day's wagons take (refilled at local midnight, so the route
never loads more than that in a calendar day: tests/test_levers.py) and whose hours and closures are the
route's, then a pure delay ``transit``. Which trucks go is :class:`RailSender`'s decision, taken when a
truck reaches the province: a share of a class (its own uniform stream, so the same trucks go under every
policy with the same share), or every truck of a class that finds more than a threshold waiting at its
gate.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from sim.model.random_streams import stream, uniforms
from sim.model.trucks import Cargo

if TYPE_CHECKING:
    from sim.model.network import Model


class RailSender:
    """Sends a truck's cargo by rail when the scenario's ``rail.send`` rules say so, else by road."""

    def __init__(self, model: Model, gate: str, direction: str, truck_class: str):
        rail = model.scenario.rail
        assert rail is not None, "a rail sender is built only for a scenario with rail (see applies)"
        self.rule = rail.send[truck_class]
        self.recorder = model.recorder
        self.rail_flow = model.flows[(rail.name, direction)]
        self.road_flow = model.flows[(gate, direction)]
        self.draw = uniforms(stream(model.seed, "rail-send", gate, direction, truck_class))
        start = self.rule.from_
        when = None if start is None else datetime(start.year, start.month, start.day)
        self.start = -math.inf if when is None else model.cal.from_datetime(when)
        self.clock = model.kernel

    @staticmethod
    def applies(model: Model, direction: str, truck_class: str) -> bool:
        """Whether trucks of ``truck_class`` in ``direction`` may be sent by rail at all."""
        rail = model.scenario.rail
        return rail is not None and rail.direction(direction) is not None and truck_class in rail.send

    def by_rail(self, _cargo: Cargo) -> bool:
        """Whether this truck's cargo goes by rail (one uniform a truck, drawn whatever the answer, so the
        same trucks go under every share and threshold)."""
        u = self.draw()
        rule = self.rule
        if self.clock.now < self.start:
            return False
        counts = self.recorder.b_counts
        above = rule.when_waiting_above
        if above is not None and sum(counts[self.road_flow.index]) <= above:
            return False
        below = rule.rail_waiting_below
        if below is not None and sum(counts[self.rail_flow.index]) >= below:
            return False
        return u < rule.share
