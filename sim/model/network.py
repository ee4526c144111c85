"""The truck-flow model: a validated scenario built into a SimPy environment, run for one replication.

One replication is a pure function of (scenario, seed sequence): :func:`run_replication`.

Each truck is a SimPy process that walks its gate's stages in order. Everything random about a truck
(its attributes, flags, shelf life, patience and its service time at every stage of its route) is drawn
when it is created, from streams named after their source, so that changing one stage of a policy leaves
every other draw as it was (common random numbers).

The scenario's rules become data here, never branches on a policy name: a truck's *route* (which stages
apply to it, which pool serves it, at what priority, from which service distribution, under which bans)
is worked out once per distinct set of truck attributes and cached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.model.arrivals import arrival_times
from sim.model.calendar import Calendar, closure_span, midnights, open_intervals
from sim.model.random_streams import alternatives_sampler, draw, sampler, stream
from sim.model.records import CLEARED, DIVERTED, TURNED_BACK, Recorder, Tables
from sim.model.resources import make_pool
from sim.scenario.demand import all_arrivals
from sim.scenario.schema import DIRECTIONS, Arrival, Flow, Gate, Hours, Scenario, Stage

Attrs = dict[str, object]


def matches(attrs: Attrs, when: dict[str, object] | None) -> bool:
    """Whether a truck with ``attrs`` satisfies every key of ``when`` (``None`` matches every truck)."""
    return when is None or all(attrs.get(k) == v for k, v in when.items())


@dataclass
class _StageRuntime:
    """A stage as built: its pools, samplers and the bans that hold trucks back from it."""

    index: int  # global stage index in the records
    name: str
    spec: Stage
    pool: simpy.Resource | None  # None for a pure delay
    lane: simpy.Resource | None  # the green lane's dedicated pool
    services: Callable[[], float] | Callable[[], tuple[float, ...]]  # see _service_stream
    diverted_services: Callable[[], float] | Callable[[], tuple[float, ...]]  # trucks arriving by diversion
    returns: Callable[[], float] | None  # server busy after the truck leaves (driver's return trip)
    bans: list[tuple[float, float, dict[str, object]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Step:
    """One stage of one truck's route (pre-computed per attribute set)."""

    stage: _StageRuntime
    pool: simpy.Resource | None
    priority: int | None  # None: the pool is not a priority pool
    draw: Callable[[], float]  # this truck's service-time stream at the stage
    draw_diverted: Callable[[], float]  # the same for a truck that arrives by diversion
    returns: Callable[[], float] | None
    bans: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class _Route:
    """The steps a truck with a given attribute set takes through a flow, worked out once and cached."""

    steps: list[_Step]
    yard_step: int  # position in ``steps`` where the truck enters the yard
    no_returns: tuple[float, ...] | None  # all-zero return trips, shared, when no step has any


@dataclass
class _FlowRuntime:
    index: int
    gate: int
    gate_name: str
    direction: str
    spec: Flow
    stages: list[_StageRuntime]
    yard: simpy.Resource | None
    yard_at: int  # position in ``stages`` where the truck enters the yard
    routes: dict[tuple, _Route] = field(default_factory=dict)
    patience: Callable[[], float] | None = None
    divert_u: Callable[[], float] | None = None
    travel: Callable[[], float] | None = None
    diverted_patience: Callable[[], float] | None = None


@dataclass(slots=True)
class _Truck:
    """What a truck carries through the model besides its record row."""

    tid: int
    attrs: Attrs
    key: tuple
    services: list[float]
    returns: list[float] | tuple[float, ...]
    deadline: float  # give up if still queued at this time (inf: never)
    divert: bool
    travel: float
    klass: int
    value: float


class Model:
    """The SimPy environment with gates, stages and arrival processes of one replication."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence):
        self.scenario = scenario
        run = scenario.run
        self.cal = Calendar(run.start, run.unit_hours)
        self.horizon = run.horizon
        self.env = simpy.Environment()
        self.seed = seed
        self._midnights = midnights(self.cal, self.horizon)
        gate_names = list(scenario.gates)
        class_names = list(scenario.truck_classes)
        self.flows: dict[tuple[str, str], _FlowRuntime] = {}
        self.yards: list[simpy.Resource | None] = []
        self.pools: list[simpy.Resource] = []  # in the order of resource_keys (monitoring)
        stage_keys: list[tuple[str, str, str]] = []
        resource_keys: list[tuple[str, str]] = []
        closures: list[tuple[str, str, float, float, str]] = []
        for gi, (gname, gate) in enumerate(scenario.gates.items()):
            cap = gate.yard.capacity
            self.yards.append(simpy.Resource(self.env, cap) if cap is not None else None)
            cuts = self._gate_closures(gname, gate, closures)
            self._wakeups = sorted(
                {closure_span(c, self.cal)[1] for c in gate.closures if c.when is not None}
            )
            shared_priority = {
                stage.resource
                for d in DIRECTIONS
                if gate.flow(d) is not None
                for stage in gate.flow(d).stages.values()  # type: ignore[union-attr]
                if stage.resource is not None and stage.priority
            }
            shared: dict[str, simpy.Resource] = {}
            for rname, res in gate.resources.items():
                shared[rname] = self._pool(
                    res.servers, res.hours, rname in shared_priority, _cuts_for(cuts, rname), res.daily_cap
                )
                resource_keys.append((gname, rname))
                self.pools.append(shared[rname])
            for direction in DIRECTIONS:
                flow = gate.flow(direction)
                if flow is None:
                    continue
                stages = []
                for sname, stage in flow.stages.items():
                    pool = lane = None
                    if stage.resource is not None:
                        pool = shared[stage.resource]
                    elif not stage.is_delay:
                        my_cuts = _cuts_for(cuts, sname)
                        pool = self._pool(
                            int(stage.servers), stage.hours, bool(stage.priority), my_cuts, stage.daily_cap
                        )
                        resource_keys.append((gname, f"{direction}.{sname}"))
                        self.pools.append(pool)
                        if stage.green_lane is not None:
                            gl = stage.green_lane
                            lane = self._pool(gl.servers, stage.hours, False, my_cuts, gl.daily_cap)
                            resource_keys.append((gname, f"{direction}.{sname}.green_lane"))
                            self.pools.append(lane)
                    key = (gname, direction, sname)
                    specs = [stage.service, *(r.service for r in stage.service_when)]
                    stages.append(
                        _StageRuntime(
                            index=len(stage_keys),
                            name=sname,
                            spec=stage,
                            pool=pool,
                            lane=lane,
                            services=_service_stream(specs, stream(seed, "service", *key)),
                            diverted_services=_service_stream(specs, stream(seed, "service-diverted", *key)),
                            returns=sampler(stage.return_time, stream(seed, "return", *key))
                            if stage.return_time is not None
                            else None,
                            bans=[
                                (*closure_span(c, self.cal), dict(c.when))
                                for c in gate.closures
                                if c.when is not None and (c.stages is None or sname in c.stages)
                            ],
                        )
                    )
                    stage_keys.append(key)
                yard_at = list(flow.stages).index(flow.enters_yard_at) if flow.enters_yard_at else 0
                fr = _FlowRuntime(
                    len(self.flows), gi, gname, direction, flow, stages, self.yards[gi], yard_at
                )
                if flow.reneging is not None:
                    ren = flow.reneging
                    fr.patience = sampler(ren.patience_h, stream(seed, "patience", gname, direction))
                    fr.diverted_patience = sampler(
                        ren.patience_h, stream(seed, "patience-diverted", gname, direction)
                    )
                    fr.divert_u = stream(seed, "divert", gname, direction).random
                    fr.travel = sampler(ren.travel_h, stream(seed, "travel", gname, direction))
                self.flows[(gname, direction)] = fr
        self.recorder = Recorder(
            gate_names,
            list(self.flows),
            class_names,
            [c.commodity for c in scenario.truck_classes.values()],
            stage_keys,
            resource_keys,
        )
        self.recorder.closures.extend(closures)
        self.recorder.delay_stages = [
            i
            for i, (g, d, s) in enumerate(stage_keys)
            if scenario.gates[g].flow(d).stages[s].is_delay  # type: ignore[union-attr]
        ]
        self.cleared_per_gate = [0] * len(gate_names)
        self.in_yard = [0] * len(gate_names)  # trucks past yard entry, not yet gone (any yard size)
        for aname, arr in all_arrivals(scenario).items():
            self.env.process(self._source(aname, arr, class_names.index(arr.truck_class)))
        self.monitor_interval = run.monitor_interval or self.cal.from_hours(1.0)
        self.env.process(self._monitor())

    # ----------------------------------------------------------------------------------------------
    # building
    # ----------------------------------------------------------------------------------------------
    def _gate_closures(
        self, gname: str, gate: Gate, log: list[tuple[str, str, float, float, str]]
    ) -> list[tuple[float, float, list[str] | None]]:
        """Pool closures of a gate, scheduled and random, as (start, end, stage names or None=all)."""
        cuts: list[tuple[float, float, list[str] | None]] = []
        for c in gate.closures:
            t0, t1 = closure_span(c, self.cal)
            kind = "ban" if c.when is not None else "closure"
            log.append((gname, ",".join(c.stages or ["all"]), t0, t1, kind))
            if c.when is None:
                cuts.append((t0, t1, c.stages))
        rc = gate.random_closures
        if rc is not None:
            gen = stream(self.seed, "random-closures", gname)
            rate = rc.rate_per_day / self.cal.from_hours(24.0)
            t = 0.0
            while True:
                t += float(gen.exponential(1.0 / rate))
                if t >= self.horizon:
                    break
                dur = self.cal.from_hours(float(draw(rc.duration_h, gen, 1)[0]))
                cuts.append((t, t + dur, rc.stages))
                log.append((gname, ",".join(rc.stages or ["all"]), t, min(t + dur, self.horizon), "random"))
        return cuts

    def _pool(
        self,
        servers: int,
        hours: Hours | None,
        priority: bool,
        cuts: list[tuple[float, float]],
        daily_cap: int | None,
    ) -> simpy.Resource:
        intervals = None
        if (hours is not None and not hours.always_open) or cuts:
            intervals = open_intervals(hours, self.cal, self.horizon, cuts)
        return make_pool(self.env, servers, intervals, priority, daily_cap, self._midnights, self._wakeups)

    def _route(self, flow: _FlowRuntime, attrs: Attrs, key: tuple) -> _Route:
        """The steps a truck with these attributes takes, and the position where it enters the yard.

        ``key`` identifies the attribute set within the truck's class (its flag values, and the class)."""
        cached = flow.routes.get(key)
        if cached is not None:
            return cached
        steps: list[_Step] = []
        yard_step = -1
        for pos, st in enumerate(flow.stages):
            spec = st.spec
            if pos >= flow.yard_at and yard_step < 0 and matches(attrs, spec.applies_to):
                yard_step = len(steps)
            if not matches(attrs, spec.applies_to):
                continue
            in_lane = st.lane is not None and matches(attrs, spec.green_lane.when)  # type: ignore[union-attr]
            pool = st.lane if in_lane else st.pool
            prio = None
            if isinstance(pool, simpy.PriorityResource):
                ranks = (r for r, rule in enumerate(spec.priority) if matches(attrs, rule.when))
                prio = next(ranks, NO_PRIORITY)
            rule = next((i + 1 for i, r in enumerate(spec.service_when) if matches(attrs, r.when)), 0)
            bans = tuple(sorted((t0, t1) for t0, t1, when in st.bans if matches(attrs, when)))
            steps.append(
                _Step(
                    st,
                    pool,
                    prio,
                    _pick(st.services, rule, len(spec.service_when)),
                    _pick(st.diverted_services, rule, len(spec.service_when)),
                    st.returns,
                    bans,
                )
            )
        if yard_step < 0:
            yard_step = len(steps)  # the yard stage does not apply: enter the yard at the next one
        no_returns = None if any(s.returns is not None for s in steps) else (0.0,) * len(steps)
        flow.routes[key] = route = _Route(steps, yard_step, no_returns)
        return route

    # ----------------------------------------------------------------------------------------------
    # processes
    # ----------------------------------------------------------------------------------------------
    def _source(self, aname: str, arr: Arrival, klass: int) -> Generator[simpy.Event, None, None]:
        env = self.env
        flow = self.flows[(arr.gate, arr.direction)]
        tclass = self.scenario.truck_classes[arr.truck_class]
        value = sampler(tclass.value_usd, stream(self.seed, "value", aname))
        tonnage = sampler(tclass.tonnage_t, stream(self.seed, "tonnage", aname))
        flags = [(name, p, stream(self.seed, "flag", aname, name).random) for name, p in tclass.flags.items()]
        fixed: Attrs = {"commodity": tclass.commodity, **tclass.attributes}
        shelf = age = None
        if tclass.perishable is not None:
            shelf = sampler(tclass.perishable.shelf_life_h, stream(self.seed, "shelf-life", aname))
            age = sampler(tclass.perishable.age_on_arrival_h, stream(self.seed, "age", aname))
        cost = tclass.waiting_cost_usd_per_day
        rec = self.recorder
        for t in arrival_times(arr, self.cal, self.horizon, self.seed, aname):
            yield env.timeout(t - env.now)
            attrs, key = fixed, (klass,)
            if flags:
                drawn = tuple(u() < p for _, p, u in flags)
                attrs = {**fixed, **dict(zip((f[0] for f in flags), drawn, strict=True))}
                key = (klass, *drawn)
            shelf_left = shelf() - age() if shelf is not None else math.inf  # type: ignore[operator,misc]
            v = value()
            tid = rec.new_truck(flow.index, klass, v, tonnage(), t, t, shelf_left, cost, -1)
            self._start(flow, tid, attrs, key, klass, v, shelf_left, t, diverted=False)

    def _start(
        self,
        flow: _FlowRuntime,
        tid: int,
        attrs: Attrs,
        key: tuple,
        klass: int,
        value: float,
        shelf_left_h: float,
        origin: float,
        diverted: bool,
    ) -> None:
        """Draw everything the truck will need at this gate and start its process."""
        route = self._route(flow, attrs, key)
        steps, yard_step = route.steps, route.yard_step
        services = [s.draw_diverted() for s in steps] if diverted else [s.draw() for s in steps]
        returns = route.no_returns
        if returns is None:
            returns = [s.returns() if s.returns is not None else 0.0 for s in steps]
        deadline, divert, travel = math.inf, False, 0.0
        if flow.patience is not None:
            ren = flow.spec.reneging
            patience_h = (flow.diverted_patience if diverted else flow.patience)()  # type: ignore[misc]
            u = flow.divert_u()  # type: ignore[misc]
            trip = flow.travel()  # type: ignore[misc]
            if not math.isinf(shelf_left_h):
                patience_h = min(patience_h, max(0.0, ren.shelf_life_fraction * shelf_left_h))  # type: ignore[union-attr]
            deadline = self.env.now + self.cal.from_hours(patience_h)
            divert = (not diverted) and ren.divert_to is not None and u < ren.divert_share  # type: ignore[union-attr]
            travel = self.cal.from_hours(trip)
        truck = _Truck(tid, attrs, key, services, returns, deadline, divert, travel, klass, value)
        self.env.process(self._truck(flow, truck, steps, yard_step, origin, shelf_left_h))

    def _truck(
        self,
        flow: _FlowRuntime,
        truck: _Truck,
        steps: list[_Step],
        yard_step: int,
        origin: float,
        shelf_left_h: float,
    ) -> Generator[simpy.Event, None, None]:
        env = self.env
        rec = self.recorder
        s_truck, s_stage, s_queued = rec.s_truck.append, rec.s_stage.append, rec.s_queued.append
        s_start, s_end, s_released = rec.s_start.append, rec.s_end.append, rec.s_released.append
        tid = truck.tid
        yard = flow.yard
        yard_req = None
        patient = math.isinf(truck.deadline)
        services, returns = truck.services, truck.returns
        for pos, step in enumerate(steps):
            if pos == yard_step:
                if yard is not None:
                    yard_req = yard.request()
                    if patient:
                        yield yard_req
                    elif not (yield from self._wait_until(yard_req, truck.deadline)):
                        yield from self._give_up(flow, truck, None, origin, shelf_left_h)
                        return
                rec.t_yard[tid] = env.now
                self.in_yard[flow.gate] += 1
            queued = env.now
            pool = step.pool
            back = returns[pos]
            if pool is None:  # a pure delay (e.g. waiting for a test result); a ban holds it first
                for t0, t1 in step.bans:  # sorted by start, so a hold ending inside the next is seen
                    if t0 <= env.now < t1:
                        yield env.timeout(t1 - env.now)
                start = env.now
                yield env.timeout(services[pos])
            else:
                if step.bans:  # the pool passes this request over while a ban is in force
                    req = pool.request(step.priority, step.bans)
                elif step.priority is not None:
                    req = pool.request(step.priority)
                else:
                    req = pool.request()
                if patient:  # the common case stays inline: this is the hot path
                    yield req
                elif not (yield from self._wait_until(req, truck.deadline)):
                    yield from self._give_up(flow, truck, yard_req, origin, shelf_left_h)
                    return
                start = env.now
                yield env.timeout(services[pos])
                if back > 0.0:  # the server (a border driver) comes back before serving again
                    env.timeout(back).callbacks.append(lambda _e, p=pool, r=req: p.release(r))
                else:
                    pool.release(req)
            now = env.now  # six appends inline: this is the hot path (see benchmarks/engine.py)
            s_truck(tid)
            s_stage(step.stage.index)
            s_queued(queued)
            s_start(start)
            s_end(now)
            s_released(now + back)
        if yard_req is not None:
            yard.release(yard_req)  # type: ignore[union-attr]
        if yard_step < len(steps):  # it passed the yard entry (unless the yard comes after its last stage)
            self.in_yard[flow.gate] -= 1
        rec.t_cleared[tid] = env.now
        rec.t_exit[tid] = env.now
        rec.t_status[tid] = CLEARED
        self.cleared_per_gate[flow.gate] += 1

    def _wait_until(self, req: simpy.Event, deadline: float) -> Generator[simpy.Event, None, bool]:
        """Wait for a request until the truck's patience runs out; withdraw it and say False if it does."""
        yield req | self.env.timeout(max(0.0, deadline - self.env.now))
        if req.triggered:
            return True
        req.cancel()  # type: ignore[attr-defined]
        return False

    def _give_up(
        self,
        flow: _FlowRuntime,
        truck: _Truck,
        yard_req: simpy.Resource | None,
        origin: float,
        shelf_left_h: float,
    ) -> Generator[simpy.Event, None, None]:
        """The truck stops waiting: it turns back, or drives to another gate and starts again there."""
        rec, env = self.recorder, self.env
        if yard_req is not None:
            flow.yard.release(yard_req)  # type: ignore[union-attr]
        if not math.isnan(rec.t_yard[truck.tid]):
            self.in_yard[flow.gate] -= 1
        rec.t_exit[truck.tid] = env.now
        if not truck.divert:
            rec.t_status[truck.tid] = TURNED_BACK
            return
        rec.t_status[truck.tid] = DIVERTED
        yield env.timeout(truck.travel)
        target = self.flows[(flow.spec.reneging.divert_to, flow.direction)]  # type: ignore[union-attr]
        tid = rec.new_truck(
            target.index,
            truck.klass,
            truck.value,
            rec.t_tonnage[truck.tid],
            env.now,
            origin,
            shelf_left_h,
            rec.t_cost[truck.tid],
            truck.tid,
        )
        self._start(
            target, tid, truck.attrs, truck.key, truck.klass, truck.value, shelf_left_h, origin, diverted=True
        )

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
        return self.recorder.tables(self.horizon, self.cal.unit_hours)


NO_PRIORITY = 1_000_000  # the rank of a truck no rule favours, the same at every stage sharing a pool


def _service_stream(
    specs: list, gen: np.random.Generator
) -> Callable[[], float] | Callable[[], tuple[float, ...]]:
    """A stage's service draws: plain floats, or (with service rules) one quantile per alternative."""
    return sampler(specs[0], gen) if len(specs) == 1 else alternatives_sampler(specs, gen)


def _pick(draws: Callable, rule: int, n_rules: int) -> Callable[[], float]:
    """The draw of one truck at a stage: the whole stream without rules, else its rule's quantile."""
    if n_rules == 0:
        return draws
    return lambda: draws()[rule]


def _cuts_for(cuts: list[tuple[float, float, list[str] | None]], name: str) -> list[tuple[float, float]]:
    return [(t0, t1) for t0, t1, names in cuts if names is None or name in names]


def run_replication(
    scenario: Scenario, seed: np.random.SeedSequence, progress: Callable[[float], None] | None = None
) -> Tables:
    """One replication: a pure function of the scenario and the seed sequence."""
    return Model(scenario, seed).run(progress)
