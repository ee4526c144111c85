"""The scenario schema: what a scenario YAML may say, validated with pydantic.

Every model forbids unknown keys (a typo must not be silently ignored) and is frozen (a validated scenario
is a value: the model reads it, never changes it). Cross-references between parts of the scenario (an
arrival naming a gate, a stage naming a shared resource) are checked in :func:`reference_problems`, which
returns field paths so that errors can point at the line of the YAML file.

The schema is split by subject, each module small enough to read at once: :mod:`.common` (the base model,
names, local times), :mod:`.distributions`, :mod:`.hours` (opening hours, closures, dated changes),
:mod:`.gates` (stages, pools, yards, caps, lanes, closures), :mod:`.levers` (upstream holding, rail, route
choice), :mod:`.arrivals` (truck classes, streams, trade demand), :mod:`.run`, :mod:`.studies`
(calibration and uncertainty ranges), :mod:`.scenario` (the whole) and :mod:`.references`. Every name is
re-exported here, so ``from sim.scenario.schema import X`` stays the one way to reach it.
"""

from __future__ import annotations

from sim.scenario.schema.arrivals import Arrival, Demand, DemandChange, Perishability, RateChange, TruckClass
from sim.scenario.schema.common import (
    DIRECTIONS,
    KEY,
    NAME,
    TIME_UNIT_HOURS,
    WEEKDAYS,
    Key,
    LocalDateTime,
    NonNegativeFloat,
    PositiveFloat,
    Strict,
    key_name,
    safe_name,
)
from sim.scenario.schema.costs import SOURCE_WORDS, ExchangeRate, LostExports, PolicyCost
from sim.scenario.schema.derived import derive_arrivals
from sim.scenario.schema.distributions import (
    DISTRIBUTION_TAGS,
    DISTRIBUTIONS,
    Deterministic,
    Dist,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)
from sim.scenario.schema.gates import (
    Flow,
    Gate,
    GateClosure,
    GreenLane,
    Location,
    PatienceHazard,
    PriorityRule,
    RandomClosures,
    Reneging,
    ServiceRule,
    SharedResource,
    Stage,
    StageChange,
    Yard,
)
from sim.scenario.schema.hours import (
    Closure,
    DatedChange,
    Hours,
    HoursInput,
    hours_from_text,
    increasing_dates,
    parse_window,
)
from sim.scenario.schema.levers import (
    DONG_DANG,
    DONG_DANG_LABEL,
    Rail,
    RailDirection,
    RailSend,
    RouteChoice,
    Upstream,
    UpstreamPeriod,
)
from sim.scenario.schema.references import reference_problems
from sim.scenario.schema.run import CALENDAR_LOOKAHEAD_DAYS, STATE_PLACES, InitialState, Run, StateGroup
from sim.scenario.schema.scenario import DERIVED, DISTRIBUTION_FIELDS, Scenario
from sim.scenario.schema.studies import Bounds, CalibrationSpec, UncertainInput

__all__ = [
    "CALENDAR_LOOKAHEAD_DAYS",
    "DERIVED",
    "DIRECTIONS",
    "DISTRIBUTIONS",
    "DISTRIBUTION_FIELDS",
    "DISTRIBUTION_TAGS",
    "DONG_DANG",
    "DONG_DANG_LABEL",
    "KEY",
    "NAME",
    "SOURCE_WORDS",
    "STATE_PLACES",
    "TIME_UNIT_HOURS",
    "WEEKDAYS",
    "Arrival",
    "Bounds",
    "CalibrationSpec",
    "Closure",
    "DatedChange",
    "Demand",
    "DemandChange",
    "Deterministic",
    "Dist",
    "Distribution",
    "Empirical",
    "ExchangeRate",
    "Exponential",
    "Flow",
    "Gamma",
    "Gate",
    "GateClosure",
    "GreenLane",
    "Hours",
    "HoursInput",
    "InitialState",
    "Key",
    "LocalDateTime",
    "Location",
    "Lognormal",
    "LostExports",
    "NonNegativeFloat",
    "PatienceHazard",
    "Perishability",
    "PolicyCost",
    "PositiveFloat",
    "PriorityRule",
    "Rail",
    "RailDirection",
    "RailSend",
    "RandomClosures",
    "RateChange",
    "Reneging",
    "RouteChoice",
    "Run",
    "Scenario",
    "ServiceRule",
    "SharedResource",
    "Stage",
    "StageChange",
    "StateGroup",
    "Strict",
    "Triangular",
    "TruckClass",
    "UncertainInput",
    "Uniform",
    "Upstream",
    "UpstreamPeriod",
    "Yard",
    "derive_arrivals",
    "hours_from_text",
    "increasing_dates",
    "key_name",
    "parse_window",
    "reference_problems",
    "safe_name",
]
