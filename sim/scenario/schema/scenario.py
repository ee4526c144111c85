"""The whole scenario: the top-level model that gathers every section, and the names of the fields that
hold a distribution (read from the finished model, so that error messages can say which they are).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator

from sim.scenario.schema.arrivals import Arrival, Demand, TruckClass
from sim.scenario.schema.common import Key, Strict, safe_name
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

    @model_validator(mode="after")
    def _some_arrivals(self) -> Scenario:
        if not self.arrivals and self.demand is None:
            raise ValueError("a scenario needs 'arrivals' (truck rates) or 'demand' (trade value), or both")
        return self


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
