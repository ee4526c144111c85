"""How a metric reads in a table (its own module so that metric families in other modules, e.g.
:mod:`sim.analysis.net_cost`, declare their rows without importing :mod:`sim.analysis.metrics`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metric:
    """How a metric reads in a table: label, unit as printed, decimals, and the divisor into that unit.

    Values are stored in plain units (USD, hours, trucks); ``scale`` only changes what is printed, so that
    a cleared value reads as 223.60 (USD m) rather than 223,602,100.
    """

    name: str
    label: str
    unit: str
    decimals: int
    scale: float = 1.0

    def format(self, value: float) -> str:
        """The value as printed in tables: in the metric's unit and decimals, '-' for no value; a value
        that rounds to zero prints as 0, never '-0' (adding 0.0 turns IEEE negative zero positive)."""
        if not np.isfinite(value):
            return "-"
        return f"{round(value / self.scale, self.decimals) + 0.0:,.{self.decimals}f}"
