"""The text of one table cell: a mean with its interval, a paired difference, 'not modelled', a group's
name. Shared by the terminal, the report and the what-if page, so all three say a number the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis.metrics import metric_info
from sim.analysis.stats import COUNT_INTERVAL
from sim.groups import ALL

if TYPE_CHECKING:
    from sim.analysis.decision import MetricRef

NOT_MODELLED = "not modelled"
NO_VALUE = "n/a"
ONE_REPLICATION = "(1 replication: no interval)"


# ---- cells ------------------------------------------------------------------------------------------
def flag(value: object) -> bool | None:
    """A boolean read from a table (CSV gives 'True'/'False' text), None when absent."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def modelled(row: pd.Series) -> bool:
    """Whether the scenario models this metric (a summary may say so in a ``modelled`` column)."""
    return flag(row.get("modelled")) is not False


def ci_text(mean: float, half: float, fmt: Callable[[float], str]) -> str:
    """'mean ± half-width' in the metric's format; the bare mean without an interval; 'n/a' for no value."""
    if mean != mean:
        return NO_VALUE
    return fmt(mean) if half != half else f"{fmt(mean)} ± {fmt(half)}"


EVERY_REPLICATION = "(every replication)"


def range_text(mean: float, low: float, high: float, fmt: Callable[[float], str]) -> str:
    """'mean (low to high)': an interval that is not symmetric about the mean (a count's); the bare mean
    without one; 'mean (every replication)' when all replications agree (an interval of zero width would
    look like certainty); 'n/a' for no value."""
    if mean != mean:
        return NO_VALUE
    if low != low or high != high:
        return fmt(mean)
    if low == high:
        return f"{fmt(mean)} {EVERY_REPLICATION}"
    return f"{fmt(mean)} ({fmt(low)} to {fmt(high)})"


def interval_text(row: pd.Series, fmt: Callable[[float], str]) -> str:
    """A summary row's mean with its interval: 'mean (low to high)' for a count of trucks (the
    quasi-Poisson interval, never below 0 and longer above the mean), 'mean ± half-width' for the
    t-interval; the bare mean below two replications."""
    if row.get("n", 2) < 2:
        return ci_text(row["mean"], float("nan"), fmt)
    if row.get("interval") == COUNT_INTERVAL:
        return range_text(row["mean"], row["ci_low"], row["ci_high"], fmt)
    return ci_text(row["mean"], row["half_width"], fmt)


def value_cell(row: pd.Series) -> str:
    """A summary row as a cell: 'not modelled', 'n/a', the mean, 'mean (low to high)' for a count of
    trucks or 'mean ± half-width'."""
    if not modelled(row):
        return NOT_MODELLED
    return interval_text(row, metric_info(str(row["metric"])).format)


def diff_cell(row: pd.Series) -> str:
    """A policy's paired difference from the base: '+d ± h (+p%) *', '*' when the interval excludes 0."""
    if not modelled(row):
        return NOT_MODELLED
    diff = row.get("diff", float("nan"))
    if diff != diff:
        return NO_VALUE
    fmt = metric_info(str(row["metric"])).format
    sd, n = row.get("diff_sd", float("nan")), row.get("n_pairs", float("nan"))
    if sd == 0 and n == n and n >= 2:  # no spread: an interval of zero width would look like certainty
        text = ("+" if diff > 0 else "") + fmt(diff) + " (the same in every replication)"
    else:
        text = ("+" if diff > 0 else "") + ci_text(diff, row.get("diff_half_width", float("nan")), fmt)
    pct = row.get("diff_pct", float("nan"))
    if pct == pct:
        text += f" ({pct:+.1f}%)"
    return text + (" *" if flag(row.get("significant")) else "")


def one_line(label: str) -> str:
    """A header written on two lines for the wide table, on one line elsewhere."""
    return label.replace("\n", " ")


def metric_label(metric: str) -> str:
    """A metric's name with its unit, e.g. 'mean clearance time (h)'."""
    info = metric_info(metric)
    return f"{info.label} ({info.unit})" if info.unit else info.label


def group_label(
    gate: str, direction: str, *, readable: bool = False, names: Mapping[str, str] | None = None
) -> str:
    """A gate and direction in words: 'huu_nghi, export', 'huu_nghi, both directions', 'all gates, both
    directions'; ``readable`` writes the gate as a name, as the what-if page shows it: its scenario's
    name from ``names`` ('Hữu Nghị'), else its key title-cased ('Huu Nghi')."""
    name = (names or {}).get(gate) or gate.replace("_", " ").title()
    g = "all gates" if gate == ALL else (name if readable else gate)
    return f"{g}, {'both directions' if direction == ALL else direction}"


def ref_group(ref: MetricRef) -> str:
    """The group a metric reference reads (``p95_clearance_h@huu_nghi/export``) in words."""
    return group_label(ref.gate, ref.direction)


COUNTS_NOTE = "counts of trucks: mean (low to high) of the 95% quasi-Poisson interval, never below 0"


def interval_note(replications: int | Sequence[int], counts: bool = False) -> str:
    """What the ± means (and, with ``counts``, what the ranges of counts of trucks are), or that one
    replication gives no interval."""
    reps = sorted(set([replications] if isinstance(replications, int) else replications))
    if reps[-1] < 2:
        return ONE_REPLICATION
    count = f"{reps[0]}" if len(reps) == 1 else f"{reps[0]}-{reps[-1]}"
    return f"(mean ± 95% t-interval half-width over {count} replications" + (
        f"; {COUNTS_NOTE})" if counts else ")"
    )


def count_note(replications: int) -> str:
    """What 'mean (low to high)' means in a table of counts of trucks only, or that one replication gives
    no interval."""
    if replications < 2:
        return ONE_REPLICATION
    return (
        f"(mean (low to high) of the 95% quasi-Poisson interval over {replications} replications, never < 0)"
    )


# ---- blocks and layouts -----------------------------------------------------------------------------
