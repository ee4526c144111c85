"""The whole scenario: the top-level model that gathers every section, and the names of the fields that
hold a distribution (read from the finished model, so that error messages can say which they are).
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from sim.scenario.schema.arrivals import Arrival, Demand, TruckClass
from sim.scenario.schema.common import Key, Strict, safe_name
from sim.scenario.schema.costs import ExchangeRate, LostExports, PolicyCost
from sim.scenario.schema.derived import derive_arrivals
from sim.scenario.schema.distributions import Dist
from sim.scenario.schema.gates import Gate
from sim.scenario.schema.levers import Rail, RouteChoice
from sim.scenario.schema.run import Run
from sim.scenario.schema.studies import CalibrationSpec, UncertainInput


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
    cost: PolicyCost | None = None  # the policy's own cost (issue 29): sim/scenario/schema/costs.py
    lost_exports: LostExports | None = None  # the price of a cancelled or turned-back export
    exchange_rate: ExchangeRate | None = None  # VND shown beside USD (issue 29 row 17), with its source

    @model_validator(mode="after")
    def _some_arrivals(self) -> Scenario:
        if not self.arrivals and self.demand is None:
            raise ValueError("a scenario needs 'arrivals' (truck rates) or 'demand' (trade value), or both")
        return self

    # ---- derived once: the scenario is frozen, so what it stands for is computed at most once ----------
    @cached_property
    def derived_arrivals(self) -> dict[str, Arrival]:
        """The arrival streams the ``demand`` section stands for (:mod:`sim.scenario.schema.derived`);
        empty without one. Shared: read, never change it."""
        return derive_arrivals(self)

    @cached_property
    def all_arrivals(self) -> dict[str, Arrival]:
        """Typed arrival streams plus those derived from demand; a ValueError when names clash (the
        loader reports that with the field named first)."""
        derived = self.derived_arrivals
        clash = set(derived) & set(self.arrivals)
        if clash:
            raise ValueError(f"arrival streams {sorted(clash)} are both typed and derived from demand")
        return {**self.arrivals, **derived}

    def __copy__(self) -> Scenario:
        """A copy without the derived values: ``model_copy(update=...)`` changes fields after copying,
        and a cached value would then describe the original (calibration scales ``demand`` this way)."""
        return _without_derived(super().__copy__())

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Scenario:
        """A deep copy without the derived values (see ``__copy__``)."""
        return _without_derived(super().__deepcopy__(memo))


DERIVED = ("derived_arrivals", "all_arrivals")


def _without_derived(scenario: Scenario) -> Scenario:
    for name in DERIVED:
        scenario.__dict__.pop(name, None)
    return scenario


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
