"""Arrival rates derived from trade value (docs/architecture.md; the README's Calibration section).

For direction d, gate g and truck class c (a class belongs to the direction whose ``class_shares`` name
it)::

    value_year(g, d, c) = annual_value_usd * scale * direction_share[d] * gate_share[d][g] * class_share[d][c]
    trucks_year(g, d, c) = value_year(g, d, c) / mean value per truck of class c
    rate on a day of month m = trucks_year * f[m] / sum over months m' of (f[m'] * days in m')

with f = month_profile / max(month_profile), the year being the calendar year of ``run.start``. So the
expected value of the year's arrivals equals the target exactly; what clears is less (closures,
backlogs, trucks turning back), and calibration finds the ``scale`` that makes the *cleared* value match.

``demand.schedule`` puts dated factors on the derived streams of a gate, direction or class (e.g. the
arrivals of a crisis month): each stream gets, as its own ``schedule``, the factor of the latest entry
that names it from each date on.
"""

from __future__ import annotations

import calendar
import math
from typing import TYPE_CHECKING

from sim.scenario.schema.arrivals import Arrival, DemandChange, RateChange

if TYPE_CHECKING:
    from sim.scenario.schema.scenario import Scenario


def derive_arrivals(s: Scenario) -> dict[str, Arrival]:
    """The arrival streams a scenario's ``demand`` section stands for (empty without one). Read them as
    ``Scenario.derived_arrivals``: derived once per scenario."""
    d = s.demand
    if d is None:
        return {}
    year = s.run.start.year
    peak = max(d.month_profile)
    factors = [m / peak for m in d.month_profile]
    factor_days = sum(f * calendar.monthrange(year, m + 1)[1] for m, f in enumerate(factors))
    out: dict[str, Arrival] = {}
    for direction, dshare in d.direction_shares.items():
        for gname, gshare in d.gate_shares.get(direction, {}).items():
            for cname, cshare in d.class_shares.get(direction, {}).items():
                value = d.annual_value_usd * d.scale * dshare * gshare * cshare
                per_truck = s.truck_classes[cname].value_usd.mean_value()
                if value <= 0:
                    continue
                if per_truck <= 0:
                    raise ValueError(f"truck class '{cname}' has no value per truck to divide by")
                trucks_year = value / per_truck
                out[f"{gname}_{cname}"] = Arrival(
                    gate=gname,
                    direction=direction,
                    truck_class=cname,
                    rate=trucks_year / factor_days,
                    per="day",
                    month_factors=None if all(math.isclose(f, 1.0) for f in factors) else factors,
                    weekday_factors=d.weekday_factors,
                    hour_factors=d.hour_factors,
                    schedule=_stream_schedule(d.schedule, gname, direction, cname),
                )
    return out


def _stream_schedule(
    changes: list[DemandChange], gate: str, direction: str, truck_class: str
) -> list[RateChange]:
    """The dated factors of one derived stream: per date, the last matching entry of ``demand.schedule``."""
    by_date: dict = {}
    for change in changes:
        if change.matches(gate, direction, truck_class):
            by_date[change.from_] = change.factor
    return [RateChange(**{"from": day, "factor": f}) for day, f in sorted(by_date.items())]
