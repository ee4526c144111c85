"""How a scenario is run: the clock, horizon, seed and replications, and the trucks present at the start.

Apart from the border's description because a study changes these (a shorter horizon, more
replications, a starting state) without changing the border.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.schema.common import TIME_UNIT_HOURS, LocalDateTime, NonNegativeFloat, PositiveFloat, Strict

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
