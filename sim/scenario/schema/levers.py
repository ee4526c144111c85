"""Levers before and around the gate (issue 22): upstream holding, rail, route choice.

Each section is optional; without it the model behaves exactly as before (tests/test_golden_tables.py).
They sit apart from the gates because they are policies a study switches on, not the border's layout.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.schema.common import Key, NonNegativeFloat, PositiveFloat, Strict
from sim.scenario.schema.distributions import Deterministic, Distribution
from sim.scenario.schema.hours import (
    Closure,
    DatedChange,
    Hours,
    HoursInput,
    hours_from_text,
    increasing_dates,
)


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

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(hours_from_text)

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
        increasing_dates(list(self.periods.values()), "periods")  # type: ignore[arg-type]
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


DONG_DANG = "dong_dang_rail"  # the rail route's default key (the Dong Dang station)
DONG_DANG_LABEL = "Đồng Đăng (rail)"  # and its name in figures and on the page


class Rail(Strict):
    """A rail route (Dong Dang station): the cargo of some trucks is loaded on wagons instead of crossing
    by road. A truck sent to rail is handled (``handling``: unloading, transshipment), waits for a wagon
    place (at most ``loads_per_day`` loaded a calendar day, in ``hours``; ``closures`` stop the loading),
    is loaded (``loading``) and crosses (``transit``); times in the scenario's time unit, like stage
    services. It shows in the records as a gate named ``name``, so every metric covers it; figures, tables
    and the page call it ``label`` (:attr:`display_name`)."""

    name: Key = DONG_DANG
    # how figures, tables and the page name the route ('Đồng Đăng (rail)'); by default the station's name
    # for the default key, else the key itself (issue 29 row 17: names as Vietnamese writes them)
    label: Annotated[str, Field(min_length=1)] | None = None
    export: RailDirection | None = None
    import_: RailDirection | None = Field(default=None, alias="import")
    classes: Annotated[list[str], Field(min_length=1)]
    handling: Distribution
    loading: Distribution = Deterministic(dist="deterministic", value=0.1)
    transit: Distribution
    hours: Hours | None = None
    closures: list[Closure] = []
    send: dict[str, RailSend] = {}  # truck class -> its rule

    _hours = field_validator("hours", mode="before", json_schema_input_type=HoursInput)(hours_from_text)

    @model_validator(mode="after")
    def _runs(self) -> Rail:
        if self.export is None and self.import_ is None:
            raise ValueError("a rail route needs 'export' or 'import' (wagons a day) or both")
        return self

    def direction(self, direction: str) -> RailDirection | None:
        """The rail service in a direction, or None."""
        return self.export if direction == "export" else self.import_

    @property
    def display_name(self) -> str:
        """The route as figures and the page name it: its ``label``, else 'Đồng Đăng (rail)' for the
        default key (the Dong Dang station), else its key."""
        if self.label is not None:
            return self.label
        return DONG_DANG_LABEL if self.name == DONG_DANG else self.name


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
