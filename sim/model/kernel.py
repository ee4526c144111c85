"""The model's clock: a future-event list that calls a function at a simulation time.

The model needs only three things from a discrete-event kernel: the current time, "call this function
after a delay (or at a time)", and "run until". Trucks, pools and timetables are plain objects whose
methods are those functions (callbacks); none of them is a process or a generator, so a truck-stage
costs one scheduled event (the end of its service) instead of the five a process-per-truck needs
(request, grant, condition for reneging, timeout, release).

Two kernels give the model that clock:

- :class:`SimPyKernel` (the default, the reference): SimPy's own ``Environment``, its event heap and its
  ``run(until)`` loop. Events are ordered by (time, priority, insertion order), as in any SimPy model.
- :class:`HeapKernel`: the same ordering, (time, insertion order), on a bare ``heapq`` loop without
  SimPy's per-event objects. Every event the model schedules has SimPy's NORMAL priority, so the two
  kernels process the same events in the same order and a replication gives identical tables under
  either (``tests/test_kernel_identical.py`` checks every committed scenario and rule).

Callbacks take one positional argument (SimPy passes the event; the heap kernel passes ``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from itertools import count
from typing import Any, Protocol

import simpy
from simpy.events import NORMAL

from sim.errors import UserError

Callback = Callable[[object], None]
KERNELS = ("simpy", "heap")


class Clock(Protocol):
    """The object whose ``_now`` attribute is the current time (read on every event, so no property in
    the kernels; read-only here, so that SimPy's ``Environment`` and the heap kernel both qualify)."""

    @property
    def _now(self) -> float: ...


class Kernel(Protocol):
    """What the model asks of a kernel: the time, scheduling a callback, and running to a time."""

    @property
    def clock(self) -> Clock:
        """What holds the current time as ``_now``."""
        ...

    @property
    def now(self) -> float:
        """The current simulation time."""
        ...

    def after(self, delay: float, callback: Callback) -> None:
        """Call ``callback`` when ``delay`` time units have passed."""
        ...

    def at(self, when: float, callback: Callback) -> None:
        """Call ``callback`` at the absolute time ``when``."""
        ...

    def run(self, until: float) -> None:
        """Process every event before ``until``."""
        ...


class _Call:
    """The lightest object SimPy's ``Environment.step`` accepts as an event: a list of callbacks and a
    success flag (no value, no environment reference, no per-event dictionary)."""

    __slots__ = ("_ok", "callbacks")

    def __init__(self, callback: Callback):
        # SimPy's step() sets ``callbacks`` to None once the event is processed: typed so
        self.callbacks: list[Callback] | None = [callback]
        self._ok = True


def simpy_event_heap(env: simpy.Environment) -> tuple[list[Any], Iterator[int]]:
    """SimPy's event heap and its event counter: the one place this package reads SimPy's private state.

    Why: ``Environment.schedule`` takes a delay, not a time, and costs a method call and an Event per
    callback. The model schedules a bare callback at an exact time millions of times a run, so it pushes
    ``(time, priority, event id, event)`` onto ``env._queue`` with ``next(env._eid)`` as the tie-breaker,
    exactly the key ``Environment.schedule`` itself pushes (SimPy 4). ``tests/test_kernel_seam.py`` fails
    if SimPy changes either attribute or that key, so a SimPy upgrade cannot silently reorder events."""
    return env._queue, env._eid


class SimPyKernel:
    """SimPy's ``Environment`` as the model's clock (the reference kernel)."""

    name = "simpy"

    def __init__(self) -> None:
        env = self.env = simpy.Environment()
        self.clock: Clock = env  # ``env._now`` is the attribute behind the public ``env.now`` property
        queue, order = simpy_event_heap(env)

        def after(delay: float, callback: Callback) -> None:
            """Call ``callback`` when ``delay`` time units have passed: ``env.schedule(event, NORMAL,
            delay)`` written out, one method call less on the hottest line of the model."""
            heappush(queue, (env._now + delay, NORMAL, next(order), _Call(callback)))

        self.after = after

    @property
    def now(self) -> float:
        """The current simulation time."""
        return self.env._now

    def at(self, when: float, callback: Callback) -> None:
        """Call ``callback`` at the absolute time ``when`` (not before now).

        ``Environment.schedule`` takes a delay, and ``now + (when - now)`` can miss ``when`` by one unit
        in the last place; a truck that gives up at a time computed from an earlier queue must leave at
        exactly that time, so this pushes onto SimPy's heap with the key SimPy itself would use."""
        queue, order = simpy_event_heap(self.env)
        heappush(queue, (when, NORMAL, next(order), _Call(callback)))

    def run(self, until: float) -> None:
        """Process every event before ``until``; the clock then reads ``until``."""
        if until > self.env.now:
            self.env.run(until=until)


class HeapKernel:
    """A bare ``heapq`` event loop with SimPy's ordering: (time, insertion order).

    Faster than SimPy because an event is a tuple rather than an object with a callback list, and the loop
    is one ``while``. Gives the same tables as :class:`SimPyKernel` for the same seed."""

    name = "heap"

    def __init__(self) -> None:
        self._now = 0.0
        self.clock: Clock = self
        self._queue: list[tuple[float, int, Callback]] = []
        self._order = count()

    @property
    def now(self) -> float:
        """The current simulation time."""
        return self._now

    def after(self, delay: float, callback: Callback) -> None:
        """Call ``callback`` when ``delay`` time units have passed."""
        heappush(self._queue, (self._now + delay, next(self._order), callback))

    def at(self, when: float, callback: Callback) -> None:
        """Call ``callback`` at the absolute time ``when``."""
        heappush(self._queue, (when, next(self._order), callback))

    def run(self, until: float) -> None:
        """Process every event before ``until``; the clock then reads ``until``."""
        queue = self._queue
        while queue and queue[0][0] < until:
            self._now, _, callback = heappop(queue)
            callback(None)
        if until > self._now:
            self._now = until


def make_kernel(name: str) -> Kernel:
    """The kernel called ``name`` (``simpy``, the reference, or ``heap``)."""
    if name == "simpy":
        return SimPyKernel()
    if name == "heap":
        return HeapKernel()
    raise UserError.single(None, "run.kernel", f"unknown kernel {name!r}; choose one of {', '.join(KERNELS)}")
