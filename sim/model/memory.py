"""Will a replication fit in memory? An estimate made from the scenario before anything runs.

A replication keeps one record row per truck and per truck-stage until its tables are built, so its peak
memory grows linearly with the trucks the scenario sends (``benchmarks/year.py`` measures about 185 bytes
per truck-stage at the peak for the calibrated year, tables included). The estimate takes the expected
number of trucks from the arrival rates and their month, weekday and hour profiles over the horizon,
times the stages of each flow (an upper bound: stages that apply to some trucks only count for all), at a
round 300 bytes per truck-stage, and compares it with the memory the machine has available.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

from sim.model.size import estimate as run_size
from sim.scenario.schema import Scenario

BYTES_PER_TRUCK_STAGE = 300  # measured peak ~185 B (benchmarks/README.md), rounded up for headroom


class MemoryWarning(UserWarning):
    """A scenario would need more memory than the machine has available."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Expected size of one replication of a scenario."""

    trucks: float
    truck_stages: float

    @property
    def bytes(self) -> float:
        """Expected peak bytes of one replication."""
        return self.truck_stages * BYTES_PER_TRUCK_STAGE


def estimate(scenario: Scenario) -> MemoryEstimate:
    """Expected trucks and truck-stages of one replication: the run-size estimate (sim.model.size)."""
    size = run_size(scenario)
    return MemoryEstimate(size.trucks, size.truck_stages)


def available_bytes() -> int | None:
    """Memory the machine can give now (``MemAvailable``), or its physical memory; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_problem(scenario: Scenario, parallel: int = 1) -> str | None:
    """A message if ``parallel`` replications of the scenario at once would not fit in memory, else None."""
    need = estimate(scenario).bytes * max(parallel, 1)
    have = available_bytes()
    if have is None or need <= have:
        return None
    runs = f"{parallel} replications at once" if parallel > 1 else "one replication"
    return (
        f"scenario {scenario.name!r}: {runs} would need about {need / 2**30:.1f} GiB "
        f"({estimate(scenario).trucks:,.0f} trucks a replication), more than the "
        f"{have / 2**30:.1f} GiB available; shorten run.horizon or run fewer replications at once"
    )


def warn_if_too_big(scenario: Scenario, parallel: int = 1) -> None:
    """Issue a :class:`MemoryWarning` (before running) when :func:`memory_problem` finds one."""
    problem = memory_problem(scenario, parallel)
    if problem is not None:
        warnings.warn(problem, MemoryWarning, stacklevel=2)
