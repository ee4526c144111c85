"""Server pools: the lanes, desks and teams a truck queues for, with opening hours and daily caps.

A :class:`Pool` has ``capacity`` servers and a queue of waiting trucks. It follows SimPy's resource rules
exactly, so that the model gives the same trucks the same servers as a SimPy ``Resource`` /
``PriorityResource`` would:

- a request is granted at once if a server is free (and the pool is open, today's quota lasts and no ban
  holds the truck); otherwise the truck joins the queue;
- a plain pool serves its queue first come, first served; a priority pool in order of (priority rank,
  time of request), ties in arrival order, which is SimPy's ``PriorityRequest`` key with its stable sort.
  Here the queue is a heap on the same key (O(log n) a request) instead of a list re-sorted on every
  request as ``simpy.PriorityResource`` does (a backlog of hundreds made that quadratic);
- when a server is released the first waiting truck that may start does (a banned truck is passed over
  and the trucks behind it are served);
- a pool with opening hours serves only while open: a truck in service when it closes finishes, and at
  each opening the queue starts in order, up to capacity; a daily cap (the Chinese side's "N trucks a
  day") is a quota refilled at local midnight.

Granting is synchronous: no event is scheduled for a request or a release, the truck is told at once
(its ``granted`` method) and schedules the end of its service itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from itertools import count
from typing import Protocol

from sim.model.kernel import Kernel

Bans = tuple[tuple[float, float], ...]


class Waiter(Protocol):
    """Whatever queues for a pool (a truck): told when it gets a server."""

    def granted(self, now: float) -> None:
        """It has a server (or a place) from ``now``."""
        ...


# a priority queue's entry: (priority rank, time of request, arrival order, truck, bans). The arrival
# order is unique, so the heap never compares two trucks, and it names the entry: a pool keeps the order
# of each truck's live entry (an int, compared by value: a compiled build may box a tuple afresh, so an
# identity check on entries would fail there and leave trucks queued for ever)
Entry = tuple[int, float, int, Waiter, Bans]


def _banned(bans: Bans, now: float) -> bool:
    return any(t0 <= now < t1 for t0, t1 in bans)


class Pool:
    """A first-come, first-served pool of identical servers, always open and uncapped.

    A truck that gives up is not searched for in the queue (a backlog of thousands made that the
    slowest line of a crisis): its place is marked empty and skipped when it comes to the front."""

    __slots__ = ("_gone", "_waiting", "busy", "capacity", "clock", "queue")

    def __init__(self, kernel: Kernel, capacity: int):
        self.clock = kernel.clock
        self.capacity = capacity
        self.busy = 0  # servers taken, including a border driver still on the way back
        self.queue: deque[Waiter] = deque()
        self._waiting = 0
        self._gone: set[int] = set()  # id() of trucks that left the queue; the queue holds them alive

    def waiting(self) -> int:
        """How many trucks are queued."""
        return self._waiting

    def request(self, truck: Waiter, priority: int | None, bans: Bans, now: float) -> bool:
        """Take a server now (True) or join the queue (False: the truck's ``granted`` is called later)."""
        if self.busy < self.capacity:
            self.busy += 1
            return True
        self.queue.append(truck)
        self._waiting += 1
        return False

    def withdraw(self, truck: Waiter) -> None:
        """Take a waiting truck out of the queue (it gave up)."""
        self._gone.add(id(truck))
        self._waiting -= 1

    def release(self, _event: object = None) -> None:
        """A server is free again: the first waiting truck takes it."""
        queue, gone = self.queue, self._gone
        while queue:
            truck = queue.popleft()
            if gone and id(truck) in gone:
                gone.discard(id(truck))
                continue
            self._waiting -= 1
            truck.granted(self.clock._now)
            return
        self.busy -= 1


class PriorityPool(Pool):
    """A pool serving its queue by (priority rank, time of request), ties in arrival order.

    The queue is a binary heap (``heap``; the plain ``queue`` stays empty) on SimPy's ``PriorityRequest``
    key plus an arrival counter, which gives the order of SimPy's stably sorted queue at O(log n) a request
    instead of a re-sort of the whole list; a truck that gives up leaves a stale entry, skipped when it
    reaches the top."""

    __slots__ = ("_order", "_place", "heap")

    def __init__(self, kernel: Kernel, capacity: int):
        super().__init__(kernel, capacity)
        self.heap: list[Entry] = []
        self._order = count()
        self._place: dict[int, int] = {}  # id(truck) -> the arrival order of its live queue entry

    def waiting(self) -> int:
        """How many trucks are queued."""
        return len(self._place)

    def request(self, truck: Waiter, priority: int | None, bans: Bans, now: float) -> bool:
        """Take a server now (True) or join the queue in order (False)."""
        if self.busy < self.capacity:
            self.busy += 1
            return True
        self._join(truck, priority, bans, now)
        return False

    def _join(self, truck: Waiter, priority: int | None, bans: Bans, now: float) -> None:
        entry: Entry = (priority or 0, now, next(self._order), truck, bans)
        heappush(self.heap, entry)
        self._place[id(truck)] = entry[2]

    def withdraw(self, truck: Waiter) -> None:
        """Take a waiting truck out of the queue (it gave up)."""
        del self._place[id(truck)]

    def _pop(self) -> Entry | None:
        """The first live entry, taken off the queue (None if no truck waits)."""
        queue, place = self.heap, self._place
        while queue:
            entry = heappop(queue)
            key = id(entry[3])
            if place.get(key) == entry[2]:  # its live entry (not one left by a truck that gave up)
                del place[key]
                return entry
        return None

    def release(self, _event: object = None) -> None:
        """A server is free again: the first waiting truck takes it."""
        entry = self._pop() if self._place else None
        if entry is None:
            self.busy -= 1
        else:
            entry[3].granted(self.clock._now)


class ScheduledPool(PriorityPool):
    """A priority pool that serves only inside its open intervals and within a daily cap.

    ``intervals`` (sorted, merged; ``None``: always open) come from the opening hours and closures;
    ``refills`` are the local midnights when a daily cap's quota is restored; ``wakeups`` are the times
    when a ban ends and the queue must be looked at again. Each is a timetable of scheduled callbacks,
    one event per change. Dated changes (a scenario's ``changes`` of a stage): ``caps`` gives the quota
    from each refill on (``inf``: no cap), ``resizes`` the (time, servers) at which the pool's size
    changes (a truck in service when it shrinks finishes). A request carrying bans is passed over while
    one of them is in force, and the trucks behind it are served (a banned product does not block the
    others)."""

    __slots__ = ("_held", "caps", "daily_cap", "is_open", "resizes", "tokens")

    def __init__(
        self,
        kernel: Kernel,
        capacity: int,
        intervals: list[tuple[float, float]] | None,
        daily_cap: int | None = None,
        refills: Sequence[float] = (),
        wakeups: Sequence[float] = (),
        caps: Sequence[float] = (),
        resizes: Sequence[tuple[float, int]] = (),
    ):
        super().__init__(kernel, capacity)
        # banned trucks set aside until their ban ends: a heap of (ban end, order, entry); they are still
        # waiting (and counted), and go back to the queue in their place as soon as the ban is over
        self._held: list[tuple[float, int, Entry]] = []
        self.is_open = intervals is None
        self.daily_cap = daily_cap
        self.caps = [float(c) for c in caps]  # one type: a float quota (inf: no cap)
        self.resizes = list(resizes)
        self.tokens: float = float(daily_cap) if daily_cap is not None else math.inf
        if intervals is not None:  # an opening already due acts at once; every closing is an event
            times = [t for span in intervals for t in span]
            _Timetable(kernel, times, self._open_or_close, _is_opening).start()
        if daily_cap is not None or self.caps:
            _Timetable(kernel, list(refills), self._refill, _never).start()
        if self.resizes:
            _Timetable(kernel, [t for t, _ in self.resizes], self._resize, _always).start()
        if wakeups:
            _Timetable(kernel, sorted(set(wakeups)), self._wake, _always).start()

    def request(self, truck: Waiter, priority: int | None, bans: Bans, now: float) -> bool:
        """Take a server now (True) or join the queue in order (False)."""
        if (
            self.busy < self.capacity
            and self.is_open
            and self.tokens > 0
            and not (bans and _banned(bans, now))
        ):
            self.busy += 1
            self.tokens -= 1
            return True
        self._join(truck, priority, bans, now)
        return False

    def _start_next(self, now: float) -> bool:
        """Start the first waiting truck no ban holds, if a server is free and the pool may serve."""
        if not (self.busy < self.capacity and self.is_open and self.tokens > 0):
            return False
        if self._held and self._held[0][0] <= now:
            self._unhold(now)
        entry = self._pop()
        while entry is not None and entry[4] and _banned(entry[4], now):  # passed over while banned
            self._hold(entry, now)
            entry = self._pop()
        if entry is None:
            return False
        truck = entry[3]
        self.busy += 1
        self.tokens -= 1
        truck.granted(now)
        return True

    def _hold(self, entry: Entry, now: float) -> None:
        """Set a banned truck aside (still waiting) until the ban in force on it ends."""
        until = min(t1 for t0, t1 in entry[4] if t0 <= now < t1)
        heappush(self._held, (until, entry[2], entry))
        self._place[id(entry[3])] = entry[2]

    def _unhold(self, now: float) -> None:
        """Put back in the queue, in their places, the set-aside trucks whose ban is over."""
        held, place = self._held, self._place
        while held and held[0][0] <= now:
            entry = heappop(held)[2]
            if place.get(id(entry[3])) != entry[2]:
                continue  # it gave up meanwhile
            if _banned(entry[4], now):  # another ban starts as this one ends
                heappush(held, (min(t1 for t0, t1 in entry[4] if t0 <= now < t1), entry[2], entry))
            else:
                heappush(self.heap, entry)

    def release(self, _event: object = None) -> None:
        """A server is free again: the first waiting truck that may start takes it."""
        self.busy -= 1
        if self._place and self.is_open and self.tokens > 0:
            self._start_next(self.clock._now)

    def _start_waiting(self) -> None:
        """Start queued trucks in order, up to capacity (at an opening, a refill or the end of a ban)."""
        now = self.clock._now
        while self._place and self._start_next(now):
            pass

    def _open_or_close(self, index: int) -> None:
        self.is_open = index % 2 == 0  # the timetable alternates opening, closing
        if self.is_open:
            self._start_waiting()

    def _refill(self, index: int) -> None:
        cap = self.caps[index] if self.caps else self.daily_cap
        self.tokens = float(cap) if cap is not None else math.inf
        self._start_waiting()

    def _resize(self, index: int) -> None:
        self.capacity = self.resizes[index][1]
        self._start_waiting()

    def _wake(self, _index: int) -> None:
        self._start_waiting()


def _is_opening(index: int) -> bool:
    """An opening (even index of an intervals timetable) already due acts at once."""
    return index % 2 == 0


def _never(_index: int) -> bool:
    return False


def _always(_index: int) -> bool:
    return True


class _Timetable:
    """Calls ``action(i)`` at each time ``times[i]``, one scheduled event at a time.

    A time not after the current one is acted on at once when ``due_now(i)`` says so (an opening at
    time 0, a ban already over), otherwise it is still scheduled (a delay of 0). Each next event is
    scheduled with the delay ``times[i] - now``, as a process doing ``yield env.timeout(t - env.now)``
    would, so the times are the very same floats."""

    __slots__ = ("action", "due_now", "index", "kernel", "times")

    def __init__(
        self,
        kernel: Kernel,
        times: list[float],
        action: Callable[[int], None],
        due_now: Callable[[int], bool],
    ):
        self.kernel, self.times, self.action, self.due_now = kernel, times, action, due_now
        self.index = 0

    def start(self) -> None:
        self._advance()

    def _advance(self) -> None:
        times, now = self.times, self.kernel.now
        while self.index < len(times):
            t = times[self.index]
            if t > now or not self.due_now(self.index):
                self.kernel.after(t - now, self._fire)
                return
            self.action(self.index)
            self.index += 1

    def _fire(self, _event: object) -> None:
        self.action(self.index)
        self.index += 1
        self._advance()


def make_pool(
    kernel: Kernel,
    capacity: int,
    intervals: list[tuple[float, float]] | None,
    priority: bool,
    daily_cap: int | None = None,
    refills: Sequence[float] = (),
    wakeups: Sequence[float] = (),
    caps: Sequence[float] = (),
    resizes: Sequence[tuple[float, int]] = (),
) -> Pool:
    """The simplest pool with the needed behaviour (``intervals=None`` means always open)."""
    if intervals is not None or daily_cap is not None or wakeups or caps or resizes:
        return ScheduledPool(kernel, capacity, intervals, daily_cap, refills, wakeups, caps, resizes)
    if priority:
        return PriorityPool(kernel, capacity)
    return Pool(kernel, capacity)
