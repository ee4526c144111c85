"""Arrival rates derived from trade value, by scenario: the derivation and its formulas are in
:mod:`sim.scenario.schema.derived`; a scenario derives them once (``Scenario.derived_arrivals``,
``Scenario.all_arrivals``, cached on the frozen scenario). These two functions read them."""

from __future__ import annotations

from sim.scenario import schema as S


def derived_arrivals(s: S.Scenario) -> dict[str, S.Arrival]:
    """The arrival streams a scenario's ``demand`` section stands for (empty without one)."""
    return s.derived_arrivals


def all_arrivals(s: S.Scenario) -> dict[str, S.Arrival]:
    """Typed arrival streams plus those derived from demand; names must not clash (a ValueError)."""
    return s.all_arrivals
