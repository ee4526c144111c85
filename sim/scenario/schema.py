"""The scenario schema: what a scenario YAML may say, validated with pydantic.

Every model forbids unknown keys (a typo must not be silently ignored) and is frozen (a validated scenario
is a value: the model reads it, never changes it). Cross-references between parts of the scenario (an
arrival naming a gate, a stage naming a shared resource) are checked in :func:`reference_problems`, which
returns field paths so that errors can point at the line of the YAML file.
"""

from __future__ import annotations

import itertools
import math
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import special, stats

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIRECTIONS = ("export", "import")
TIME_UNIT_HOURS = {"minutes": 1.0 / 60.0, "hours": 1.0, "days": 24.0}

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")


def _local_time(v: datetime) -> datetime:
    """Scenario times are local times at the border: an offset would make them incomparable."""
    if v.tzinfo is not None:
        raise ValueError(f"{v.isoformat()}: give the local time at the border without a UTC offset")
    return v


LocalDateTime = Annotated[datetime, AfterValidator(_local_time)]


def safe_name(v: str) -> str:
    """A scenario name is a folder name under the results root: letters, digits, '_', '-' and '.'
    only, so that no name can point outside it (``..``, ``/``, an absolute path or an empty name)."""
    if not NAME.fullmatch(v) or v in (".", ".."):
        raise ValueError(
            f"{v[:80]!r} is not a usable name: use 1 to 100 letters, digits, '_', '-' or '.' "
            "(it names the results folder), not '.' or '..'"
        )
    return v


def key_name(v: str) -> str:
    """A key that names a part of the scenario (a gate, a flow, a stage, a truck class, a resource) is
    a name: it becomes a gate or stage column, a table row, a file or folder name and a ``--set`` key, and
    is written into CSV, spreadsheet, Markdown and HTML outputs. Letters, digits, '_' and '-' only: a dot
    would split a ``--set`` key, and a leading '=' would be a live formula in a spreadsheet."""
    if not KEY.fullmatch(v):
        shown = v if len(v) <= 60 else f"{v[:60]}..."
        raise ValueError(
            f"{shown!r} is not a usable name for a key: use 1 to 100 letters, digits, '_' or '-' "
            "(it names a column, a row and a --set key in every output)"
        )
    return v


Key = Annotated[str, AfterValidator(key_name)]


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are errors and validated values never change.

    Numbers must be finite: an infinite horizon or rate would make a run that never ends."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------------
# Distributions (service times, truck attributes)
# --------------------------------------------------------------------------------------------------
class Dist(Strict):
    """A probability distribution of a scenario: it knows its inverse distribution function, its mean and
    how to describe itself, so that no other code has to tell the kinds apart.

    Draws are made by inversion (``quantiles`` of uniforms) everywhere: that is what keeps a truck's draw
    at a stage the same quantile under every policy (common random numbers).
    """

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        """The inverse distribution function at probabilities ``u`` (an array in [0, 1))."""
        raise NotImplementedError

    def mean_value(self) -> float:
        """The expected value."""
        raise NotImplementedError

    def constant(self) -> float | None:
        """The value if the distribution is a single point (no draw needed), else None."""
        return None

    def describe(self, unit: str = "") -> str:
        """The distribution in words, e.g. 'exponential (mean 0.3) h'."""
        params = ", ".join(
            f"{k} {v:g}" if isinstance(v, float | int) else f"{k} {v}"
            for k, v in self.model_dump().items()
            if k != "dist"
        )
        return f"{self.dist} ({params}) {unit}".rstrip()  # type: ignore[attr-defined]


class Exponential(Dist):
    """Memoryless times (Poisson-like service), given by the mean."""

    dist: Literal["exponential"]
    mean: PositiveFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return stats.expon.ppf(u, scale=self.mean)

    def mean_value(self) -> float:
        return self.mean


class Deterministic(Dist):
    """A fixed value (a scheduled time, a fixed cargo value)."""

    dist: Literal["deterministic"]
    value: NonNegativeFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return np.full(len(u), self.value, dtype=float)

    def mean_value(self) -> float:
        return self.value

    def constant(self) -> float | None:
        return float(self.value)


class Uniform(Dist):
    """Equally likely values between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return stats.uniform.ppf(u, loc=self.low, scale=self.high - self.low)

    def mean_value(self) -> float:
        return (self.low + self.high) / 2.0


class Triangular(Dist):
    """A minimum, a most likely and a maximum value: the usual elicitation when only ranges are known."""

    dist: Literal["triangular"]
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.high <= self.low:
            raise ValueError(
                f"needs low <= mode <= high and low < high (got {self.low}, {self.mode}, {self.high})"
            )
        return self

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        width = self.high - self.low
        return stats.triang.ppf(u, (self.mode - self.low) / width, loc=self.low, scale=width)

    def mean_value(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


class Lognormal(Dist):
    """Lognormal given by the mean and standard deviation of the variable itself (not of its log)."""

    dist: Literal["lognormal"]
    mean: PositiveFloat
    sd: PositiveFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        """``scale * exp(sigma * Phi^-1(u))``, as ``scipy.stats.lognorm.ppf`` computes it, but with the C
        library's ``exp`` element by element: numpy's vectorised float64 ``exp`` takes an AVX512F path on
        CPUs that have it, whose last bit differs from the C library's, so the same seed gave other cargo
        values (and golden tables) on another machine. Values on CPUs without AVX512F are unchanged."""
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        scale = self.mean * math.exp(-sigma2 / 2.0)
        z = special.ndtri(np.asarray(u, dtype=float)) * math.sqrt(sigma2)
        return np.fromiter(map(math.exp, z.tolist()), dtype=float, count=len(z)) * scale

    def mean_value(self) -> float:
        return self.mean


class Gamma(Dist):
    """Gamma given by mean and standard deviation (shape = (mean/sd)^2)."""

    dist: Literal["gamma"]
    mean: PositiveFloat
    sd: PositiveFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        shape = (self.mean / self.sd) ** 2
        return stats.gamma.ppf(u, shape, scale=self.sd**2 / self.mean)

    def mean_value(self) -> float:
        return self.mean


class Empirical(Dist):
    """Draws uniformly, with replacement, from observed values."""

    dist: Literal["empirical"]
    values: Annotated[list[NonNegativeFloat], Field(min_length=1)]

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        values = np.sort(np.asarray(self.values, dtype=float))
        return values[np.minimum((u * len(values)).astype(np.int64), len(values) - 1)]

    def mean_value(self) -> float:
        return sum(self.values) / len(self.values)

    def describe(self, unit: str = "") -> str:
        return f"empirical ({len(self.values)} values, mean {self.mean_value():g}) {unit}".rstrip()


DISTRIBUTIONS: tuple[type[Dist], ...] = (
    Exponential,
    Deterministic,
    Uniform,
    Triangular,
    Lognormal,
    Gamma,
    Empirical,
)
DISTRIBUTION_TAGS = frozenset(cls.model_fields["dist"].annotation.__args__[0] for cls in DISTRIBUTIONS)

Distribution = Annotated[
    Exponential | Deterministic | Uniform | Triangular | Lognormal | Gamma | Empirical,
    Field(discriminator="dist"),
]


# --------------------------------------------------------------------------------------------------
# Opening hours
# --------------------------------------------------------------------------------------------------
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: str) -> tuple[float, float]:
    """Parse ``"07:00-18:00"`` into hours after midnight, ``(7.0, 18.0)``.

    Windows do not wrap past midnight: a night shift is written as two windows, so that each day's
    hours are explicit.
    """
    m = _WINDOW.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a time window; expected 'HH:MM-HH:MM', e.g. '07:00-18:00'")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    for h, mi in ((h1, m1), (h2, m2)):
        if mi > 59 or h > 24 or (h == 24 and mi != 0):
            raise ValueError(f"'{text}': {h:02d}:{mi:02d} is not a time of day (00:00 to 24:00)")
    start, end = h1 + m1 / 60.0, h2 + m2 / 60.0
    if end <= start:
        raise ValueError(
            f"'{text}': the end must be after the start; split a window that crosses midnight in two"
        )
    return start, end


class Closure(Strict):
    """A period (local time) during which something does not serve.

    ``start`` and ``end`` are date-times; a bare date as ``end`` means the end of that day, so
    ``{start: 2022-01-31, end: 2022-02-06}`` closes seven whole days.
    """

    start: LocalDateTime
    end: LocalDateTime
    reason: str = ""

    @field_validator("start", mode="before")
    @classmethod
    def _start_date(cls, v: object) -> object:
        if isinstance(v, date) and not isinstance(v, datetime):
            return datetime(v.year, v.month, v.day)
        return v

    @field_validator("end", mode="before")
    @classmethod
    def _end_date(cls, v: object) -> object:
        if isinstance(v, date) and not isinstance(v, datetime):
            return datetime(v.year, v.month, v.day) + timedelta(days=1)
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class Hours(Strict):
    """When a stage serves. No new service starts outside these hours; a truck in service finishes."""

    windows: Annotated[list[str], Field(min_length=1)] = ["00:00-24:00"]
    days: Annotated[list[Literal[WEEKDAYS]], Field(min_length=1)] = list(WEEKDAYS)  # type: ignore[valid-type]
    closed: list[Closure] = []

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: list[str]) -> list[str]:
        spans = sorted(parse_window(w) for w in v)
        for (_, e1), (s2, _) in itertools.pairwise(spans):
            if s2 < e1:
                raise ValueError(f"time windows overlap: {v}")
        return v

    def spans(self) -> list[tuple[float, float]]:
        """The daily opening windows as (start, end) hours after midnight, in order."""
        return sorted(parse_window(w) for w in self.windows)

    @property
    def always_open(self) -> bool:
        """Whether the hours are every day, all day, with no closure (no timetable needed)."""
        return self.spans() == [(0.0, 24.0)] and len(set(self.days)) == 7 and not self.closed


def _hours_from_text(v: object) -> object:
    if v is None or v == "always":
        return None
    if isinstance(v, str):  # shorthand: "07:00-18:00"
        return {"windows": [v]}
    if isinstance(v, list):  # shorthand: ["08:00-11:00", "12:00-16:00"]
        return {"windows": v}
    return v


# what a scenario file may write for ``hours`` (the JSON Schema shows the shorthands too): "always",
# "07:00-18:00", ["08:00-11:00", "12:00-16:00"] or the full form
HoursInput = Hours | str | list[str] | None


# --------------------------------------------------------------------------------------------------
# Network: resources, stages, flows, gates
# --------------------------------------------------------------------------------------------------
class PriorityRule(Strict):
    """Trucks whose attributes match every key of ``when`` are served before the others."""

    when: Annotated[dict[str, str | bool | int], Field(min_length=1)]


class SharedResource(Strict):
    """A pool of servers that several stages of a gate draw on (e.g. one disinfection station)."""

    servers: Annotated[int, Field(ge=1)]
    hours: Hours | None = None
    daily_cap: Annotated[int, Field(ge=1)] | None = None

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(_hours_from_text)


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


class DatedChange(Strict):
    """Something that changes from a date on (local midnight starting ``from``) until the next entry.

    Entries of one list must be in strictly increasing date order; each entry states the new value in
    full (it does not add to the one before)."""

    from_: date = Field(alias="from")

    @field_validator("from_", mode="before")
    @classmethod
    def _date_only(cls, v: object) -> object:
        if isinstance(v, datetime):
            if v.time() != datetime.min.time():
                raise ValueError(f"a dated change starts at local midnight: give a date, not {v}")
            return v.date()
        return v

    @property
    def start(self) -> datetime:
        """Local midnight starting the date."""
        return datetime(self.from_.year, self.from_.month, self.from_.day)


def _increasing_dates(entries: list[DatedChange], what: str) -> None:
    for a, b in itertools.pairwise(entries):
        if b.from_ <= a.from_:
            raise ValueError(f"{what} must be in increasing date order ({b.from_} after {a.from_})")


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

    _hours = field_validator("hours", mode="before")(_hours_from_text)

    @model_validator(mode="after")
    def _something(self) -> StageChange:
        if self.service is None and self.daily_cap is None and self.servers is None and self.hours is None:
            raise ValueError("a dated change needs at least one of service, daily_cap, servers, hours")
        return self


class RateChange(DatedChange):
    """An arrival stream's rate from a date: a new ``rate`` (in the stream's ``per`` unit) or a ``factor``
    on its base rate. Month, weekday and hour factors still multiply it."""

    rate: NonNegativeFloat | None = None
    factor: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _one(self) -> RateChange:
        if (self.rate is None) == (self.factor is None):
            raise ValueError("give exactly one of 'rate' (trucks per the stream's unit) or 'factor'")
        return self


class DemandChange(DatedChange):
    """A factor on the derived arrival streams of a gate, direction and/or truck class from a date.

    Unset selectors match every stream; the factor in force on a stream is that of the latest entry
    matching it (entries set a level, they do not multiply)."""

    factor: NonNegativeFloat
    gate: str | None = None
    direction: Literal["export", "import"] | None = None
    truck_class: str | None = None

    def matches(self, gate: str, direction: str, truck_class: str) -> bool:
        """Whether the change applies to this gate, direction and truck class."""
        return (
            (self.gate is None or self.gate == gate)
            and (self.direction is None or self.direction == direction)
            and (self.truck_class is None or self.truck_class == truck_class)
        )


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

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(_hours_from_text)

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
        _increasing_dates(self.changes, "changes")  # type: ignore[arg-type]
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


# --------------------------------------------------------------------------------------------------
# Levers before and around the gate (issue 22): upstream holding, rail, route choice. Each section is
# optional; without it the model behaves exactly as before (tests/test_golden_tables.py).
# --------------------------------------------------------------------------------------------------
class UpstreamPeriod(DatedChange):
    """How trucks are released from their origin from a date on (until the next period).

    ``rule``: ``none`` (no holding: every held truck is released at once), ``quota`` (at most
    ``daily_quota`` released a calendar day, first held first released), ``threshold`` (released while
    fewer than ``threshold`` trucks of the flow wait at the gate, checked on the hour) or
    ``slots`` (``slots_per_hour`` released at the start of each hour of ``hours``: the digital platform
    calling trucks forward). ``compliance`` is the share of trucks that wait when asked; the others come
    anyway (they are never held)."""

    rule: Literal["none", "quota", "threshold", "slots"]
    daily_quota: Annotated[int, Field(ge=0)] | None = None
    threshold: Annotated[int, Field(ge=0)] | None = None
    slots_per_hour: Annotated[int, Field(ge=0)] | None = None
    hours: Hours | None = None
    compliance: Annotated[float, Field(ge=0, le=1)] = 1.0

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(_hours_from_text)

    @model_validator(mode="after")
    def _parameter(self) -> UpstreamPeriod:
        needed = {"quota": "daily_quota", "threshold": "threshold", "slots": "slots_per_hour"}.get(self.rule)
        if needed is not None and getattr(self, needed) is None:
            raise ValueError(f"rule '{self.rule}' needs '{needed}'")
        return self


class Upstream(Strict):
    """Trucks of a gate and direction kept at their origin (a farm, a cold store, a depot) and released
    by the rule of the period in force (the province asking shippers to hold, the platform's slots).

    ``classes`` (default: every class) are the truck classes the scheme covers. While held, perishable
    cargo uses ``ageing_rate`` hours of its shelf life per hour (1: as fast as in the truck, e.g. a cold
    store at the reefer's temperature; more: in the field), a class in ``ageing_rate_by_class`` at its own
    rate, and the shipper pays ``cost_usd_per_day`` a truck-day (a class in ``cost_usd_per_day_by_class``
    its own: a cold store for fruit, a depot for the rest). A held truck whose shipper runs out of
    patience (``cancel_after_h``, from the time it was ready) cancels the shipment."""

    periods: Annotated[dict[Key, UpstreamPeriod], Field(min_length=1)]  # named, in date order
    classes: Annotated[list[str], Field(min_length=1)] | None = None
    ageing_rate: NonNegativeFloat = 1.0
    ageing_rate_by_class: dict[str, NonNegativeFloat] = {}
    cost_usd_per_day: NonNegativeFloat = 0.0
    cost_usd_per_day_by_class: dict[str, NonNegativeFloat] = {}
    cancel_after_h: Distribution | None = None
    shelf_life_fraction: Annotated[float, Field(gt=0)] = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Upstream:
        _increasing_dates(list(self.periods.values()), "periods")  # type: ignore[arg-type]
        return self


class RailSend(Strict):
    """How much of a truck class's cargo goes by rail: a ``share`` of its trucks, counted only among those
    that find more than ``when_waiting_above`` trucks waiting at their gate when that is given, from the
    date ``from`` (default: from the start); with ``rail_waiting_below``, only while fewer than that many
    trucks wait at the station (the platform sees its queue: no truck is sent to wait days for a wagon)."""

    from_: date | None = Field(default=None, alias="from")
    share: Annotated[float, Field(ge=0, le=1)] = 1.0
    when_waiting_above: Annotated[int, Field(ge=0)] | None = None
    rail_waiting_below: Annotated[int, Field(ge=1)] | None = None


class RailDirection(Strict):
    """Wagons a day in one direction and the truckloads a wagon takes."""

    wagons_per_day: Annotated[int, Field(ge=1)]
    loads_per_wagon: PositiveFloat = 1.0

    @model_validator(mode="after")
    def _some_load(self) -> RailDirection:
        if self.loads_per_day < 1:
            raise ValueError("wagons_per_day x loads_per_wagon must make at least one truckload a day")
        return self

    @property
    def loads_per_day(self) -> int:
        """Truckloads the trains of one day can take (whole loads only)."""
        return int(self.wagons_per_day * self.loads_per_wagon + 1e-9)


class Rail(Strict):
    """A rail route (Dong Dang station): the cargo of some trucks is loaded on wagons instead of crossing
    by road. A truck sent to rail is handled (``handling``: unloading, transshipment), waits for a wagon
    place (at most ``loads_per_day`` loaded a calendar day, in ``hours``; ``closures`` stop the loading),
    is loaded (``loading``) and crosses (``transit``); times in the scenario's time unit, like stage
    services. It shows in the records as a gate named ``name``, so every metric covers it."""

    name: Key = "dong_dang_rail"
    export: RailDirection | None = None
    import_: RailDirection | None = Field(default=None, alias="import")
    classes: Annotated[list[str], Field(min_length=1)]
    handling: Distribution
    loading: Distribution = Deterministic(dist="deterministic", value=0.1)
    transit: Distribution
    hours: Hours | None = None
    closures: list[Closure] = []
    send: dict[str, RailSend] = {}  # truck class -> its rule

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(_hours_from_text)

    @model_validator(mode="after")
    def _runs(self) -> Rail:
        if self.export is None and self.import_ is None:
            raise ValueError("a rail route needs 'export' or 'import' (wagons a day) or both")
        return self

    def direction(self, direction: str) -> RailDirection | None:
        """The rail service in a direction, or None."""
        return self.export if direction == "export" else self.import_


class RouteChoice(Strict):
    """Trucks of one direction choosing between gates (of Lang Son and other provinces).

    ``gates`` maps each gate of the choice to its extra travel hours from the Lang Son approach. A share
    ``informed_share`` of drivers go where the platform's announced expected wait plus the travel is the
    least; the wait is announced every ``update_every_h`` hours as (trucks waiting at the gate) / (its
    clearances an hour over the last ``window_h`` hours). The others go to the gate they planned (their
    arrival stream's gate). Every truck of the choice reaches its gate after that gate's travel time."""

    direction: Literal["export", "import"]
    gates: Annotated[dict[str, NonNegativeFloat], Field(min_length=2)]
    informed_share: Annotated[float, Field(ge=0, le=1)]
    update_every_h: PositiveFloat = 6.0
    window_h: PositiveFloat = 24.0
    classes: Annotated[list[str], Field(min_length=1)] | None = None


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


# --------------------------------------------------------------------------------------------------
# Trucks and arrivals
# --------------------------------------------------------------------------------------------------
class Perishability(Strict):
    """A perishable cargo: its shelf life (from harvest) and its age when the truck reaches the province."""

    shelf_life_h: Distribution
    age_on_arrival_h: Distribution = Deterministic(dist="deterministic", value=0.0)


class TruckClass(Strict):
    """A kind of truck: its commodity, fixed attributes, random flags and attribute distributions.

    ``flags`` are drawn per truck: ``{predeclared: 0.3}`` makes 30% of the trucks pre-declared. Flags and
    attributes are what priority rules, green lanes, bans and service rules match on.
    """

    commodity: str
    attributes: dict[Key, str | bool | int] = {}
    flags: dict[Key, Annotated[float, Field(ge=0, le=1)]] = {}
    value_usd: Distribution = Deterministic(dist="deterministic", value=0.0)
    tonnage_t: Distribution = Deterministic(dist="deterministic", value=0.0)
    perishable: Perishability | None = None
    waiting_cost_usd_per_day: NonNegativeFloat = 0.0

    @model_validator(mode="after")
    def _no_clash(self) -> TruckClass:
        both = set(self.attributes) & set(self.flags)
        if both:
            raise ValueError(f"{sorted(both)} given both as fixed attributes and as random flags")
        return self


class Arrival(Strict):
    """A Poisson stream of trucks of one class at one gate and direction.

    rate(t) = rate * month_factors[month] * weekday_factors[weekday] * hour_factors[hour], in trucks per
    ``per`` (the scenario's time unit, an hour or a day); from each date of ``schedule`` on, ``rate`` is
    replaced by the entry's rate (or multiplied by its factor).
    """

    gate: str
    direction: Literal["export", "import"]
    truck_class: str
    rate: PositiveFloat
    per: Literal["time_unit", "hour", "day"] = "time_unit"
    month_factors: Annotated[list[NonNegativeFloat], Field(min_length=12, max_length=12)] | None = None
    weekday_factors: Annotated[list[NonNegativeFloat], Field(min_length=7, max_length=7)] | None = None
    hour_factors: Annotated[list[NonNegativeFloat], Field(min_length=24, max_length=24)] | None = None
    schedule: list[RateChange] = []

    @model_validator(mode="after")
    def _some_positive(self) -> Arrival:
        _increasing_dates(self.schedule, "schedule")  # type: ignore[arg-type]
        for name in ("month_factors", "weekday_factors", "hour_factors"):
            factors = getattr(self, name)
            if factors is not None and max(factors) <= 0:
                raise ValueError(f"{name} are all zero: the stream would never produce a truck")
        return self


CALENDAR_LOOKAHEAD_DAYS = 2  # the model's calendar builds its tables two days past the horizon


STATE_PLACES = ("before_yard", "outside", "in_yard")  # where a starting truck is (sim/scenario/state.py)


class StateGroup(Strict):
    """One row of a starting state: ``count`` trucks at a gate and direction (sim/scenario/state.py).

    Unset optional fields take the documented defaults when the model places the trucks: the class from
    the scenario's mix at that gate and direction, the place outside the yard (entering it while it has
    room), the waiting time spread evenly over the state's ``spread_days``. ``where`` may also name a
    stage of the flow: the trucks are queued for it (in the yard if it comes after yard entry)."""

    # the row's line in the state file (0: not from a file), for messages; not part of the scenario's
    # identity (excluded from dumps and fingerprints: the same trucks from another file are the same state)
    line: Annotated[int, Field(ge=0, exclude=True)] = 0
    gate: str
    direction: Literal["export", "import"]
    count: Annotated[int, Field(ge=1)]
    truck_class: str | None = None
    where: str | None = None  # one of STATE_PLACES, or the stage of the flow the trucks are at
    waited_h: NonNegativeFloat | None = None
    arrived: LocalDateTime | None = None


class InitialState(Strict):
    """The trucks present when the run starts, read from a state file (``run.initial_state: FILE``)."""

    file: Annotated[str, Field(exclude=True)] = ""  # where the rows came from, for messages only
    spread_days: PositiveFloat = 1.0  # a row without waited_h or arrived: waits spread evenly over this
    groups: list[StateGroup] = []

    @property
    def trucks(self) -> int:
        """How many trucks the state places."""
        return sum(g.count for g in self.groups)


class Run(Strict):
    """How a scenario is run: time unit, calendar start, horizon, warm-up, seed, replications, how often
    the queues are sampled, the engine's clock and the trucks present at the start."""

    time_unit: Literal["minutes", "hours", "days"] = "hours"
    start: LocalDateTime = datetime(2021, 1, 1)
    horizon: PositiveFloat
    warmup: NonNegativeFloat = 0.0
    seed: Annotated[int, Field(ge=0)] = 0
    replications: Annotated[int, Field(ge=1)] = 1
    monitor_interval: PositiveFloat | None = None
    # the event loop: "simpy" (the reference) or "heap" (a bare heapq loop, same tables, faster)
    kernel: Literal["simpy", "heap"] = "simpy"
    # trucks waiting at the start (a CSV file in the YAML, read and checked by sim/scenario/state.py)
    initial_state: InitialState | None = None

    @model_validator(mode="after")
    def _warmup(self) -> Run:
        if self.warmup >= self.horizon:
            raise ValueError(f"warmup ({self.warmup}) must be shorter than horizon ({self.horizon})")
        try:
            self.end + timedelta(days=CALENDAR_LOOKAHEAD_DAYS)
        except OverflowError:
            raise ValueError(
                f"start {self.start.isoformat()} plus the horizon ({self.horizon:g} {self.time_unit}) ends "
                "after the last date the calendar holds (the year 9999): shorten the horizon or start earlier"
            ) from None
        return self

    @property
    def end(self) -> datetime:
        """The local time at the horizon: the run's true end (the calendar reads two days past it; the
        validation above makes sure both exist)."""
        return self.start + timedelta(hours=self.horizon * self.unit_hours)

    @property
    def unit_hours(self) -> float:
        """Hours in one unit of simulated time."""
        return TIME_UNIT_HOURS[self.time_unit]


class Demand(Strict):
    """Arrivals derived from trade value instead of typed truck rates (see sim/scenario/demand.py).

    The value of a year, times ``scale`` (the calibration's free parameter), is split by direction, by
    gate within a direction and by truck class within a direction; dividing a stream's value by its
    class's mean value per truck gives trucks a year, spread over the months by ``month_profile``.
    """

    annual_value_usd: PositiveFloat
    scale: PositiveFloat = 1.0
    month_profile: Annotated[list[NonNegativeFloat], Field(min_length=12, max_length=12)] = [1.0] * 12
    weekday_factors: Annotated[list[NonNegativeFloat], Field(min_length=7, max_length=7)] | None = None
    hour_factors: Annotated[list[NonNegativeFloat], Field(min_length=24, max_length=24)] | None = None
    direction_shares: dict[Literal["export", "import"], NonNegativeFloat]
    gate_shares: dict[Literal["export", "import"], dict[str, NonNegativeFloat]]
    class_shares: dict[Literal["export", "import"], dict[str, NonNegativeFloat]]
    schedule: list[DemandChange] = []

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Demand:
        groups = [("direction_shares", self.direction_shares)]
        groups += [(f"gate_shares.{d}", v) for d, v in self.gate_shares.items()]
        groups += [(f"class_shares.{d}", v) for d, v in self.class_shares.items()]
        for name, shares in groups:
            total = sum(shares.values())
            if abs(total - 1.0) > 1e-3:
                raise ValueError(f"{name} must add up to 1 (they add up to {total:.4f})")
        if max(self.month_profile) <= 0:
            raise ValueError("month_profile is all zero")
        return self


def _ordered_bounds(v: tuple[float, float]) -> tuple[float, float]:
    low, high = v
    if not low < high:
        raise ValueError(f"bounds are [LOW, HIGH] with LOW < HIGH (got [{low:g}, {high:g}])")
    return v


Bounds = Annotated[tuple[float, float], AfterValidator(_ordered_bounds)]


class CalibrationSpec(Strict):
    """What ``bordersim calibrate`` may move, and what it fits them to (a scenario runs the same with or
    without this section).

    ``free`` maps a dotted key (as ``--set``; ``*`` for every key at a level; see sim/scenario/free.py) to
    its bounds ``[LOW, HIGH]``; ``rows`` names the ``id`` of the reported figures to fit (default: every
    figure of ``section`` with a reported number); ``section`` is the part of the reported figures' file
    the run's period matches. The keys are checked when ``calibrate`` runs, not when the scenario loads:
    a scenario that extends this one and drops what a key names (the winter drops ``demand``) still
    runs."""

    free: Annotated[dict[str, Bounds], Field(min_length=1)]
    rows: Annotated[list[str], Field(min_length=1)] | None = None
    section: str = "year_2021"


class UncertainInput(Strict):
    """One input of the scenario whose value is not known, and the range it may take (``bordersim
    uncertainty`` draws input sets over these ranges; a scenario runs the same with or without them).

    The mapping key of ``uncertain`` is a dotted key (as ``--set``; a list element is its index, ``*``
    every key or element at its level, a shell pattern such as ``huu_nghi_[!i]*`` the ones it matches);
    ``also`` names more keys set to the same draw (an anchor used by several streams is one input).
    ``low``/``high`` bound the value: a number, or a date for a date field. ``dist``: ``uniform``
    (default), ``triangular`` (``mode``) or ``normal`` (``mean``, default the middle, and ``sd``)
    truncated to the bounds. ``scale: true`` makes the bounds (and mode and mean) multiples of each value
    named, so one input can move several numbers in proportion. A whole-number field (servers, caps) gets
    whole numbers. ``source``/``why`` say where the range comes from: at least one is required, as a
    range no one can explain cannot be checked. Keys are checked when the scenario loads: each must name
    a value, and the scenario must load with every input at each end."""

    low: float | date
    high: float | date
    dist: Literal["uniform", "triangular", "normal"] = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: PositiveFloat | None = None
    scale: bool = False
    also: list[str] = []
    source: str = ""
    why: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> UncertainInput:
        dated = isinstance(self.low, date), isinstance(self.high, date)
        if dated[0] != dated[1]:
            raise ValueError("low and high must both be numbers or both be dates")
        if not self.low < self.high:  # type: ignore[operator]
            raise ValueError(f"low must be below high (got low {self.low}, high {self.high})")
        if dated[0] and (self.dist != "uniform" or self.scale):
            raise ValueError("a date range is drawn uniformly by day: leave out dist and scale")
        if self.dist == "triangular":
            if self.mode is None or not self.low <= self.mode <= self.high:  # type: ignore[operator]
                raise ValueError("a triangular range needs a mode between low and high")
        elif self.mode is not None:
            raise ValueError("mode is only for dist: triangular")
        if self.dist == "normal":
            if self.sd is None:
                raise ValueError("a normal range needs sd (it is truncated to low..high)")
            if self.mean is not None and not self.low <= self.mean <= self.high:  # type: ignore[operator]
                raise ValueError("the mean of a normal range must lie between low and high")
        elif self.mean is not None or self.sd is not None:
            raise ValueError("mean and sd are only for dist: normal")
        if not (self.source.strip() or self.why.strip()):
            raise ValueError("say where the range comes from: give source or why")
        return self


class Scenario(Strict):
    """A whole scenario: the run settings, the truck classes, the gates and the arrivals or trade demand."""

    name: Annotated[str, AfterValidator(safe_name)]
    description: str = ""
    run: Run
    truck_classes: Annotated[dict[Key, TruckClass], Field(min_length=1)]
    gates: Annotated[dict[Key, Gate], Field(min_length=1)]
    arrivals: dict[Key, Arrival] = {}
    demand: Demand | None = None
    calibration: CalibrationSpec | None = None
    uncertain: dict[str, UncertainInput] | None = None
    rail: Rail | None = None  # a rail route for some trucks' cargo (issue 22)
    route_choice: dict[Key, RouteChoice] = {}  # gates chosen on announced waits (issue 22), by name

    @model_validator(mode="after")
    def _some_arrivals(self) -> Scenario:
        if not self.arrivals and self.demand is None:
            raise ValueError("a scenario needs 'arrivals' (truck rates) or 'demand' (trade value), or both")
        return self


def reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """Cross-references the schema cannot check field by field: (field path, message) pairs."""
    problems: list[tuple[str, str]] = []
    for gname, gate in s.gates.items():
        if gate.export is None and gate.import_ is None:
            problems.append((f"gates.{gname}", "a gate needs an 'export' or an 'import' flow (or both)"))
        for direction in DIRECTIONS:
            flow = gate.flow(direction)
            if flow is None:
                continue
            base = f"gates.{gname}.{direction}"
            for sname, stage in flow.stages.items():
                if stage.resource is not None and stage.resource not in gate.resources:
                    known = ", ".join(sorted(gate.resources)) or "none defined"
                    problems.append(
                        (
                            f"{base}.stages.{sname}.resource",
                            f"names resource '{stage.resource}', which gate '{gname}' does not define "
                            f"(its resources: {known})",
                        )
                    )
            for sname, stage in flow.stages.items():
                if stage.green_lane is not None and (stage.resource is not None or stage.is_delay):
                    problems.append(
                        (f"{base}.stages.{sname}.green_lane", "a green lane needs a stage with own servers")
                    )
            ren = flow.reneging
            if ren is not None and ren.divert_to is not None:
                target = s.gates.get(ren.divert_to)
                if ren.divert_to == gname or target is None or target.flow(direction) is None:
                    problems.append(
                        (
                            f"{base}.reneging.divert_to",
                            f"'{ren.divert_to}' must be another gate with a '{direction}' flow",
                        )
                    )
            if flow.enters_yard_at is not None and flow.enters_yard_at not in flow.stages:
                problems.append(
                    (
                        f"{base}.enters_yard_at",
                        f"names stage '{flow.enters_yard_at}', which is not one of this flow's stages "
                        f"({', '.join(flow.stages)})",
                    )
                )
        names = set(gate.resources)
        for d in DIRECTIONS:
            if gate.flow(d) is not None:
                names |= set(gate.flow(d).stages)  # type: ignore[union-attr]
        targets = [(f"gates.{gname}.closures.{i}.stages", c.stages) for i, c in enumerate(gate.closures)]
        if gate.random_closures is not None:
            targets.append((f"gates.{gname}.random_closures.stages", gate.random_closures.stages))
        for path, listed in targets:
            for name in listed or []:
                if name not in names:
                    problems.append((path, f"'{name}' is not a stage or resource of gate '{gname}'"))
    if s.demand is not None:
        problems += _demand_problems(s)
    problems += _lever_problems(s)
    for aname, arr in s.arrivals.items():
        base = f"arrivals.{aname}"
        if arr.gate not in s.gates:
            problems.append((f"{base}.gate", f"names gate '{arr.gate}', not one of: {', '.join(s.gates)}"))
        elif s.gates[arr.gate].flow(arr.direction) is None:
            problems.append((f"{base}.direction", f"gate '{arr.gate}' has no '{arr.direction}' flow"))
        if arr.truck_class not in s.truck_classes:
            problems.append(
                (
                    f"{base}.truck_class",
                    f"names truck class '{arr.truck_class}', not one of: {', '.join(s.truck_classes)}",
                )
            )
    return problems


def _demand_problems(s: Scenario) -> list[tuple[str, str]]:
    d = s.demand
    assert d is not None
    problems = []
    for direction, shares in d.gate_shares.items():
        for gname, share in shares.items():
            if gname not in s.gates:
                problems.append((f"demand.gate_shares.{direction}.{gname}", f"'{gname}' is not a gate"))
            elif share > 0 and s.gates[gname].flow(direction) is None:
                problems.append(
                    (f"demand.gate_shares.{direction}.{gname}", f"gate '{gname}' has no '{direction}' flow")
                )
    for direction, shares in d.class_shares.items():
        for cname in shares:
            if cname not in s.truck_classes:
                problems.append(
                    (f"demand.class_shares.{direction}.{cname}", f"'{cname}' is not a truck class")
                )
    for direction, share in d.direction_shares.items():
        if share > 0 and (direction not in d.gate_shares or direction not in d.class_shares):
            problems.append(
                (
                    f"demand.direction_shares.{direction}",
                    "needs gate_shares and class_shares for this direction",
                )
            )
    for i, change in enumerate(d.schedule):
        if change.gate is not None and change.gate not in s.gates:
            problems.append((f"demand.schedule.{i}.gate", f"'{change.gate}' is not a gate"))
        if change.truck_class is not None and change.truck_class not in s.truck_classes:
            problems.append(
                (f"demand.schedule.{i}.truck_class", f"'{change.truck_class}' is not a truck class")
            )
    for i, (a, b) in enumerate(itertools.pairwise(d.schedule), start=1):
        if b.from_ < a.from_:
            problems.append((f"demand.schedule.{i}.from", "entries must be in date order"))
    if not problems:
        from sim.scenario.demand import derived_arrivals

        for name in sorted(set(derived_arrivals(s)) & set(s.arrivals)):
            problems.append((f"arrivals.{name}", "this stream is also derived from 'demand': rename one"))
    return problems


def _lever_problems(s: Scenario) -> list[tuple[str, str]]:
    """Names the upstream, rail and route-choice sections use must be classes and gates of the scenario."""
    problems: list[tuple[str, str]] = []
    classes = set(s.truck_classes)

    def unknown_classes(path: str, names: list[str] | None) -> None:
        for name in names or []:
            if name not in classes:
                problems.append((path, f"'{name}' is not a truck class ({', '.join(s.truck_classes)})"))

    for gname, gate in s.gates.items():
        for direction in DIRECTIONS:
            flow = gate.flow(direction)
            if flow is not None and flow.upstream is not None:
                up = flow.upstream
                unknown_classes(f"gates.{gname}.{direction}.upstream.classes", up.classes)
                for by_class in ("ageing_rate_by_class", "cost_usd_per_day_by_class"):
                    path = f"gates.{gname}.{direction}.upstream.{by_class}"
                    unknown_classes(path, list(getattr(up, by_class)))
    if s.rail is not None:
        rail = s.rail
        if rail.name in s.gates:
            problems.append(("rail.name", f"'{rail.name}' is already a road gate: name the rail route apart"))
        unknown_classes("rail.classes", rail.classes)
        for cname in rail.send:
            if cname not in rail.classes:
                problems.append((f"rail.send.{cname}", f"'{cname}' is not in rail.classes"))
            travels = {a.direction for a in s.arrivals.values() if a.truck_class == cname} or set(DIRECTIONS)
            if not any(rail.direction(d) is not None for d in travels):
                problems.append((f"rail.send.{cname}", "the rail route runs in no direction of this class"))
    for i, choice in s.route_choice.items():
        unknown_classes(f"route_choice.{i}.classes", choice.classes)
        for gname in choice.gates:
            gate = s.gates.get(gname)
            if gate is None or gate.flow(choice.direction) is None:
                problems.append(
                    (f"route_choice.{i}.gates.{gname}", f"must be a gate with a '{choice.direction}' flow")
                )
    pairs = [(c.direction, g) for c in s.route_choice.values() for g in c.gates]
    for d, g in sorted({p for p in pairs if pairs.count(p) > 1}):
        problems.append(("route_choice", f"gate '{g}' ({d}) is in more than one route choice"))
    return problems


def _distribution_fields() -> frozenset[str]:
    """Names of the fields whose value is a distribution (to read pydantic's error locations)."""
    names = set()
    pending: list[type[BaseModel]] = [Scenario]
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            found = _models_in(info.annotation)
            if any(issubclass(m, Dist) for m in found):
                names.add(info.alias or name)
            pending.extend(m for m in found if not issubclass(m, Dist))
    return frozenset(names)


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


DISTRIBUTION_FIELDS = _distribution_fields()
