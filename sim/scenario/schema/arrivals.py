"""Trucks and how they come: truck classes, arrival streams (typed rates) and trade demand.

The two ways of making arrivals, rates per stream or trade value split into streams
(sim/scenario/demand.py), are described side by side so that their schedules change rates alike.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.schema.common import Key, NonNegativeFloat, PositiveFloat, Strict
from sim.scenario.schema.distributions import Deterministic, Distribution
from sim.scenario.schema.hours import DatedChange, increasing_dates


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
        increasing_dates(self.schedule, "schedule")  # type: ignore[arg-type]
        for name in ("month_factors", "weekday_factors", "hour_factors"):
            factors = getattr(self, name)
            if factors is not None and max(factors) <= 0:
                raise ValueError(f"{name} are all zero: the stream would never produce a truck")
        return self


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
