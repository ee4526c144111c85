"""A truck's way through its gate: a small state machine driven by scheduled callbacks.

A truck is not a process. It moves when something happens to it: its service at a stage ends (the one
event a truck-stage costs), a pool grants it a server, its patience runs out, or it arrives at another
gate after diverting. Everything random about it (its service time at every stage of its route, its
return trips, patience, whether it would divert and the drive there) is drawn when it arrives, from
streams named after their source, so that a policy that changes one stage leaves every other draw as it
was (common random numbers).

Reneging costs one timer per truck, not a ``Condition`` per stage: the timer is set when the truck first
has to queue, for the time its patience ends. When it fires, a truck still queued gives up; a truck in
service by then ignores it (stale), and later gives up at once if it has to queue again and is not served
on the spot. The time a truck gives up is ``queued + max(0, deadline - queued)`` for the queue it is in,
the same float a timeout started at the queue would reach.

Times are the same floats the earlier process-based engine produced (delays are added to the clock, not
recomputed), so the tables are identical for the same seed (``tests/test_golden_tables.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.model.dated import period_at
from sim.model.patience import hazard_patience_h
from sim.model.routes import Attrs, FlowRuntime, Reneging, RouteKey, Step

if TYPE_CHECKING:
    from sim.model.kernel import Kernel
    from sim.model.records import Recorder
    from sim.model.resources import Pool

NO_PERIODS: list[tuple[float, ...]] = []  # a route without dated changes: shared, never read or changed


@dataclass(frozen=True, slots=True)
class Cargo:
    """What a truck carries from gate to gate: its class, attributes, value and perishability."""

    truck_class: int
    key: RouteKey  # the class and flag values: identifies the truck's route at any gate
    attributes: Callable[[], Attrs]  # its attributes (built only when a route is first worked out)
    value: float
    tonnage: float
    cost_per_day: float
    origin: float  # arrival in the province
    shelf_left_h: float  # shelf life left on arrival in the province (inf: not perishable)
    held_h: float = 0.0  # hours held upstream before ``origin`` (sim/model/upstream.py)
    upstream_cost_usd: float = 0.0  # what holding it upstream cost


class Context:
    """What every truck of a replication shares: the clock, the recorder and the flows."""

    __slots__ = ("after", "at", "clock", "flows", "kernel", "recorder", "stage_done", "to_units")

    def __init__(
        self,
        kernel: Kernel,
        recorder: Recorder,
        flows: dict[tuple[str, str], FlowRuntime],
        to_units: Callable[[float], float],
    ):
        self.kernel, self.recorder, self.flows, self.to_units = kernel, recorder, flows, to_units
        self.after, self.at, self.clock = kernel.after, kernel.at, kernel.clock
        self.stage_done = recorder.stage_done


class Truck:
    """One truck at one gate, from its arrival to its crossing (or giving up)."""

    __slots__ = (
        "cargo",
        "ctx",
        "deadline",
        "divert",
        "flow",
        "in_yard",
        "periods",
        "pos",
        "queued",
        "returns",
        "route",
        "services",
        "start",
        "steps",
        "tid",
        "timer_at",
        "travel",
        "waiting",
        "yard_done",
    )

    def __init__(
        self, ctx: Context, flow: FlowRuntime, cargo: Cargo, diverted_from: int = -1, travelled: bool = False
    ):
        """A truck arrives at ``flow``'s gate now (from another gate's row ``diverted_from``, or -1): it
        gets its record row and draws everything it will need here. ``travelled``: it reaches the gate
        some time after its arrival in the province (route choice, sim/model/route_choice.py)."""
        diverted = diverted_from >= 0
        self.ctx = ctx
        self.flow = flow
        self.cargo = cargo
        now = ctx.clock._now
        self.tid = ctx.recorder.new_truck(
            flow=flow.index,
            truck_class=cargo.truck_class,
            value=cargo.value,
            tonnage=cargo.tonnage,
            arrival=now if diverted or travelled else cargo.origin,
            origin=cargo.origin,
            shelf_left_h=cargo.shelf_left_h,
            cost_per_day=cargo.cost_per_day,
            diverted_from=diverted_from,
            # hook: upstream holding (issue 22), on the truck's first row only (a diverted row is not a
            # second wait upstream)
            held_h=0.0 if diverted else cargo.held_h,
            upstream_cost=0.0 if diverted else cargo.upstream_cost_usd,
        )
        route = self.route = flow.route(cargo.key, cargo.attributes)
        steps = self.steps = route.steps
        self.periods: list[tuple[float, ...]] = NO_PERIODS  # service times per dated period, by step
        if route.dated:
            self._draw_dated(diverted)
        elif diverted:
            self.services = [s.draw_diverted() for s in steps]
        else:
            self.services = [s.draw() for s in steps]
        returns = route.no_returns
        if returns is None:
            returns = [s.returns() if s.returns is not None else 0.0 for s in steps]
        self.returns: list[float] = returns
        self.deadline, self.divert, self.travel = math.inf, False, 0.0
        reneging = flow.reneging
        if reneging is not None:
            self._draw_patience(reneging, flow, now, diverted)
        self.pos = 0
        self.in_yard = False
        self.yard_done = False
        self.waiting: Pool | None = None  # the pool (or yard) it is queued at
        self.timer_at: float | None = None
        self.queued = self.start = now

    def _draw_dated(self, diverted: bool) -> None:
        """Draw a route with dated service changes, step by step in order (the same draws, in the same
        order, as any other route): one time at a plain step, one per period at a dated one."""
        services: list[float] = []
        periods: list[tuple[float, ...]] = []
        for s in self.steps:
            if s.periods:
                services.append(math.nan)
                periods.append(s.draw_periods_diverted() if diverted else s.draw_periods())
            else:
                services.append(s.draw_diverted() if diverted else s.draw())
                periods.append(())
        self.services, self.periods = services, periods

    def _service(self, step: Step, pos: int, now: float) -> float:
        """The service time at ``step`` (position ``pos``) starting ``now``: with dated changes the time
        of the period in force as service starts."""
        if step.periods:
            return self.periods[pos][period_at(step.periods, now)]
        return self.services[pos]

    def _draw_patience(self, reneging: Reneging, flow: FlowRuntime, now: float, diverted: bool) -> None:
        patience_h = (reneging.diverted_patience if diverted else reneging.patience)()
        u = reneging.divert_u()
        trip = reneging.travel()
        shelf = self.cargo.shelf_left_h
        hazard = reneging.hazard
        if hazard is not None:  # the draw is a unit exponential (sim/model/patience.py)
            keeps = reneging.shelf_life_fraction * shelf
            if diverted:  # the cargo aged at the first gate and on the road: less of its life is left
                keeps -= (now - self.cargo.origin) / self.ctx.to_units(1.0)
            patience_h = hazard_patience_h(patience_h, hazard[0], hazard[1], keeps)
        elif not math.isinf(shelf):
            patience_h = min(patience_h, max(0.0, reneging.shelf_life_fraction * shelf))
        self.deadline = now + self.ctx.to_units(patience_h)
        self.divert = (not diverted) and reneging.divert_to is not None and u < reneging.divert_share
        self.travel = self.ctx.to_units(trip)

    # ------------------------------------------------------------------------------------------------
    # moving through the stages
    # ------------------------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Go on to the next step of the route (entering the yard first if it is here), or clear."""
        pos = self.pos
        steps = self.steps
        if pos == len(steps):
            self._clear(now)
            return
        if pos == self.route.yard_step and not self.yard_done:
            self.yard_done = True
            yard = self.flow.yard
            if yard is not None and not yard.request(self, None, (), now):
                self.ctx.recorder.outside(self.tid, now)
                self._queue_at(yard, now)
                return
            self._enter_yard(now)
        step = steps[pos]
        self.queued = now
        pool = step.pool
        if pool is None:  # a pure delay (e.g. waiting for a test result); a ban holds it first
            if step.bans:
                self._hold(0)
            else:
                self.start = now
                self._begin_service(now)
        elif pool.request(self, step.priority, step.bans, now):  # served at once: the common case, inline
            self.start = now
            periods = step.periods
            service = self.periods[pos][period_at(periods, now)] if periods else self.services[pos]
            self.ctx.after(service, self._served)
        else:
            self._queue_at(pool, now)

    def _enter_yard(self, now: float) -> None:
        self.in_yard = True
        self.ctx.recorder.entered_yard(self.tid, self.flow.gate, now)

    def _begin_service(self, now: float) -> None:
        """Service at the current stage starts now: schedule its end. With dated service changes the
        truck's time is the one of the period in force as service starts."""
        self.start = now
        pos = self.pos
        self.ctx.after(self._service(self.steps[pos], pos, now), self._served)

    def _hold(self, first_ban: int) -> None:
        """A pure delay waits out each ban in force (sorted by start, so a hold ending inside the next is
        seen), then starts."""
        now = self.ctx.clock._now
        bans = self.steps[self.pos].bans
        for i in range(first_ban, len(bans)):
            t0, t1 = bans[i]
            if t0 <= now < t1:
                self.ctx.after(t1 - now, self._hold_from(i + 1))
                return
        self._begin_service(now)

    def _hold_from(self, first_ban: int) -> Callable[[object], None]:
        """A callback that goes on holding from ban ``first_ban`` (a closure, not a lambda with a default
        argument, which a compiled build refuses)."""

        def resume(_event: object) -> None:
            self._hold(first_ban)

        return resume

    def granted(self, now: float) -> None:
        """The pool (or yard) this truck queued at gives it a place now."""
        if self.waiting is self.flow.yard:  # a truck queues at the yard only to enter it
            self.waiting = None
            self._enter_yard(now)
            self.advance(now)
            return
        self.waiting = None
        self._begin_service(now)

    def _served(self, _event: object) -> None:
        ctx = self.ctx
        now = ctx.clock._now
        pos = self.pos
        step = self.steps[pos]
        back = self.returns[pos]
        pool = step.pool
        if pool is not None:
            if back > 0.0:  # the server (a border driver) comes back before serving again
                ctx.after(back, pool.release)
            else:
                pool.release()
        ctx.stage_done(self.tid, step.stage_index, self.queued, self.start, now, now + back)
        self.pos = pos + 1
        self.advance(now)

    def _clear(self, now: float) -> None:
        flow = self.flow
        # recorded before the yard place goes to the next truck: the counts never exceed the yard
        self.ctx.recorder.cleared(self.tid, flow.gate, now, self.in_yard)
        if self.in_yard and flow.yard is not None:
            flow.yard.release()

    # ------------------------------------------------------------------------------------------------
    # patience
    # ------------------------------------------------------------------------------------------------
    def _queue_at(self, pool: Pool, now: float) -> None:
        self.waiting = pool
        deadline = self.deadline
        if deadline == math.inf:
            return
        self.queued = now
        give_up_at = now + max(0.0, deadline - now)
        if give_up_at <= now:  # patience already spent and not served on the spot
            self._give_up(give_up_at)
        elif self.timer_at is None:
            self.timer_at = give_up_at
            self.ctx.at(give_up_at, self._patience_over)

    def _patience_over(self, _event: object) -> None:
        self.timer_at = None
        if self.waiting is None:
            return  # in service or gone: a stale timer
        queued = self.queued
        give_up_at = queued + max(0.0, self.deadline - queued)
        if give_up_at > self.ctx.clock._now:  # queued again since the timer was set, one ulp later
            self.timer_at = give_up_at
            self.ctx.at(give_up_at, self._patience_over)
            return
        self._give_up(give_up_at)

    def _give_up(self, when: float) -> None:
        """The truck stops waiting: it turns back, or drives to another gate and starts again there."""
        flow = self.flow
        pool = self.waiting
        assert pool is not None, "only a queued truck gives up"
        self.waiting = None
        pool.withdraw(self)
        self.ctx.recorder.gave_up(self.tid, flow.gate, when, self.in_yard, self.divert)
        if self.in_yard and pool is not flow.yard and flow.yard is not None:
            flow.yard.release()
        self.in_yard = False
        if self.divert:
            self.ctx.at(when + self.travel, self._arrive_elsewhere)

    def _arrive_elsewhere(self, _event: object) -> None:
        reneging = self.flow.reneging
        assert reneging is not None and reneging.divert_to is not None, "only a rule naming a gate diverts"
        target = self.ctx.flows[(reneging.divert_to, self.flow.direction)]
        Truck(self.ctx, target, self.cargo, diverted_from=self.tid).advance(self.ctx.clock._now)
