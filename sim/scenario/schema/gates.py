"""The border's layout: gates, their flows of stages, shared pools, yards, caps, lanes and closures.

What a truck meets once it reaches a gate; the levers that act before it (upstream holding, rail, route
choice) are in :mod:`sim.scenario.schema.levers`, and a flow only points at its upstream scheme.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.schema.common import DIRECTIONS, Key, NonNegativeFloat, PositiveFloat, Strict
from sim.scenario.schema.distributions import Deterministic, Distribution
from sim.scenario.schema.hours import (
    Closure,
    DatedChange,
    Hours,
    HoursInput,
    hours_from_text,
    increasing_dates,
)
from sim.scenario.schema.levers import Upstream


class PriorityRule(Strict):
    """Trucks whose attributes match every key of ``when`` are served before the others."""

    when: Annotated[dict[str, str | bool | int], Field(min_length=1)]


class SharedResource(Strict):
    """A pool of servers that several stages of a gate draw on (e.g. one disinfection station)."""

    servers: Annotated[int, Field(ge=1)]
    hours: Hours | None = None
    daily_cap: Annotated[int, Field(ge=1)] | None = None

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(hours_from_text)


class ServiceRule(Strict):
    """A service-time distribution for the trucks whose attributes match ``when``."""

    when: Annotated[dict[str, str | bool | int], Field(min_length=1)]
    service: Distribution


class GreenLane(Strict):
    """Dedicated servers at a stage for eligible trucks (the "green border gate" lanes).

    Eligible trucks use only these servers; the others use the stage's own pool. The lane keeps the
    stage's opening hours and closures, and has no daily cap of its own unless ``daily_cap`` is set.
    """

    when: Annotated[dict[str, str | bool | int], Field(min_length=1)]
    servers: Annotated[int, Field(ge=1)]
    daily_cap: Annotated[int, Field(ge=1)] | None = None


class StageChange(DatedChange):
    """A stage's new service time, daily cap, servers or hours from a date (e.g. slower Chinese screening).

    ``service`` replaces the stage's default distribution (its ``service_when`` rules stay); a truck's
    service time is the one in force when its service starts, drawn from the same uniform as before
    (common random numbers). ``daily_cap: none`` removes a cap. ``hours`` replaces the stage's hours
    (gate closures still apply)."""

    service: Distribution | None = None
    daily_cap: Annotated[int, Field(ge=0)] | Literal["none"] | None = None
    servers: Annotated[int, Field(ge=1)] | None = None
    hours: Hours | None = None

    _hours = field_validator("hours", mode="before")(hours_from_text)

    @model_validator(mode="after")
    def _something(self) -> StageChange:
        if self.service is None and self.daily_cap is None and self.servers is None and self.hours is None:
            raise ValueError("a dated change needs at least one of service, daily_cap, servers, hours")
        return self


class Stage(Strict):
    """One step of a flow: queue for a server, be served, move on.

    Either ``servers`` (the stage's own pool; ``unlimited`` for a pure delay such as waiting for a test
    result) or ``resource`` (a pool shared within the gate, e.g. the specialised drivers).
    """

    servers: Annotated[int, Field(ge=1)] | Literal["unlimited"] | None = None
    resource: str | None = None
    service: Distribution
    service_when: list[ServiceRule] = []
    applies_to: dict[str, str | bool | int] | None = None
    hours: Hours | None = None
    daily_cap: Annotated[int, Field(ge=1)] | None = None
    return_time: Distribution | None = None
    priority: list[PriorityRule] = []
    green_lane: GreenLane | None = None
    changes: list[StageChange] = []

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(hours_from_text)

    @field_validator("servers", mode="before")
    @classmethod
    def _servers(cls, v: object) -> object:
        # one clear message instead of one per member of the union
        if v is None or v == "unlimited" or (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
            return v
        raise ValueError(f"must be a whole number of servers, at least 1, or 'unlimited' (got {v!r})")

    @field_validator("priority", mode="before", json_schema_input_type=list[PriorityRule] | PriorityRule)
    @classmethod
    def _one_rule(cls, v: object) -> object:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _pool(self) -> Stage:
        if (self.servers is None) == (self.resource is None):
            raise ValueError("give exactly one of 'servers' (own pool) or 'resource' (a shared pool)")
        if self.resource is not None and (self.hours is not None or self.daily_cap is not None):
            raise ValueError("a stage on a shared resource takes the pool's hours and cap: set them there")
        if self.servers == "unlimited" and (
            self.hours is not None or self.daily_cap or self.priority or self.green_lane or self.return_time
        ):
            raise ValueError("an 'unlimited' stage is a pure delay: no hours, cap, priority or lanes")
        increasing_dates(self.changes, "changes")  # type: ignore[arg-type]
        if self.resource is not None or self.is_delay:
            for c in self.changes:
                if c.daily_cap is not None or c.servers is not None or c.hours is not None:
                    raise ValueError(
                        "a stage on a shared resource or an 'unlimited' delay can change only its service"
                        " from a date"
                    )
        return self

    @property
    def is_delay(self) -> bool:
        """Whether the stage is a pure delay (unlimited servers: a wait such as a test result)."""
        return self.servers == "unlimited"


class PatienceHazard(Strict):
    """Giving up as a daily hazard that rises once the cargo's shelf life is spent (facts 2.4).

    A truck gives up at rate ``per_day`` while its wait (from its arrival at the gate) is shorter than
    ``shelf_life_fraction`` of the shelf life its cargo had left on arrival, and at
    ``past_shelf_life_per_day`` after that; a cargo that does not perish keeps ``per_day``. So a reefer
    truck (weeks of shelf life) and an ambient one (days) of the same flow have different hazards through
    their classes' shelf lives, and the survival function of its wait w is
    ``exp(-per_day * min(w, s) - past_shelf_life_per_day * max(0, w - s))`` (w, s in days). A truck
    that diverts starts again at the other gate with s less the time it has spent since reaching the
    province."""

    per_day: NonNegativeFloat
    past_shelf_life_per_day: PositiveFloat


class Reneging(Strict):
    """Trucks that wait too long give up: they turn back, or divert to another gate of the province.

    Each truck draws a patience (hours of waiting it will accept, counted from its arrival): from
    ``patience_h``, where a perishable cargo's patience is capped at ``shelf_life_fraction`` of its
    remaining shelf life, or from ``hazard`` (a daily hazard that rises past that point; give one of the
    two). A truck gives up only while it is queued (outside the yard or at a stage), never in service;
    one that gives up inside the yard frees its place.
    """

    patience_h: Distribution | None = None
    hazard: PatienceHazard | None = None
    shelf_life_fraction: Annotated[float, Field(gt=0)] = 1.0
    divert_to: str | None = None
    divert_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    travel_h: Distribution = Deterministic(dist="deterministic", value=0.0)

    @model_validator(mode="after")
    def _one_patience(self) -> Reneging:
        if (self.patience_h is None) == (self.hazard is None):
            raise ValueError("give exactly one of 'patience_h' (a distribution) or 'hazard' (daily rates)")
        return self


class Yard(Strict):
    """A parking yard. A truck holds a place from ``enters_yard_at`` until it crosses; a truck that
    finds it full waits outside (the backlog), first come first served.

    A gate's ``yard`` is shared by its directions; a flow's own ``yard`` (a zone kept for one direction,
    e.g. Huu Nghi's transshipment zone, facts #29, #33) replaces it for that direction, so that trucks of
    the other direction held at the border cannot fill it."""

    capacity: Annotated[int, Field(ge=1)] | None = None


class Flow(Strict):
    """The ordered stages of one direction at one gate (YAML mappings keep their order).

    ``yard``: this direction's own yard or zone; without it the direction uses the gate's yard, shared
    with the other direction."""

    stages: Annotated[dict[Key, Stage], Field(min_length=1)]
    enters_yard_at: str | None = None
    reneging: Reneging | None = None
    yard: Yard | None = None
    upstream: Upstream | None = None  # trucks held at their origin (issue 22)


class Location(Strict):
    """Where a gate is, in decimal degrees (WGS 84): only for drawing it on a map (``bordersim animate``);
    the model never reads it."""

    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class GateClosure(Closure):
    """Scheduled closure: the named stages or shared resources (default: all of the gate's) serve no one.

    With ``when``, it is a ban instead: only trucks whose attributes match are held back (they wait, in
    the yard if they hold a place, until the ban ends) while the others are served.
    """

    stages: list[str] | None = None
    when: dict[str, str | bool | int] | None = None


class RandomClosures(Strict):
    """Unannounced stoppages (e.g. after a positive sample): a Poisson process with random durations.

    ``from``: the date (local midnight) the stoppages start, e.g. the onset of a regime of controls;
    without it they run from the start of the run."""

    rate_per_day: PositiveFloat
    duration_h: Distribution
    stages: list[str] | None = None
    from_: date | None = Field(default=None, alias="from")

    _date_only = field_validator("from_", mode="before")(DatedChange._date_only.__func__)  # type: ignore[attr-defined]


class Gate(Strict):
    """A border gate: its yard, shared resources, closures and its export and import flows."""

    name: str | None = None
    # another province's gate (e.g. Quang Ninh's Mong Cai, which route choice may use): its own rows,
    # never in the province's totals of the net cost (sim/analysis/net_cost.py); None: the province's
    province: str | None = None
    location: Location | None = None  # for maps only
    yard: Yard = Yard()
    resources: dict[Key, SharedResource] = {}
    closures: list[GateClosure] = []
    random_closures: RandomClosures | None = None
    export: Flow | None = None
    import_: Flow | None = Field(default=None, alias="import")

    def flow(self, direction: str) -> Flow | None:
        """The gate's flow in a direction ('export' or 'import'), or None if it has none."""
        return self.export if direction == "export" else self.import_

    def yard_for(self, direction: str) -> Yard:
        """The yard a direction's trucks use: the flow's own, else the gate's (shared)."""
        flow = self.flow(direction)
        return flow.yard if flow is not None and flow.yard is not None else self.yard

    def yard_capacity(self, direction: str | None = None) -> int | None:
        """Places in the yards of a direction (None: both), each yard counted once; None if unlimited."""
        directions = [direction] if direction in DIRECTIONS else list(DIRECTIONS)
        yards = {id(y): y for d in directions if self.flow(d) is not None for y in [self.yard_for(d)]}
        caps = [y.capacity for y in yards.values()] or [self.yard.capacity]
        return None if any(c is None for c in caps) else sum(caps)  # type: ignore[misc]
