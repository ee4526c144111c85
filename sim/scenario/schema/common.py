"""What every part of the scenario schema shares: the base model, the names a key may take, local times,
the directions and weekdays, and the number types.

Kept apart so that each subject module (hours, distributions, gates, arrivals, levers, run) builds on the
same rules: a key is checked one way everywhere, every model forbids unknown keys and is frozen.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sim.groups import DIRECTIONS as DIRECTIONS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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
