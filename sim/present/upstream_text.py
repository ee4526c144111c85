"""Sentences about upstream holding that releases nobody (sim/scenario/upstream_check.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sim.scenario.upstream_check import NeverReleased


def never_released_lines(items: Sequence[NeverReleased], scenario: str | None = None) -> list[str]:
    """One warning per flow: where, which period and setting, and what it does to the results."""
    who = f"{scenario}: " if scenario else ""
    lines = []
    for n in items:
        share = "every truck" if n.compliance >= 1 else f"the {n.compliance:.0%} of trucks that comply"
        lines.append(
            f"{who}{n.gate} {n.direction}: upstream period '{n.period}' (from {n.start:%Y-%m-%d}) has "
            f"{n.why} and no later period starts before the end of the run, so nobody held there will ever "
            f"be released: {share} stays at its origin and never reaches the gate. They are counted as "
            "'held upstream at end' in the summary, and the flow is marked unstable"
        )
    return lines
