"""Server pools with opening hours and daily caps, built on SimPy's own resources.

A :class:`ScheduledResource` is a ``simpy.PriorityResource`` whose requests are granted only while it is
open and, with a daily cap, only while today's quota lasts (a token bucket refilled at local midnight:
the Chinese side's "N trucks a day"). It plugs into SimPy's put-queue mechanism (``_do_put``) rather
than wrapping requests in extra processes: the queue, its order (priority, then arrival) and the release
logic stay SimPy's. A truck in service when the pool closes finishes; no new service starts until it
opens again, and at each opening (or refill) queued trucks start in queue order, up to capacity.

Pools that are always open and uncapped are plain ``simpy.Resource`` / ``simpy.PriorityResource``.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy
from simpy.resources.resource import PriorityRequest, Request


class BannableRequest(PriorityRequest):
    """A request that may not be granted during some intervals (a ban on the truck's product).

    The bans are set before SimPy first tries to grant the request, so a banned truck never starts."""

    def __init__(self, resource: ScheduledResource, priority: int, bans: tuple[tuple[float, float], ...]):
        self.bans = bans
        super().__init__(resource, priority)


class ScheduledResource(simpy.PriorityResource):
    """A priority resource that grants requests only inside its open intervals and within a daily cap.

    A request carrying bans is passed over while one of them is in force, and the trucks behind it are
    served (a banned product does not block the others); ``wakeups`` are the times when bans end and the
    queue must be looked at again.
    """

    def __init__(
        self,
        env: simpy.Environment,
        capacity: int,
        intervals: list[tuple[float, float]] | None,
        daily_cap: int | None = None,
        refills: list[float] = (),  # type: ignore[assignment]
        wakeups: list[float] = (),  # type: ignore[assignment]
    ):
        super().__init__(env, capacity)
        self.intervals = intervals
        self.is_open = intervals is None
        self.daily_cap = daily_cap
        self.tokens: float = daily_cap if daily_cap is not None else math.inf
        if intervals is not None:
            env.process(self._follow_schedule(intervals))
        if daily_cap is not None:
            env.process(self._refill(list(refills)))
        if wakeups:
            env.process(self._wake(sorted(set(wakeups))))

    def request(self, priority: int = 0, bans: tuple[tuple[float, float], ...] = ()) -> PriorityRequest:  # type: ignore[override]
        return BannableRequest(self, priority, bans) if bans else PriorityRequest(self, priority)

    def _do_put(self, event: Request) -> bool | None:
        if not self.is_open or self.tokens <= 0:
            return None  # stays queued; an opening or a refill will grant it
        bans = getattr(event, "bans", None)
        if bans:
            now = self._env.now
            if any(t0 <= now < t1 for t0, t1 in bans):
                return True  # passed over: look at the next request in the queue
        super()._do_put(event)
        if event.triggered:
            self.tokens -= 1
        return None

    def _grant_waiting(self) -> None:
        while self.put_queue and len(self.users) < self.capacity and self.is_open and self.tokens > 0:
            before = len(self.users)
            self._trigger_put(None)
            if len(self.users) == before:  # everyone waiting is banned for now
                break

    def _follow_schedule(self, intervals: list[tuple[float, float]]) -> Generator[simpy.Event, None, None]:
        env = self._env
        for start, end in intervals:
            if start > env.now:
                yield env.timeout(start - env.now)
            self.is_open = True
            self._grant_waiting()
            yield env.timeout(end - env.now)
            self.is_open = False

    def _wake(self, times: list[float]) -> Generator[simpy.Event, None, None]:
        env = self._env
        for t in times:
            if t > env.now:
                yield env.timeout(t - env.now)
            self._grant_waiting()

    def _refill(self, times: list[float]) -> Generator[simpy.Event, None, None]:
        env = self._env
        for t in times:
            yield env.timeout(t - env.now)
            self.tokens = self.daily_cap  # type: ignore[assignment]
            self._grant_waiting()


def make_pool(
    env: simpy.Environment,
    capacity: int,
    intervals: list[tuple[float, float]] | None,
    priority: bool,
    daily_cap: int | None = None,
    refills: list[float] = (),  # type: ignore[assignment]
    wakeups: list[float] = (),  # type: ignore[assignment]
) -> simpy.Resource:
    """The cheapest SimPy resource with the needed behaviour (``intervals=None`` means always open)."""
    if intervals is not None or daily_cap is not None or wakeups:
        return ScheduledResource(env, capacity, intervals, daily_cap, refills, wakeups)
    if priority:
        return simpy.PriorityResource(env, capacity)
    return simpy.Resource(env, capacity)
