"""What a decision prices (issue 29): a policy's own cost and the price of an export that is lost.

The net cost to the province (:func:`sim.analysis.net_cost.net_cost_metrics`) adds waiting wherever it
happens, spoiled cargo, lost exports and the policy's own cost. Two of those are not in the records:

- ``cost:`` what the policy itself costs over the run (slots platform, rail handling subsidy, staff),
  in USD, with ``source``: where the figure comes from (``facts #..``, a URL) or ``assumption: ..``.
  A scenario without it costs nothing beyond what the model records (the base replay);
- ``lost_exports:`` the share of an export's declared value the province loses when the shipment is
  cancelled at its origin or turned back (1: the whole value, the default; a margin if the cargo is
  sold elsewhere), with its ``source``.

A figure without a source is refused: a decision resting on an unstated number is not one.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from sim.scenario.schema.common import NonNegativeFloat, Strict

SOURCE_WORDS = ("facts", "assumption", "http")


def _cited(v: str) -> str:
    if not any(word in v.lower() for word in SOURCE_WORDS):
        raise ValueError("say where the figure comes from: 'facts #..', a URL, or 'assumption: ..'")
    return v


class PolicyCost(Strict):
    """A policy's own cost over the whole run, in USD, and where the figure comes from."""

    usd: NonNegativeFloat
    source: Annotated[str, Field(min_length=1)]

    _source = field_validator("source")(_cited)


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
