"""The seam between the model and SimPy.

- The one adapter that touches SimPy's private state (``simpy_event_heap``) pushes exactly what
  ``Environment.schedule`` pushes: if SimPy renames ``_queue``/``_eid`` or changes its key, this fails.
- The model's pools grant servers in the order ``simpy.Resource`` and ``simpy.PriorityResource`` grant
  them, on the same random sequence of requests, services and give-ups.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from simpy.events import NORMAL

from sim.errors import UserError
from sim.model.kernel import SimPyKernel, make_kernel, simpy_event_heap
from sim.model.resources import Pool, PriorityPool


def test_the_adapter_pushes_what_environment_schedule_pushes() -> None:
    env = simpy.Environment()
    queue, order = simpy_event_heap(env)
    assert queue is env._queue
    ours = env.event()
    env.schedule(env.event(), NORMAL, 2.0)
    theirs_key = env._queue[0][:3]
    import heapq

    heapq.heappush(queue, (2.0, NORMAL, next(order), ours))
    assert [e[:2] for e in sorted(env._queue)] == [(2.0, NORMAL), (2.0, NORMAL)]
    assert len(theirs_key) == 3 and env._queue[0][2] < env._queue[1][2]  # ids count up: FIFO at a tie


def test_callbacks_at_equal_times_run_in_the_order_they_were_scheduled() -> None:
    kernel = SimPyKernel()
    seen: list[int] = []
    for k in range(5):
        kernel.at(1.0, lambda _e, k=k: seen.append(k))
    kernel.after(1.0, lambda _e: seen.append(5))
    kernel.run(2.0)
    assert seen == [0, 1, 2, 3, 4, 5]


def test_an_unknown_kernel_is_named_in_one_message() -> None:
    with pytest.raises(UserError) as caught:
        make_kernel("turbo")
    [problem] = caught.value.problems
    assert "turbo" in problem.message and problem.path == "run.kernel"


class _Truck:
    def __init__(self, ident: int, log: list, kernel: SimPyKernel, pool: Pool, service: float) -> None:
        self.ident, self.log, self.kernel, self.pool, self.service = ident, log, kernel, pool, service
        self.served = False

    def granted(self, now: float) -> None:
        self.served = True
        self.log.append((self.ident, round(now, 9)))
        self.kernel.after(self.service, self.pool.release)


def _sequence(seed: int, n: int = 400) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0, n))
    services = rng.exponential(2.6, n)
    priorities = rng.integers(0, 3, n)
    patience = np.where(rng.random(n) < 0.3, rng.exponential(4.0, n), np.inf)
    return arrivals, services, priorities, patience


def _ours(kind: type[Pool], capacity: int, seed: int) -> list[tuple[int, float]]:
    arrivals, services, priorities, patience = _sequence(seed)
    kernel = SimPyKernel()
    pool = kind(kernel, capacity)
    log: list[tuple[int, float]] = []
    for i, t in enumerate(arrivals):
        truck = _Truck(i, log, kernel, pool, float(services[i]))

        def arrive(_e, truck=truck, i=i) -> None:
            now = kernel.now
            if pool.request(truck, int(priorities[i]), (), now):
                truck.granted(now)
            elif np.isfinite(patience[i]):
                kernel.after(float(patience[i]), lambda _e, truck=truck: _give_up(pool, truck))

        kernel.at(float(t), arrive)
    kernel.run(1e9)
    return log


def _give_up(pool: Pool, truck: _Truck) -> None:
    if not truck.served:
        truck.served = True  # gone
        pool.withdraw(truck)


def _simpy(priority: bool, capacity: int, seed: int) -> list[tuple[int, float]]:
    arrivals, services, priorities, patience = _sequence(seed)
    env = simpy.Environment()
    res = simpy.PriorityResource(env, capacity) if priority else simpy.Resource(env, capacity)
    log: list[tuple[int, float]] = []

    def truck(i: int):
        yield env.timeout(float(arrivals[i]))
        req = res.request(priority=int(priorities[i])) if priority else res.request()
        wait = env.timeout(float(patience[i])) if np.isfinite(patience[i]) else env.event()
        got = yield req | wait
        if req not in got:
            req.cancel()
            return
        log.append((i, round(env.now, 9)))
        yield env.timeout(float(services[i]))
        res.release(req)

    for i in range(len(arrivals)):
        env.process(truck(i))
    env.run()
    return log


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fifo_pool_grants_in_simpy_resource_order(seed: int) -> None:
    ours, theirs = _ours(Pool, 3, seed), _simpy(False, 3, seed)
    assert len(ours) > 300 and ours == theirs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_priority_pool_grants_in_simpy_priority_resource_order(seed: int) -> None:
    ours, theirs = _ours(PriorityPool, 3, seed), _simpy(True, 3, seed)
    assert len(ours) > 300 and ours == theirs
