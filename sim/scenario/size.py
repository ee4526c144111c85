"""How big a run is, before it runs: expected trucks, monitor samples and random closures.

A finite scenario can still be too large to run (a horizon of a million years, a monitor sample every
second, a thousand closures a day): memory grows until the machine gives up. The run's size is estimated
from the scenario alone (arrival rates times the horizon, the horizon over the monitor interval) and a run
larger than a limit is refused with the estimate in the message. The limit is a setting the user can
raise: ``--max-trucks N`` on the command line or the environment variable ``BORDERSIM_MAX_TRUCKS``.

A small replication repeated a billion times is as much out of reach (the runner plans every task, and a
manifest lists every seed): :func:`check_work` refuses more than :data:`MAX_REPLICATIONS` replications per
scenario outright, and more than a total of ``BORDERSIM_MAX_TOTAL_TRUCKS`` trucks over all replications
(and grid points) of a command, with the estimate and the time it would take.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from sim.errors import UserError
from sim.scenario import schema as S

DEFAULT_MAX_TRUCKS = 5_000_000  # per replication; the calibrated 2021 year expects about 300,000
MAX_TRUCKS_ENV = "BORDERSIM_MAX_TRUCKS"
# A hard cap, not a setting: a manifest lists every replication's seed (about 100 bytes each) and is
# rewritten as the run goes; a confidence interval never needs anywhere near this many.
MAX_REPLICATIONS = 100_000
# Trucks over all replications of one command: about 11 hours of one core at the measured rate below.
DEFAULT_MAX_TOTAL_TRUCKS = 1_000_000_000
MAX_TOTAL_ENV = "BORDERSIM_MAX_TOTAL_TRUCKS"
MAX_GRID_POINTS = 10_000  # a sweep's points: each is a scenario loaded, planned and a folder written
# Trucks simulated per second on one core: 16,291 trucks in 0.64 s, base_2021 over 720 h, 1 replication
# (python -m sim run scenarios/lang_son/base_2021.yaml --set run.horizon=720 --replications 1 --jobs 1).
TRUCKS_PER_CORE_SECOND = 25_000


@dataclass(frozen=True)
class RunSize:
    """Expected counts in one replication."""

    trucks: float  # arrivals, from the rates and their mean month/weekday/hour factors
    samples: float  # rows of the monitor's time series (one per gate per sample)
    closures: float  # unannounced stoppages


def _mean(factors: list[float] | None) -> float:
    return 1.0 if factors is None else sum(factors) / len(factors)


def _per_time_unit(arr: S.Arrival, unit_hours: float) -> float:
    if arr.per == "hour":
        return arr.rate * unit_hours
    if arr.per == "day":
        return arr.rate * unit_hours / 24.0
    return arr.rate


def _schedule_peak(arr: S.Arrival) -> float:
    """The largest multiple of the base rate a dated schedule sets (1 without one): an upper bound."""
    levels = [1.0]
    for change in getattr(arr, "schedule", []):
        if change.rate is not None:
            levels.append(change.rate / arr.rate if arr.rate > 0 else 1.0)
        elif change.factor is not None:
            levels.append(change.factor)
    return max(levels)


def estimate(s: S.Scenario) -> RunSize:
    """The expected size of one replication of ``s``."""
    from sim.scenario.demand import all_arrivals

    run = s.run
    try:
        arrivals = all_arrivals(s)
    except ValueError:  # a clash the loader reports with the field named
        arrivals = dict(s.arrivals)
    trucks = sum(
        _per_time_unit(a, run.unit_hours)
        * _mean(a.month_factors)
        * _mean(a.weekday_factors)
        * _mean(a.hour_factors)
        * _schedule_peak(a)
        * run.horizon
        for a in arrivals.values()
    )
    interval = run.monitor_interval or 1.0 / run.unit_hours  # the model samples hourly by default
    samples = (run.horizon / interval + 1) * len(s.gates)
    days = run.horizon * run.unit_hours / 24.0
    closures = sum(g.random_closures.rate_per_day * days for g in s.gates.values() if g.random_closures)
    return RunSize(trucks, samples, closures)


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):
        value = 0
    if value < 1:
        raise UserError.single(None, name, f"must be a positive whole number (got {raw[:40]!r})")
    return value


def max_trucks_setting() -> int:
    """The limit from the environment (BORDERSIM_MAX_TRUCKS), else the default."""
    return _setting(MAX_TRUCKS_ENV, DEFAULT_MAX_TRUCKS)


def max_total_setting() -> int:
    """The limit on trucks over all replications from the environment (BORDERSIM_MAX_TOTAL_TRUCKS), else
    the default."""
    return _setting(MAX_TOTAL_ENV, DEFAULT_MAX_TOTAL_TRUCKS)


def _duration(seconds: float) -> str:
    """A rough duration in words: '40 minutes', '11 hours', '3,200 days'."""
    for unit, length in (("days", 86_400.0), ("hours", 3_600.0), ("minutes", 60.0)):
        if seconds >= 2 * length:
            return f"{seconds / length:,.0f} {unit}"
    return f"{seconds:,.0f} seconds"


def check_replications(
    replications: int, option: str = "--replications", file: str | None = None, estimate_text: str = ""
) -> None:
    """Refuse more than :data:`MAX_REPLICATIONS` replications of one scenario (a hard cap)."""
    if replications > MAX_REPLICATIONS:
        raise UserError.single(
            file,
            option,
            f"{replications:,} replications of one scenario{estimate_text} are more than bordersim runs "
            f"(at most {MAX_REPLICATIONS:,}) and far more than an interval needs: its width falls only as "
            "one over the square root of the replications",
        )


def check_work(
    s: S.Scenario,
    replications: int,
    *,
    points: int = 1,
    limit: int | None = None,
    file: str | None = None,
    option: str = "--replications",
) -> float:
    """Refuse a command whose replications (``replications`` of each of ``points`` grid points or
    scenarios like ``s``) would simulate more than ``limit`` trucks in all (BORDERSIM_MAX_TOTAL_TRUCKS),
    or more than :data:`MAX_REPLICATIONS` replications; returns the expected total. Call it before
    anything is planned or written: a billion replications are refused at once, with the estimate.
    ``option`` names what set the count (``--replications``, or ``run.replications`` in ``file``)."""
    where_file = None if option.startswith("--") else file
    each = estimate(s).trucks
    total = each * replications * points
    at_points = f" at each of {points:,} points" if points > 1 else ""
    cost = (
        f"about {total:,.0f} trucks in all ({replications:,} replications{at_points} of about {each:,.0f} "
        f"trucks each), about {_duration(total / TRUCKS_PER_CORE_SECOND)} of one core's time"
    )
    check_replications(replications, option, where_file, f": {cost},")
    limit = max_total_setting() if limit is None else limit
    if total > limit:
        raise UserError.single(
            where_file,
            option,
            f"{cost}: too much to run; use fewer replications, or raise the limit ({limit:,} trucks in all) "
            f"with {MAX_TOTAL_ENV} if you mean it",
        )
    return total


def check_size(s: S.Scenario, limit: int | None = None, file: str | None = None) -> RunSize:
    """Refuse a replication expected to be larger than ``limit`` trucks (or monitor samples, or random
    closures); the message gives the estimate, the field that makes it so large, and how to raise it."""
    limit = max_trucks_setting() if limit is None else limit
    size = estimate(s)
    raise_it = f"raise the limit ({limit:,}) with --max-trucks or {MAX_TRUCKS_ENV} if you mean it"
    horizon = f"{s.run.horizon:g} {s.run.time_unit}"
    if size.trucks > limit:
        raise UserError.single(
            file,
            "run.horizon",
            f"about {size.trucks:,.0f} trucks per replication are expected (the arrival rates over a "
            f"horizon of {horizon}): too large to run; shorten the horizon or lower the rates, or {raise_it}",
        )
    if size.samples > limit:
        raise UserError.single(
            file,
            "run.monitor_interval",
            f"about {size.samples:,.0f} monitor samples per replication ({horizon} sampled every "
            f"{s.run.monitor_interval or 1.0 / s.run.unit_hours:g} {s.run.time_unit}, {len(s.gates)} gates): "
            f"too many; sample less often, or {raise_it}",
        )
    if size.closures > limit:
        raise UserError.single(
            file,
            "gates.random_closures.rate_per_day",
            f"about {size.closures:,.0f} random closures per replication: too many; {raise_it}",
        )
    check_work(s, s.run.replications, file=file, option="run.replications")  # the scenario's own count
    return size


def check_grid(
    axis_sizes: Sequence[int],
    s: S.Scenario | None = None,
    replications: int | None = None,
    *,
    limit: int = MAX_GRID_POINTS,
    option: str = "--grid",
) -> int:
    """Refuse a grid of more than ``limit`` points, before any point is built or loaded (a product of
    axes grows faster than anyone expects: ten axes of ten values are ten billion points), and, given
    the base scenario ``s`` and the replications per point, a grid whose replications together would
    simulate too many trucks (:func:`check_work`). Returns the number of points."""
    points = math.prod(axis_sizes)
    if points > limit:
        product = " x ".join(f"{n:,}" for n in axis_sizes)
        raise UserError.single(
            None,
            option,
            f"the grid has {points:,} points ({product} values): more than a sweep runs (at most "
            f"{limit:,}); use fewer values, or several sweeps",
        )
    if s is not None and replications is not None:
        check_work(s, replications, points=points)
    return points
