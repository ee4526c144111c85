"""Holding trucks at their origin and calling them forward (a flow's ``upstream`` section, issue 22).

In the winter of 2021-22 the province asked shippers to hold trucks (facts #26) and the digital platform
(facts #35) registers trucks before they leave, so they can be called forward by slot. Here a truck of a
covered class that is ready to leave (the time its arrival stream gives) is kept at its origin when it
complies (a uniform of its own stream below ``compliance``) and the rule in force says so; it is released
first held, first released:

- ``quota``: at most ``daily_quota`` released a calendar day (refilled at local midnight);
- ``threshold``: released while fewer than ``threshold`` trucks of the flow wait at the gate (the exact
  ``waiting`` count: before, outside and in the yard), checked on the hour and when a truck is ready;
- ``slots``: ``slots_per_hour`` released at the start of each open hour of ``hours`` (a truck ready in
  an hour whose slots are not all taken goes at once);
- ``none``: no holding (every held truck is released when such a period starts).

A released truck arrives at the gate at its release time (the trip from the origin is part of its arrival
stream as without holding): its cargo has aged ``held hours x ageing rate`` of shelf life and holding
it cost the class's ``cost_usd_per_day`` a day. A held shipment whose patience runs out
(``cancel_after_h`` from when it was ready, at the latest when a perishable cargo has used
``shelf_life_fraction`` of its shelf life) is cancelled. Every decision is an event of the kernel (the
hourly tick, the cancel timers), so the heapq kernel gives the SimPy tables (tests/test_kernel_identical).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sim.model.calendar import Calendar, closure_span
from sim.model.dated import period_at
from sim.model.random_streams import sampler, stream, uniforms
from sim.model.trucks import Cargo
from sim.scenario.schema import WEEKDAYS, Hours, Upstream, UpstreamPeriod

if TYPE_CHECKING:
    from sim.model.network import Model

Onward = Callable[[Cargo], None]


class _Held:
    """A truck waiting at its origin."""

    __slots__ = ("active", "cargo", "onward", "ready")

    def __init__(self, cargo: Cargo, ready: float, onward: Onward):
        self.cargo, self.ready, self.onward, self.active = cargo, ready, onward, True


class UpstreamHold:
    """The trucks of one flow held at their origin, and the rule that releases them."""

    def __init__(
        self,
        model: Model,  # imported for the type checker only: the network imports this module
        gate: str,
        direction: str,
        spec: Upstream,
        class_names: list[str],
    ):
        self.kernel = model.kernel
        self.cal: Calendar = model.cal
        self.horizon: float = model.horizon
        self.recorder = model.recorder
        self.flow = model.flows[(gate, direction)].index
        self.spec = spec
        self.covered = None if spec.classes is None else {class_names.index(c) for c in spec.classes}
        self.rates = [spec.ageing_rate_by_class.get(c, spec.ageing_rate) for c in class_names]
        self.costs = [spec.cost_usd_per_day_by_class.get(c, spec.cost_usd_per_day) for c in class_names]
        self.complies = uniforms(stream(model.seed, "upstream-comply", gate, direction))
        self.patience = (
            sampler(spec.cancel_after_h, stream(model.seed, "upstream-cancel", gate, direction))
            if spec.cancel_after_h is not None
            else None
        )
        self.periods = list(spec.periods.values())
        self.starts = [self.cal.from_datetime(p.start) for p in self.periods]
        self.queue: deque[_Held] = deque()
        self.count = 0  # trucks held now (the queue also keeps cancelled entries until they reach the front)
        self.tokens = 0  # what is left of today's quota, or of this hour's slots
        self.hour = -1  # the calendar hour the tokens belong to
        self._last_period: UpstreamPeriod | None = None
        self._schedule_tick(self.starts[0])

    # ------------------------------------------------------------------------------------------------
    # the rule in force
    # ------------------------------------------------------------------------------------------------
    def _period(self, now: float) -> UpstreamPeriod | None:
        i = period_at(self.starts, now)  # 0 before the first period, k within the k-th
        return self.periods[i - 1] if i > 0 else None

    def _hour_index(self, now: float) -> int:
        """Whole hours since the midnight starting the calendar's first day (the hour ``now`` is in)."""
        return math.floor(self.cal.to_hours(now) + self.cal.midnight_offset_hours + 1e-9)

    def _refresh_tokens(self, period: UpstreamPeriod, now: float) -> None:
        """Refill the quota at the first look of a day, the slots at the first look of an hour, and the
        room under the threshold at every look (counted once: a released truck that goes by rail or
        drives to another gate first does not show at the gate at once, and must not make room for more)."""
        hour = self._hour_index(now)
        if period is not self._last_period:  # a new period starts with its own quota or slots
            self._last_period, self.hour = period, -1
        if period.rule == "quota":
            if hour // 24 != self.hour // 24 or self.hour < 0:
                self.tokens = period.daily_quota or 0
                self.hour = hour
        elif period.rule == "slots" and hour != self.hour:
            self.tokens = (period.slots_per_hour or 0) if _open(period.hours, self.cal, hour) else 0
            self.hour = hour
        elif period.rule == "threshold":
            self.tokens = max(0, (period.threshold or 0) - sum(self.recorder.b_counts[self.flow]))

    def _may_release(self, period: UpstreamPeriod | None) -> bool:
        """Whether the rule lets one more truck go now (and takes its token)."""
        if period is None or period.rule == "none":
            return True
        if self.tokens > 0:
            self.tokens -= 1
            return True
        return False

    # ------------------------------------------------------------------------------------------------
    # trucks
    # ------------------------------------------------------------------------------------------------
    def offer(self, cargo: Cargo, onward: Onward) -> None:
        """A truck is ready to leave its origin: it goes ``onward`` now, or is held and goes later."""
        if self.covered is not None and cargo.truck_class not in self.covered:
            onward(cargo)
            return
        now = self.kernel.now
        period = self._period(now)
        if period is None or period.rule == "none" or self.complies() >= period.compliance:
            onward(cargo)
            return
        self._refresh_tokens(period, now)
        if not self.count and self._may_release(period):
            onward(cargo)
            return
        entry = _Held(cargo, now, onward)
        self.queue.append(entry)
        self.count += 1
        self.recorder.held(self.flow, now, +1)
        if self.patience is not None:
            patience_h = self.patience()
            rate = self.rates[cargo.truck_class]
            if not math.isinf(cargo.shelf_left_h) and rate > 0:  # sold elsewhere before it rots
                keeps_h = max(0.0, self.spec.shelf_life_fraction * cargo.shelf_left_h / rate)
                patience_h = min(patience_h, keeps_h)
            self.kernel.at(now + self.cal.from_hours(patience_h), lambda _e: self._cancel(entry))

    def _release(self, entry: _Held, now: float) -> None:
        entry.active = False
        self.count -= 1
        self.recorder.held(self.flow, now, -1)
        held_h = self.cal.to_hours(now - entry.ready)
        cargo = entry.cargo
        entry.onward(
            replace(
                cargo,
                origin=now,
                shelf_left_h=cargo.shelf_left_h - held_h * self.rates[cargo.truck_class],
                held_h=held_h,
                upstream_cost_usd=held_h / 24.0 * self.costs[cargo.truck_class],
            )
        )

    def _cancel(self, entry: _Held) -> None:
        if not entry.active:
            return
        now = self.kernel.now
        entry.active = False
        self.count -= 1
        self.recorder.held(self.flow, now, -1)
        self._record_gone(entry, now, cancelled=True)

    def _record_gone(self, entry: _Held, now: float, cancelled: bool) -> None:
        cargo = entry.cargo
        held_h = self.cal.to_hours(now - entry.ready)
        self.recorder.left_upstream(
            flow=self.flow,
            truck_class=cargo.truck_class,
            value=cargo.value,
            tonnage=cargo.tonnage,
            generated=entry.ready,
            when=now,
            shelf_left_h=cargo.shelf_left_h - held_h * self.rates[cargo.truck_class],
            cost_per_day=cargo.cost_per_day,
            held_h=held_h,
            upstream_cost=held_h / 24.0 * self.costs[cargo.truck_class],
            cancelled=cancelled,
        )

    def _release_due(self, now: float) -> None:
        period = self._period(now)
        if period is not None:
            self._refresh_tokens(period, now)
        queue = self.queue
        while queue:
            if not queue[0].active:
                queue.popleft()
                continue
            if not self._may_release(period):
                return
            self._release(queue.popleft(), now)

    # ------------------------------------------------------------------------------------------------
    # the hourly tick
    # ------------------------------------------------------------------------------------------------
    def _schedule_tick(self, at: float) -> None:
        """The next look at the queue: the first whole hour at or after ``at`` (within the horizon)."""
        hours = math.ceil(self.cal.to_hours(max(at, 0.0)) + self.cal.midnight_offset_hours - 1e-9)
        when = self.cal.from_hours(hours - self.cal.midnight_offset_hours)
        if when < self.horizon:
            self.kernel.at(max(when, self.kernel.now), self._tick)

    def _tick(self, _event: object) -> None:
        now = self.kernel.now
        self._release_due(now)
        self._schedule_tick(now + self.cal.from_hours(1.0) * 0.5)  # the next whole hour

    def finish(self, horizon: float) -> None:
        """At the horizon: a row for every truck still held (no gate arrival)."""
        for entry in self.queue:
            if entry.active:
                self._record_gone(entry, horizon, cancelled=False)


def _open(hours: Hours | None, cal: Calendar, hour: int) -> bool:
    """Whether the platform gives slots in calendar hour ``hour`` (counted from the first midnight)."""
    if hours is None:
        return True
    start = cal.date_of_day(hour // 24) + timedelta(hours=hour % 24)
    if WEEKDAYS[start.weekday()] not in hours.days:
        return False
    h = hour % 24
    if not any(a <= h < b for a, b in hours.spans()):
        return False
    t = cal.from_datetime(start)
    return not any(t0 <= t < t1 for t0, t1 in (closure_span(c, cal) for c in hours.closed))
