"""The sections only the studies read: what ``bordersim calibrate`` may move and what ``bordersim
uncertainty`` draws.

A scenario runs the same with or without them; they are kept apart so that the model's inputs read
without the studies' ranges in between.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from sim.scenario.schema.common import PositiveFloat, Strict


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
