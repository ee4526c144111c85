"""The truck-flow model: a validated scenario built into a SimPy environment, run for one replication.

One replication is a pure function of (scenario, seed sequence): :func:`run_replication`.

Each truck is a SimPy process that walks its gate's stages in order. Everything random about a truck
(its attributes and its service time at every stage of its flow) is drawn when it is created, from
streams named after their source, so that changing one stage of a policy leaves every other draw as it
was (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from sim.calendar import Calendar, open_intervals
from sim.model.arrivals import arrival_times
from sim.model.resources import make_pool
from sim.random_streams import sampler, stream
from sim.records import Recorder, Tables
from sim.scenario.schema import DIRECTIONS, Arrival, Hours, Scenario


@dataclass
class _StageRuntime:
    index: int  # global stage index (records)
    resource: simpy.Resource
    is_priority: bool
    draw: Callable[[], float]
    rules: list[dict[str, object]]


@dataclass
class _FlowRuntime:
    index: int
    gate: int
    stages: list[_StageRuntime]
    yard: simpy.Resource | None
    yard_at: int  # position in stages where the truck enters the yard


class Model:
    """The SimPy environment with gates, stages and arrival processes of one replication."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence):
        self.scenario = scenario
        run = scenario.run
        self.cal = Calendar(run.start, run.unit_hours)
        self.horizon = run.horizon
        self.env = simpy.Environment()
        self.seed = seed
        gate_names = list(scenario.gates)
        class_names = list(scenario.truck_classes)
        self.flows: dict[tuple[str, str], _FlowRuntime] = {}
        self.yards: list[simpy.Resource | None] = []
        self.pools: list[simpy.Resource] = []  # in the order of resource_keys (monitoring)
        stage_keys: list[tuple[str, str, str]] = []
        resource_keys: list[tuple[str, str]] = []
        for gi, (gname, gate) in enumerate(scenario.gates.items()):
            cap = gate.yard.capacity
            yard = simpy.Resource(self.env, cap) if cap is not None else None
            self.yards.append(yard)
            shared_priority = {
                stage.resource
                for d in DIRECTIONS
                if gate.flow(d) is not None
                for stage in gate.flow(d).stages.values()  # type: ignore[union-attr]
                if stage.resource is not None and stage.priority
            }
            shared: dict[str, simpy.Resource] = {}
            for rname, res in gate.resources.items():
                shared[rname] = self._pool(res.servers, res.hours, rname in shared_priority)
                resource_keys.append((gname, rname))
                self.pools.append(shared[rname])
            for direction in DIRECTIONS:
                flow = gate.flow(direction)
                if flow is None:
                    continue
                stages = []
                for sname, stage in flow.stages.items():
                    if stage.resource is not None:
                        pool = shared[stage.resource]
                    else:
                        pool = self._pool(stage.servers or 1, stage.hours, bool(stage.priority))
                        resource_keys.append((gname, f"{direction}.{sname}"))
                        self.pools.append(pool)
                    gen = stream(seed, "service", gname, direction, sname)
                    stages.append(
                        _StageRuntime(
                            index=len(stage_keys),
                            resource=pool,
                            is_priority=isinstance(pool, simpy.PriorityResource),
                            draw=sampler(stage.service, gen),
                            rules=[dict(r.when) for r in stage.priority],
                        )
                    )
                    stage_keys.append((gname, direction, sname))
                yard_at = list(flow.stages).index(flow.enters_yard_at) if flow.enters_yard_at else 0
                self.flows[(gname, direction)] = _FlowRuntime(len(self.flows), gi, stages, yard, yard_at)
        self.recorder = Recorder(
            gate_names,
            list(self.flows),
            class_names,
            [c.commodity for c in scenario.truck_classes.values()],
            stage_keys,
            resource_keys,
        )
        self.cleared_per_gate = [0] * len(gate_names)
        self.in_yard = [0] * len(gate_names)  # trucks past yard entry, not yet cleared (any yard size)
        for aname, arr in scenario.arrivals.items():
            self.env.process(self._source(aname, arr, class_names.index(arr.truck_class)))
        self.monitor_interval = run.monitor_interval or self.cal.from_hours(1.0)
        self.env.process(self._monitor())

    # ----------------------------------------------------------------------------------------------
    def _pool(self, servers: int, hours: Hours | None, priority: bool) -> simpy.Resource:
        intervals = None
        if hours is not None and not hours.always_open:
            intervals = open_intervals(hours, self.cal, self.horizon)
        return make_pool(self.env, servers, intervals, priority)

    # ----------------------------------------------------------------------------------------------
    def _source(self, aname: str, arr: Arrival, klass: int) -> Generator[simpy.Event, None, None]:
        env = self.env
        flow = self.flows[(arr.gate, arr.direction)]
        tclass = self.scenario.truck_classes[arr.truck_class]
        value = sampler(tclass.value_usd, stream(self.seed, "value", aname))
        tonnage = sampler(tclass.tonnage_t, stream(self.seed, "tonnage", aname))
        attrs = dict(tclass.attributes)
        priorities = [_priority(attrs, st.rules) for st in flow.stages]
        rec = self.recorder
        for t in arrival_times(arr, self.cal, self.horizon, self.seed, aname):
            yield env.timeout(t - env.now)
            tid = rec.new_truck(flow.index, klass, value(), tonnage(), t)
            services = [st.draw() for st in flow.stages]
            env.process(self._truck(tid, flow, services, priorities))

    def _truck(
        self, tid: int, flow: _FlowRuntime, services: list[float], priorities: list[int]
    ) -> Generator[simpy.Event, None, None]:
        env = self.env
        rec = self.recorder
        yard = flow.yard
        yard_req = None
        for pos, st in enumerate(flow.stages):
            if pos == flow.yard_at:
                if yard is not None:
                    yard_req = yard.request()
                    yield yard_req
                rec.t_yard[tid] = env.now
                self.in_yard[flow.gate] += 1
            queued = env.now
            res = st.resource
            req = res.request(priorities[pos]) if st.is_priority else res.request()
            yield req
            start = env.now
            yield env.timeout(services[pos])
            res.release(req)
            rec.s_truck.append(tid)
            rec.s_stage.append(st.index)
            rec.s_queued.append(queued)
            rec.s_start.append(start)
            rec.s_end.append(env.now)
        if yard_req is not None:
            yard.release(yard_req)  # type: ignore[union-attr]
        self.in_yard[flow.gate] -= 1
        rec.t_cleared[tid] = env.now
        self.cleared_per_gate[flow.gate] += 1

    def _snapshot(self) -> None:
        """Record the state of every gate and pool at the current time."""
        now, rec = self.env.now, self.recorder
        for gi, yard in enumerate(self.yards):
            rec.g_time.append(now)
            rec.g_gate.append(gi)
            rec.g_outside.append(len(yard.queue) if yard is not None else 0)
            rec.g_yard.append(self.in_yard[gi])
            rec.g_cleared.append(self.cleared_per_gate[gi])
        for ri, res in enumerate(self.pools):
            rec.r_time.append(now)
            rec.r_resource.append(ri)
            rec.r_queue.append(len(res.queue))
            rec.r_busy.append(res.count)

    def _monitor(self) -> Generator[simpy.Event, None, None]:
        while True:
            self._snapshot()
            yield self.env.timeout(self.monitor_interval)

    # ----------------------------------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None, steps: int = 50) -> Tables:
        """Run to the horizon; ``progress`` is called with the fraction done (0-1) between chunks."""
        if progress is None:
            self.env.run(until=self.horizon)
        else:
            for k in range(1, steps + 1):
                self.env.run(until=self.horizon * k / steps)
                progress(k / steps)
        self._snapshot()  # the state at the horizon itself: what is left inside
        return self.recorder.tables(self.horizon)


def _priority(attrs: dict[str, object], rules: list[dict[str, object]]) -> int:
    """Rank of the first rule whose every key matches (0 = served first); non-matching trucks rank last."""
    for rank, when in enumerate(rules):
        if all(attrs.get(k) == v for k, v in when.items()):
            return rank
    return len(rules)


def run_replication(
    scenario: Scenario, seed: np.random.SeedSequence, progress: Callable[[float], None] | None = None
) -> Tables:
    """One replication: a pure function of the scenario and the seed sequence."""
    return Model(scenario, seed).run(progress)
