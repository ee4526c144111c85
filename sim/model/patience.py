"""Patience as a hazard: the wait a truck will accept, from a unit exponential draw (facts 2.4).

A truck gives up at a small daily rate while its cargo keeps, and at a higher one once its wait passes
the shelf life the cargo had left (a spoiled load is not worth waiting for). With the cumulative hazard
H(w) = a min(w, s) + b max(0, w - s), the wait at which it gives up is H^-1(E) for a unit exponential E:
drawing E by inversion of the flow's patience stream keeps common random numbers across policies.
"""

from __future__ import annotations

import math

from sim.scenario.schema import Exponential

HOURS_A_DAY = 24.0
UNIT_EXPONENTIAL = Exponential(dist="exponential", mean=1.0)  # the draw a hazard's patience is read from


def hazard_patience_h(e: float, per_day: float, past_shelf_life_per_day: float, shelf_h: float) -> float:
    """Hours of waiting before giving up, for a unit exponential draw ``e``, the rates a day before and
    after the wait passes ``shelf_h`` hours (``inf``: a cargo that does not perish)."""
    a = per_day / HOURS_A_DAY
    s = max(0.0, shelf_h)
    if a * s >= e:  # gives up before the shelf life is spent (also: s infinite and a > 0)
        return e / a if a > 0.0 else math.inf
    if math.isinf(s):  # a == 0 and the cargo never spoils: never gives up
        return math.inf
    return s + (e - a * s) * HOURS_A_DAY / past_shelf_life_per_day


def hazard_survival(w_h: float, per_day: float, past_shelf_life_per_day: float, shelf_h: float) -> float:
    """The probability that a truck is still waiting after ``w_h`` hours (the exact survival function)."""
    s = max(0.0, shelf_h)
    return math.exp(-(per_day * min(w_h, s) + past_shelf_life_per_day * max(0.0, w_h - s)) / HOURS_A_DAY)
