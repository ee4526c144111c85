"""An arrival stream at run time: creates its trucks at their arrival times, one scheduled event per truck.

Part of the typed core (compiled with mypyc in the compiled build): a truck's arrival is the one event
per truck that used to run interpreted (in ``sim/model/network.py``), and a profile of the compiled
month put half of the remaining time there. Everything the stream needs is built by the network
(:func:`sim.model.network.Model`) as plain values: its arrival times, its samplers and its truck
class's numbers; no scenario object is read while it runs.

A truck's attributes are drawn in the order the streams were always drawn: flags, shelf life and age,
value, tonnage.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from sim.model.kernel import Kernel
from sim.model.routes import Attrs, Draw, FlowRuntime, RouteKey
from sim.model.trucks import Cargo, Context, Truck

Send = Callable[[Cargo], None]


class Source:
    """One arrival stream's trucks, scheduled one at a time."""

    __slots__ = (
        "_attrs",
        "age",
        "class_index",
        "context",
        "cost",
        "dispatch",
        "fixed",
        "flag_names",
        "flags",
        "flow",
        "kernel",
        "next_time",
        "shelf",
        "times",
        "tonnage",
        "value",
    )

    def __init__(
        self,
        context: Context,
        kernel: Kernel,
        flow: FlowRuntime,
        class_index: int,
        times: Iterator[float],
        value: Draw,
        tonnage: Draw,
        flags: list[tuple[str, float, Draw]],
        fixed: Attrs,
        shelf_and_age: tuple[Draw, Draw] | None,
        cost: float,
        dispatch: Send | None,
    ):
        """``flags``: (name, probability, uniforms) of each flag of the class; ``shelf_and_age``: the
        samplers of a perishable cargo's shelf life and age on arrival (None: not perishable);
        ``dispatch``: how a truck leaves its origin when a lever applies (None: straight to the gate)."""
        self.context = context
        self.kernel = kernel
        self.flow = flow
        self.class_index = class_index
        self.times = times
        self.value = value
        self.tonnage = tonnage
        self.flag_names = [name for name, _, _ in flags]
        self.flags = [(p, u) for _, p, u in flags]
        self.fixed = fixed
        self.shelf: Draw | None = None
        self.age: Draw | None = None
        if shelf_and_age is not None:
            self.shelf, self.age = shelf_and_age
        self.cost = cost
        self.dispatch = dispatch
        self._attrs: dict[RouteKey, Callable[[], Attrs]] = {}
        self.next_time = math.nan

    def start(self) -> None:
        """Schedule the first arrival."""
        self._schedule_next()

    def _schedule_next(self) -> None:
        for t in self.times:  # the next arrival time, if any
            self.next_time = t
            self.kernel.after(t - self.kernel.clock._now, self._arrive)
            return

    def _attributes(self, key: RouteKey) -> Callable[[], Attrs]:
        """The attributes of trucks whose class and flags are ``key``, built when first asked for."""
        found = self._attrs.get(key)
        if found is None:
            found = self._attrs[key] = _attributes_of(self.fixed, self.flag_names, key)
        return found

    def _arrive(self, _event: object) -> None:
        flags = self.flags
        key: RouteKey = (self.class_index, *[u() < p for p, u in flags]) if flags else (self.class_index,)
        shelf, age = self.shelf, self.age
        shelf_left = shelf() - age() if shelf is not None and age is not None else math.inf
        value = self.value()
        cargo = Cargo(
            truck_class=self.class_index,
            key=key,
            attributes=self._attributes(key),
            value=value,
            tonnage=self.tonnage(),
            cost_per_day=self.cost,
            origin=self.next_time,
            shelf_left_h=shelf_left,
        )
        if self.dispatch is None:
            Truck(self.context, self.flow, cargo).advance(self.kernel.clock._now)
        else:
            self.dispatch(cargo)
        self._schedule_next()


def _attributes_of(fixed: Attrs, names: list[str], key: RouteKey) -> Callable[[], Attrs]:
    """The attributes of a truck class's trucks whose flag values are ``key[1:]`` (built when called)."""

    def attributes() -> Attrs:
        return {**fixed, **dict(zip(names, key[1:], strict=True))}

    return attributes
