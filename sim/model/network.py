"""The truck-flow model: a validated scenario built into gates, pools and arrival streams, run for one
replication on a discrete-event kernel.

One replication is a pure function of (scenario, seed sequence): :func:`run_replication`.

Building is a few small steps (:class:`Model`): the calendar, each gate's pools and closures, each flow's
stages and reneging draws, the recorder, the arrival streams and the monitor. Running hands the clock to a
kernel (SimPy by default, see :mod:`sim.model.kernel`); trucks (:mod:`sim.model.trucks`) move by scheduled
callbacks. The scenario's rules are data (routes, :mod:`sim.model.routes`), never branches on a policy name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from sim.model.arrivals import arrival_times
from sim.model.calendar import Calendar, closure_span, midnights, open_intervals
from sim.model.collector import collector_spared
from sim.model.dated import daily_caps, dated_intervals, hours_change, resizes, service_periods
from sim.model.dispatch import dispatcher
from sim.model.initial_state import place_initial_state
from sim.model.kernel import Kernel, make_kernel
from sim.model.memory import warn_if_too_big
from sim.model.patience import UNIT_EXPONENTIAL
from sim.model.random_streams import alternatives_sampler, draw, sampler, stream, uniforms
from sim.model.records import Recorder, Tables
from sim.model.resources import Pool, make_pool
from sim.model.route_choice import RouteChooser
from sim.model.routes import FlowRuntime, Reneging, StageRuntime
from sim.model.sources import Source
from sim.model.trucks import Context
from sim.model.upstream import UpstreamHold
from sim.scenario.rail_route import all_gates
from sim.scenario.schema import (
    DIRECTIONS,
    Arrival,
    Flow,
    Gate,
    Hours,
    Scenario,
    Stage,
    StageChange,
)

Progress = Callable[[float], None]
Cut = tuple[float, float, list[str] | None]  # a closure of some pools: start, end, stage names (None: all)
ClosureLog = list[tuple[str, str, float, float, str]]


@dataclass
class _GateBuild:
    """What building one gate needs besides the scenario: its index, pool closures and ban ends."""

    index: int
    name: str
    spec: Gate
    cuts: list[Cut]
    wakeups: list[float]  # when a ban on some trucks ends: its pools look at their queues again


class Model:
    """One replication's gates, pools, flows and arrival streams, ready to run on a kernel."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence, kernel: str | None = None):
        self.scenario = scenario
        self.seed = seed
        run = scenario.run
        self.cal = Calendar(run.start, run.unit_hours)
        self.horizon = run.horizon
        self.kernel: Kernel = make_kernel(kernel or run.kernel)
        self._midnights = midnights(self.cal, self.horizon)
        self.flows: dict[tuple[str, str], FlowRuntime] = {}
        self.yards: list[Pool | None] = []  # each gate's shared yard
        self.gate_yards: list[list[Pool]] = []  # each gate's yards: shared and its flows' own
        self.pools: list[Pool] = []  # in the order of resource_keys (monitoring)
        self._stage_keys: list[tuple[str, str, str]] = []
        self._resource_keys: list[tuple[str, str]] = []
        closures: ClosureLog = []
        gates = all_gates(scenario)  # hook: the rail route is one more gate (sim/model/rail.py)
        for index, (name, gate) in enumerate(gates.items()):
            self._build_gate(self._plan_gate(index, name, gate, closures))
        self.recorder = Recorder(
            list(gates),
            list(self.flows),
            list(scenario.truck_classes),
            [c.commodity for c in scenario.truck_classes.values()],
            self._stage_keys,
            self._resource_keys,
            upstream=any(f.spec.upstream is not None for f in self.flows.values()),
        )
        self.recorder.closures.extend(closures)
        self.context = Context(self.kernel, self.recorder, self.flows, self.cal.from_hours)
        class_names = list(scenario.truck_classes)
        # hooks: the levers before and around the gates (issue 22), none in most scenarios
        self.holds = {
            key: UpstreamHold(self, *key, f.spec.upstream, class_names)
            for key, f in self.flows.items()
            if f.spec.upstream is not None
        }
        self.choosers = [RouteChooser(self, name, c) for name, c in scenario.route_choice.items()]
        for name, arrival in scenario.all_arrivals.items():
            _source(self, name, arrival, class_names.index(arrival.truck_class)).start()
        self.impatient_at_start = place_initial_state(self)  # run.initial_state: trucks already waiting
        self.monitor_interval = run.monitor_interval or self.cal.from_hours(1.0)
        self._monitor(None)

    # ----------------------------------------------------------------------------------------------
    # building
    # ----------------------------------------------------------------------------------------------
    def _plan_gate(self, index: int, name: str, gate: Gate, log: ClosureLog) -> _GateBuild:
        """A gate's closures, scheduled and random, logged for the records and turned into pool cuts."""
        cuts: list[Cut] = []
        for closure in gate.closures:
            t0, t1 = closure_span(closure, self.cal)
            kind = "ban" if closure.when is not None else "closure"
            log.append((name, ",".join(closure.stages or ["all"]), t0, t1, kind))
            if closure.when is None:
                cuts.append((t0, t1, closure.stages))
        random_closures = gate.random_closures
        if random_closures is not None:
            gen = stream(self.seed, "random-closures", name)
            rate = random_closures.rate_per_day / self.cal.from_hours(24.0)
            t = 0.0
            if random_closures.from_ is not None:  # the stoppages start on a date (an onset)
                day = random_closures.from_
                t = max(0.0, self.cal.from_datetime(datetime(day.year, day.month, day.day)))
            while True:
                t += float(gen.exponential(1.0 / rate))
                if t >= self.horizon:
                    break
                duration = self.cal.from_hours(float(draw(random_closures.duration_h, gen, 1)[0]))
                cuts.append((t, t + duration, random_closures.stages))
                stages = ",".join(random_closures.stages or ["all"])
                log.append((name, stages, t, min(t + duration, self.horizon), "random"))
        wakeups = sorted({closure_span(c, self.cal)[1] for c in gate.closures if c.when is not None})
        return _GateBuild(index, name, gate, cuts, wakeups)

    def _yard(self, capacity: int | None) -> Pool | None:
        """A yard as a pool of places (None: unlimited), counted in its gate's trucks outside."""
        if capacity is None:
            return None
        yard = make_pool(self.kernel, capacity, None, False)
        self.gate_yards[-1].append(yard)
        return yard

    def _build_gate(self, gate: _GateBuild) -> None:
        self.gate_yards.append([])
        self.yards.append(self._yard(gate.spec.yard.capacity))  # shared by flows without their own
        shared = {
            name: self._pool(
                gate,
                (gate.name, name),
                res.servers,
                res.hours,
                res.daily_cap,
                name,
                priority=name in _prioritised_resources(gate.spec),
            )
            for name, res in gate.spec.resources.items()
        }
        for direction in DIRECTIONS:
            flow = gate.spec.flow(direction)
            if flow is not None:
                self._build_flow(gate, direction, flow, shared)

    def _build_flow(self, gate: _GateBuild, direction: str, flow: Flow, shared: dict[str, Pool]) -> None:
        stages = [
            self._build_stage(gate, direction, name, stage, shared) for name, stage in flow.stages.items()
        ]
        yard_at = list(flow.stages).index(flow.enters_yard_at) if flow.enters_yard_at else 0
        yard = self.yards[gate.index] if flow.yard is None else self._yard(flow.yard.capacity)
        runtime = FlowRuntime(len(self.flows), gate.index, direction, flow, stages, yard, yard_at)
        rule = flow.reneging
        if rule is not None:
            seed, key = self.seed, (gate.name, direction)
            # with a hazard, the patience streams give the unit exponential it is read from
            patience = rule.patience_h or UNIT_EXPONENTIAL
            runtime.reneging = Reneging(
                patience=sampler(patience, stream(seed, "patience", *key)),
                diverted_patience=sampler(patience, stream(seed, "patience-diverted", *key)),
                divert_u=uniforms(stream(seed, "divert", *key)),
                travel=sampler(rule.travel_h, stream(seed, "travel", *key)),
                shelf_life_fraction=rule.shelf_life_fraction,
                hazard=None
                if rule.hazard is None
                else (rule.hazard.per_day, rule.hazard.past_shelf_life_per_day),
                divert_to=rule.divert_to,
                divert_share=rule.divert_share,
            )
        self.flows[(gate.name, direction)] = runtime

    def _build_stage(
        self, gate: _GateBuild, direction: str, name: str, stage: Stage, shared: dict[str, Pool]
    ) -> StageRuntime:
        pool = lane = None
        if stage.resource is not None:
            pool = shared[stage.resource]
        elif not stage.is_delay:
            key = f"{direction}.{name}"
            pool = self._pool(
                gate,
                (gate.name, key),
                int(stage.servers),
                stage.hours,  # type: ignore[arg-type]
                stage.daily_cap,
                name,
                priority=bool(stage.priority),
                changes=stage.changes,
            )
            if stage.green_lane is not None:
                green = stage.green_lane
                lane = self._pool(
                    gate,
                    (gate.name, f"{key}.green_lane"),
                    green.servers,
                    stage.hours,
                    green.daily_cap,
                    name,
                    priority=False,
                    changes=[c for c in stage.changes if c.hours is not None],  # the lane keeps its size
                )
        key3 = (gate.name, direction, name)
        periods, defaults = service_periods(stage.service, stage.changes, self.cal)
        specs = [spec for d in defaults for spec in (d, *(rule.service for rule in stage.service_when))]
        self._stage_keys.append(key3)
        return StageRuntime(
            index=len(self._stage_keys) - 1,
            name=name,
            spec=stage,
            periods=tuple(periods),
            pool=pool,
            lane=lane,
            services=_service_stream(specs, stream(self.seed, "service", *key3)),
            diverted_services=_service_stream(specs, stream(self.seed, "service-diverted", *key3)),
            returns=sampler(stage.return_time, stream(self.seed, "return", *key3))
            if stage.return_time is not None
            else None,
            bans=[
                (*closure_span(c, self.cal), dict(c.when))
                for c in gate.spec.closures
                if c.when is not None and (c.stages is None or name in c.stages)
            ],
        )

    def _pool(
        self,
        gate: _GateBuild,
        key: tuple[str, str],
        servers: int,
        hours: Hours | None,
        daily_cap: int | None,
        cut_name: str,
        priority: bool,
        changes: list[StageChange] | None = None,
    ) -> Pool:
        """A pool with its opening intervals (hours minus the gate's closures that name it), monitored.

        ``changes`` (dated hours, caps and servers of a stage) are turned into intervals, quotas and
        resizes by :mod:`sim.model.dated`."""
        changes = changes or []
        cuts = [(t0, t1) for t0, t1, names in gate.cuts if names is None or cut_name in names]
        intervals = None
        if hours_change(changes):
            intervals = dated_intervals(hours, changes, self.cal, self.horizon, cuts)
        elif (hours is not None and not hours.always_open) or cuts:
            intervals = open_intervals(hours, self.cal, self.horizon, cuts)
        first_cap, caps = daily_caps(daily_cap, changes, self.cal, self._midnights)
        pool = make_pool(
            self.kernel,
            servers,
            intervals,
            priority,
            first_cap,
            self._midnights,
            gate.wakeups,
            caps,
            resizes(changes, self.cal),
        )
        self._resource_keys.append(key)
        self.pools.append(pool)
        return pool

    # ----------------------------------------------------------------------------------------------
    # running
    # ----------------------------------------------------------------------------------------------
    def _snapshot(self) -> None:
        """Record the state of every gate and pool at the current time."""
        outside = [sum(yard.waiting() for yard in yards) for yards in self.gate_yards]
        self.recorder.snapshot(self.kernel.now, outside, self.pools)

    def _monitor(self, _event: object) -> None:
        self._snapshot()
        self.kernel.after(self.monitor_interval, self._monitor)

    def run(self, progress: Progress | None = None, every: float | None = None) -> Tables:
        """Run to the horizon and return the tables.

        ``progress``, if given, is called with the simulated time reached (in the scenario's time unit),
        once per ``every`` time units (default: one simulated day) and at the horizon."""
        with collector_spared():  # fewer garbage collections while it runs (sim/model/collector.py)
            if progress is None:
                self.kernel.run(self.horizon)
            else:
                step = every or self.cal.from_hours(24.0)
                t = 0.0
                while t < self.horizon:
                    t = min(self.horizon, t + step)
                    self.kernel.run(t)
                    progress(t)
            self._snapshot()  # the state at the horizon itself: what is left inside
            for hold in self.holds.values():  # trucks still held upstream get their rows
                hold.finish(self.horizon)
            return self.recorder.tables(self.horizon, self.cal.unit_hours)


def _prioritised_resources(gate: Gate) -> set[str]:
    """Shared pools that some stage ranks trucks on (they need a priority queue)."""
    return {
        stage.resource
        for direction in DIRECTIONS
        if gate.flow(direction) is not None
        for stage in gate.flow(direction).stages.values()  # type: ignore[union-attr]
        if stage.resource is not None and stage.priority
    }


def _source(model: Model, name: str, arrival: Arrival, class_index: int) -> Source:
    """One arrival stream, its samplers drawn from streams named after it (:mod:`sim.model.sources` runs
    it): the scenario's truck class turned into plain values here, at build."""
    seed = model.seed
    truck_class = model.scenario.truck_classes[arrival.truck_class]
    perishable = truck_class.perishable
    shelf_and_age = None
    if perishable is not None:
        shelf_and_age = (
            sampler(perishable.shelf_life_h, stream(seed, "shelf-life", name)),
            sampler(perishable.age_on_arrival_h, stream(seed, "age", name)),
        )
    return Source(
        context=model.context,
        kernel=model.kernel,
        flow=model.flows[(arrival.gate, arrival.direction)],
        class_index=class_index,
        times=arrival_times(arrival, model.cal, model.horizon, seed, name),
        value=sampler(truck_class.value_usd, stream(seed, "value", name)),
        tonnage=sampler(truck_class.tonnage_t, stream(seed, "tonnage", name)),
        flags=[
            (flag, p, uniforms(stream(seed, "flag", name, flag))) for flag, p in truck_class.flags.items()
        ],
        fixed={"commodity": truck_class.commodity, **truck_class.attributes},
        shelf_and_age=shelf_and_age,
        cost=truck_class.waiting_cost_usd_per_day,
        # hook: upstream holding, rail, route choice (sim/model/dispatch.py); None: straight to the gate
        dispatch=dispatcher(model, arrival.gate, arrival.direction, arrival.truck_class),
    )


def _service_stream(
    specs: list, gen: np.random.Generator
) -> Callable[[], float] | Callable[[], tuple[float, ...]]:
    """A stage's service draws: plain floats, or (with service rules) one quantile per alternative."""
    return sampler(specs[0], gen) if len(specs) == 1 else alternatives_sampler(specs, gen)


def run_replication(
    scenario: Scenario,
    seed: np.random.SeedSequence,
    progress: Progress | None = None,
    kernel: str | None = None,
) -> Tables:
    """One replication: a pure function of the scenario and the seed sequence (and not of the kernel).

    ``progress`` is called with the simulated time reached, about once per simulated day. A scenario that
    would not fit in the machine's memory is warned about (:class:`sim.model.memory.MemoryWarning`)
    before it runs."""
    warn_if_too_big(scenario)
    return Model(scenario, seed, kernel).run(progress)
