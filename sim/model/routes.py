"""Stages and flows as built, and a truck's route through them.

The scenario's rules become data here, never branches on a policy name: a truck's *route* (which stages
apply to it, which pool serves it, at what priority, from which service distribution, under which bans)
is worked out once per distinct set of truck attributes and cached on its flow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

from sim.model.resources import Bans, Pool, PriorityPool
from sim.scenario.schema import Flow, Stage

Attrs = dict[str, object]
Draw = Callable[[], float]
DrawMany = Callable[[], tuple[float, ...]]  # one draw, its quantile under every alternative
RouteKey = tuple[object, ...]  # a truck class and its flag values

NO_PRIORITY = 1_000_000  # the rank of a truck no rule favours, the same at every stage sharing a pool


def matches(attrs: Attrs, when: Mapping[str, object] | None) -> bool:
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
    services: Draw | DrawMany  # one float, or one per service rule (and per dated period)
    diverted_services: Draw | DrawMany  # trucks arriving by diversion
    returns: Draw | None  # the server's time back after the truck leaves (a border driver's return trip)
    bans: list[tuple[float, float, Mapping[str, object]]] = field(default_factory=list)
    periods: tuple[float, ...] = ()  # when dated service changes start (sim/model/dated.py)


def _no_periods() -> tuple[float, ...]:
    return ()


def _dated_only() -> float:
    raise AssertionError("a stage with dated service changes draws one time per period (draw_periods)")


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of one truck's route: where it queues, at what rank, and how its service is drawn.

    Every draw keeps one type: a stage without dated service changes draws one time (``draw``), a stage
    with them one time per period (``draw_periods``; ``periods`` is then not empty), the one in force as
    service starts being used. The other pair is never called."""

    stage_index: int
    pool: Pool | None  # None: a pure delay
    priority: int | None  # None: the pool does not rank trucks
    draw: Draw  # this truck's service-time stream at the stage
    draw_diverted: Draw  # the same for a truck that arrives by diversion
    returns: Draw | None
    bans: Bans  # sorted by start
    periods: tuple[float, ...] = ()  # when dated service changes start
    draw_periods: DrawMany = _no_periods  # with dated changes: one time per period
    draw_periods_diverted: DrawMany = _no_periods


@dataclass(frozen=True)
class Route:
    """The steps a truck with a given attribute set takes through a flow, worked out once and cached."""

    steps: tuple[Step, ...]
    yard_step: int  # position in ``steps`` where the truck enters the yard (len(steps): never)
    no_returns: list[float] | None  # all-zero return trips, shared (never changed), when no step has any
    dated: bool = False  # a step has dated service changes (its draws are per period)


@dataclass
class Reneging:
    """The draws of a flow's reneging rule: patience, whether to divert, and the drive to the other gate."""

    patience: Draw
    diverted_patience: Draw
    divert_u: Draw
    travel: Draw
    # the rule as plain numbers (the model reads no scenario object while it runs)
    shelf_life_fraction: float
    hazard: tuple[float, float] | None  # (per day, past shelf life per day): a daily hazard
    divert_to: str | None  # the gate a truck that gives up drives to (None: it turns back)
    divert_share: float


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
    routes: dict[RouteKey, Route] = field(default_factory=dict)

    def route(self, key: RouteKey, attrs: Callable[[], Attrs]) -> Route:
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
            green = spec.green_lane
            in_lane = stage.lane is not None and green is not None and matches(attrs, green.when)
            pool = stage.lane if in_lane else stage.pool
            rank = None
            if isinstance(pool, PriorityPool):
                rank = next(
                    (r for r, rule in enumerate(spec.priority) if matches(attrs, rule.when)), NO_PRIORITY
                )
            rule = next((i + 1 for i, r in enumerate(spec.service_when) if matches(attrs, r.when)), 0)
            n_rules, n_changes = len(spec.service_when), len(stage.periods)
            dated = n_changes > 0
            steps.append(
                Step(
                    stage_index=stage.index,
                    pool=pool,
                    priority=rank,
                    draw=_dated_only if dated else _pick(stage.services, rule, n_rules),
                    draw_diverted=_dated_only if dated else _pick(stage.diverted_services, rule, n_rules),
                    returns=stage.returns,
                    bans=tuple(sorted((t0, t1) for t0, t1, when in stage.bans if matches(attrs, when))),
                    periods=stage.periods,
                    draw_periods=_pick_periods(stage.services, rule, n_rules, n_changes),
                    draw_periods_diverted=_pick_periods(stage.diverted_services, rule, n_rules, n_changes),
                )
            )
        if yard_step < 0:
            yard_step = len(steps)  # the yard stage does not apply: enter the yard at the next one
        no_returns = None if any(s.returns is not None for s in steps) else [0.0] * len(steps)
        return Route(tuple(steps), yard_step, no_returns, any(s.periods for s in steps))


def _pick(draws: Draw | DrawMany, rule: int, n_rules: int) -> Draw:
    """The draw of one truck at a stage without dated changes: the whole stream without rules (a stream of
    floats: one distribution), else its rule's quantile (a stream of one value per alternative)."""
    if n_rules == 0:
        return cast(Draw, draws)
    many = cast(DrawMany, draws)

    def pick() -> float:
        return many()[rule]

    return pick


def _pick_periods(draws: Draw | DrawMany, rule: int, n_rules: int, n_changes: int) -> DrawMany:
    """With dated service changes: this truck's rule's quantile in each period (the alternatives are laid
    out period by period, each with the default and then the rules); without, no draw at all."""
    if not n_changes:
        return _no_periods
    many = cast(DrawMany, draws)
    width = n_rules + 1
    picks = [p * width + rule for p in range(n_changes + 1)]

    def pick() -> tuple[float, ...]:
        q = many()
        return tuple(q[i] for i in picks)

    return pick
