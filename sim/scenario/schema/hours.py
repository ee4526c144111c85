"""Time in the scenario: opening hours, closures and changes from a date.

Stages, shared pools, rail and upstream periods all open, close and change on the same calendar, so
their building blocks live here, below every subject that uses them.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.schema.common import WEEKDAYS, LocalDateTime, Strict

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


def hours_from_text(v: object) -> object:
    """The ``hours`` shorthands in their full form (a ``before`` validator of every model with hours):
    "always" is no timetable, one window or a list of windows are every day's windows."""
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


def increasing_dates(entries: list[DatedChange], what: str) -> None:
    """Raise unless dated entries are in strictly increasing date order (``what`` names the list)."""
    for a, b in itertools.pairwise(entries):
        if b.from_ <= a.from_:
            raise ValueError(f"{what} must be in increasing date order ({b.from_} after {a.from_})")
