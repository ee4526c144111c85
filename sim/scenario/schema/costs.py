"""What a decision prices (issue 29): a policy's own cost and the price of an export that is lost.

The net cost to the province (:func:`sim.analysis.net_cost.net_cost_metrics`) adds waiting wherever it
happens, spoiled cargo, lost exports and the policy's own cost. Two of those are not in the records:

- ``cost:`` what the policy itself costs (slots platform, rail handling subsidy, staff), in USD, with
  ``source``: where the figure comes from (``facts #..``, a URL) or ``assumption: ..``, and the period
  it covers (``from``, ``to``: a run measuring part of it is charged that part);
  A scenario without it costs nothing beyond what the model records (the base replay);
- ``lost_exports:`` the share of an export's declared value the province loses when the shipment is
  cancelled at its origin or turned back (1: the whole value, the default; a margin if the cargo is
  sold elsewhere), with its ``source``.

A figure without a source is refused: a decision resting on an unstated number is not one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.scenario.schema.common import NonNegativeFloat, Strict

SOURCE_WORDS = ("facts", "assumption", "http")


def _cited(v: str) -> str:
    if not any(word in v.lower() for word in SOURCE_WORDS):
        raise ValueError("say where the figure comes from: 'facts #..', a URL, or 'assumption: ..'")
    return v


class PolicyCost(Strict):
    """A policy's own cost, in USD, and where the figure comes from.

    ``from`` and ``to`` (dates, both or neither) are the period the cost covers. A run that measures
    only part of that period (a what-if window of one month) is charged that part, pro rata by days, and
    nothing outside it: the season's whole cost on a month would read as that month's. Without them the
    cost is charged whole, whatever the window."""

    usd: NonNegativeFloat
    source: Annotated[str, Field(min_length=1)]
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None

    _source = field_validator("source")(_cited)

    @model_validator(mode="after")
    def _period(self) -> PolicyCost:
        if (self.from_ is None) != (self.to is None):
            raise ValueError("give both 'from' and 'to' (the period the cost covers), or neither")
        if self.from_ is not None and self.to is not None and self.to <= self.from_:
            raise ValueError(f"'to' ({self.to}) must be after 'from' ({self.from_})")
        return self

    def share(self, measured_from: datetime, measured_to: datetime) -> float:
        """The share of the cost a run measuring ``measured_from`` .. ``measured_to`` is charged: the
        days of the cost's period it covers over the period's days (1 without a period)."""
        if self.from_ is None or self.to is None:
            return 1.0
        start = datetime.combine(self.from_, datetime.min.time())
        end = datetime.combine(self.to, datetime.min.time()) + timedelta(days=1)  # 'to' is a whole day
        overlap = (min(end, measured_to) - max(start, measured_from)).total_seconds()
        return max(overlap, 0.0) / (end - start).total_seconds()


class LostExports(Strict):
    """The share of a lost export's declared value that the province loses, and where it comes from."""

    share_of_value: Annotated[float, Field(ge=0, le=1)] = 1.0
    source: Annotated[str, Field(min_length=1)]

    _source = field_validator("source")(_cited)


class ExchangeRate(Strict):
    """Dong per US dollar, so that money shows in VND beside USD (issue 29 row 17), and where the rate
    comes from. The model prices in USD; this only converts what is shown, and a scenario without it
    shows USD only (no rate is invented)."""

    vnd_per_usd: Annotated[float, Field(gt=0)]
    source: Annotated[str, Field(min_length=1)]

    _source = field_validator("source")(_cited)
