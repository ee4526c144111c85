"""Server pools with opening hours, built on SimPy's own resources.

A :class:`ScheduledResource` is a ``simpy.PriorityResource`` whose requests are granted only while it is
open. It plugs into SimPy's put-queue mechanism (``_do_put``) rather than wrapping requests in extra
processes: the queue, its order (priority, then arrival) and the release logic stay SimPy's. A truck in
service when the pool closes finishes; no new service starts until it opens again, and at each opening
up to ``capacity`` queued trucks start at once, in queue order.

Pools that are always open are plain ``simpy.Resource`` / ``simpy.PriorityResource`` (the fast path).
"""

from __future__ import annotations

from collections.abc import Generator

import simpy


class ScheduledResource(simpy.PriorityResource):
    """A priority resource that grants requests only inside its open intervals."""

    def __init__(self, env: simpy.Environment, capacity: int, intervals: list[tuple[float, float]]):
        super().__init__(env, capacity)
        self.intervals = intervals
        self.is_open = False
        env.process(self._follow_schedule())

    def _do_put(self, event: simpy.resources.resource.Request) -> bool | None:
        if not self.is_open:
            return None  # stays queued; the opening will grant it
        return super()._do_put(event)

    def _follow_schedule(self) -> Generator[simpy.Event, None, None]:
        env = self._env
        for start, end in self.intervals:
            if start > env.now:
                yield env.timeout(start - env.now)
            self.is_open = True
            while self.put_queue and len(self.users) < self.capacity:
                self._trigger_put(None)
            yield env.timeout(end - env.now)
            self.is_open = False


def make_pool(
    env: simpy.Environment, capacity: int, intervals: list[tuple[float, float]] | None, priority: bool
) -> simpy.Resource:
    """The cheapest SimPy resource with the needed behaviour (``intervals=None`` means always open)."""
    if intervals is not None:
        return ScheduledResource(env, capacity, intervals)
    if priority:
        return simpy.PriorityResource(env, capacity)
    return simpy.Resource(env, capacity)
