"""Stages and flows as built, and a truck's route through them.

The scenario's rules become data here, never branches on a policy name: a truck's *route* (which stages
apply to it, which pool serves it, at what priority, from which service distribution, under which bans)
is worked out once per distinct set of truck attributes and cached on its flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sim.model.resources import Bans, Pool, PriorityPool
from sim.scenario.schema import Flow, Stage

Attrs = dict[str, object]
Draw = Callable[[], float]

NO_PRIORITY = 1_000_000  # the rank of a truck no rule favours, the same at every stage sharing a pool


def matches(attrs: Attrs, when: dict[str, object] | None) -> bool:
    """Whether a truck with ``attrs`` satisfies every key of ``when`` (``None`` matches every truck)."""
    return when is None or all(attrs.get(k) == v for k, v in when.items())


@dataclass
class StageRuntime:
    """A stage as built: its pools, its service-time streams and the bans that hold trucks back from it."""

    index: int  # global stage index in the records
    name: str
    spec: Stage
    pool: Pool | None  # None for a pure delay
    lane: Pool | None  # the green lane's dedicated pool
    services: Callable[[], float] | Callable[[], tuple[float, ...]]  # one float, or one per service rule
    diverted_services: Callable[[], float] | Callable[[], tuple[float, ...]]  # trucks arriving by diversion
    returns: Draw | None  # the server's time back after the truck leaves (a border driver's return trip)
    bans: list[tuple[float, float, dict[str, object]]] = field(default_factory=list)
    periods: tuple[float, ...] = ()  # when dated service changes start (sim/model/dated.py)


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of one truck's route: where it queues, at what rank, and how its service is drawn."""

    stage_index: int
    pool: Pool | None  # None: a pure delay
    priority: int | None  # None: the pool does not rank trucks
    draw: Draw  # this truck's service-time stream at the stage
    draw_diverted: Draw  # the same for a truck that arrives by diversion
    returns: Draw | None
    bans: Bans  # sorted by start
    periods: tuple[float, ...] = ()  # dated service changes: ``draw`` gives one time per period


@dataclass(frozen=True)
class Route:
    """The steps a truck with a given attribute set takes through a flow, worked out once and cached."""

    steps: tuple[Step, ...]
    yard_step: int  # position in ``steps`` where the truck enters the yard (len(steps): never)
    no_returns: tuple[float, ...] | None  # all-zero return trips, shared, when no step has any


@dataclass
class Reneging:
    """The draws of a flow's reneging rule: patience, whether to divert, and the drive to the other gate."""

    patience: Draw
    diverted_patience: Draw
    divert_u: Draw
    travel: Draw


@dataclass
class FlowRuntime:
    """One direction at one gate as built: its stages, its yard and its cache of routes."""

    index: int
    gate: int
    direction: str
    spec: Flow
    stages: list[StageRuntime]
    yard: Pool | None
    yard_at: int  # position in ``stages`` where the truck enters the yard
    reneging: Reneging | None = None
    routes: dict[tuple, Route] = field(default_factory=dict)

    def route(self, key: tuple, attrs: Callable[[], Attrs]) -> Route:
        """The route of trucks whose attribute set is identified by ``key`` (class and flag values);
        ``attrs`` gives the attributes themselves, needed only the first time a key is seen."""
        cached = self.routes.get(key)
        if cached is None:
            cached = self.routes[key] = self._build_route(attrs())
        return cached

    def _build_route(self, attrs: Attrs) -> Route:
        steps: list[Step] = []
        yard_step = -1
        for pos, stage in enumerate(self.stages):
            spec = stage.spec
            applies = matches(attrs, spec.applies_to)
            if pos >= self.yard_at and yard_step < 0 and applies:
                yard_step = len(steps)
            if not applies:
                continue
            in_lane = stage.lane is not None and matches(attrs, spec.green_lane.when)  # type: ignore[union-attr]
            pool = stage.lane if in_lane else stage.pool
            rank = None
            if isinstance(pool, PriorityPool):
                rank = next(
                    (r for r, rule in enumerate(spec.priority) if matches(attrs, rule.when)), NO_PRIORITY
                )
            rule = next((i + 1 for i, r in enumerate(spec.service_when) if matches(attrs, r.when)), 0)
            n_rules = len(spec.service_when)
            steps.append(
                Step(
                    stage_index=stage.index,
                    pool=pool,
                    priority=rank,
                    draw=_pick(stage.services, rule, n_rules, len(stage.periods)),
                    draw_diverted=_pick(stage.diverted_services, rule, n_rules, len(stage.periods)),
                    returns=stage.returns,
                    bans=tuple(sorted((t0, t1) for t0, t1, when in stage.bans if matches(attrs, when))),
                    periods=stage.periods,
                )
            )
        if yard_step < 0:
            yard_step = len(steps)  # the yard stage does not apply: enter the yard at the next one
        no_returns = None if any(s.returns is not None for s in steps) else (0.0,) * len(steps)
        return Route(tuple(steps), yard_step, no_returns)


def _pick(draws: Callable, rule: int, n_rules: int, n_changes: int = 0) -> Draw:
    """The draw of one truck at a stage: the whole stream without rules, else its rule's quantile.

    With dated service changes the draw is a tuple, this truck's rule's quantile in each period (the
    alternatives are laid out period by period, each with the default and then the rules)."""
    if n_changes:
        width = n_rules + 1
        picks = [p * width + rule for p in range(n_changes + 1)]
        return lambda: (lambda q: tuple(q[i] for i in picks))(draws())  # type: ignore[return-value]
    if n_rules == 0:
        return draws
    return lambda: draws()[rule]
