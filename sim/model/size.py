"""How big a run is, before it runs: expected trucks, truck-stages, monitor samples and random closures.

The one estimate of a run's size: the limits (``check_size``, ``check_replications``) and the memory
warning (:mod:`sim.model.memory`) read the same numbers.

A finite scenario can still be too large to run (a horizon of a million years, a monitor sample every
second, a thousand closures a day): memory grows until the machine gives up. The run's size is estimated
from the scenario alone (arrival rates times the horizon, the horizon over the monitor interval) and a run
larger than a limit is refused with the estimate in the message. The limit is a setting the user can
raise: ``--max-trucks N`` on the command line or the environment variable ``BORDERSIM_MAX_TRUCKS``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from sim.errors import UserError
from sim.model.arrivals import RateProfile, hourly_rates, rate_per_time_unit
from sim.model.calendar import Calendar
from sim.scenario import schema as S
from sim.scenario.state import gate_key

DEFAULT_MAX_TRUCKS = 5_000_000  # per replication; the calibrated 2021 year expects about 300,000
MAX_TRUCKS_ENV = "BORDERSIM_MAX_TRUCKS"


@dataclass(frozen=True)
class RunSize:
    """Expected counts in one replication."""

    trucks: float  # arrivals, from the rates and their month/weekday/hour factors and schedules
    samples: float  # rows of the monitor's time series (one per gate per sample)
    closures: float  # unannounced stoppages
    truck_stages: float = 0.0  # trucks times the stages of their flow (an upper bound of stage records)


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


EXACT_MEAN_HOURS = 20 * 8766  # up to twenty years the rate profile is averaged hour by hour


def _expected_arrivals(s: S.Scenario, arr: S.Arrival) -> float:
    """Trucks one stream is expected to send over the horizon.

    Up to :data:`EXACT_MEAN_HOURS` the exact mean of its rate profile over the run's hours (month,
    weekday and hour factors on the run's own dates, dated schedules applied); beyond that (a horizon
    nobody means to run, but the check must answer at once) the product of the factors' means at the
    schedule's peak rate, an upper bound."""
    run = s.run
    hours = run.horizon * run.unit_hours
    if hours <= EXACT_MEAN_HOURS:
        cal = Calendar(run.start, run.unit_hours)
        profile = RateProfile(arr, cal, run.horizon)
        if arr.schedule:  # dated rates: the integral of the same hourly rates the run draws from
            edges, rates = hourly_rates(arr, cal, run.horizon, rate_per_time_unit(arr, cal), profile)
            return float(np.sum(rates * np.diff(edges)))
        grid = np.arange(0.0, run.horizon, cal.from_hours(1.0))
        mean = 1.0 if profile.constant or not len(grid) else float(np.mean(profile(grid)))
        return rate_per_time_unit(arr, cal) * run.horizon * mean
    return (
        _per_time_unit(arr, run.unit_hours)
        * _mean(arr.month_factors)
        * _mean(arr.weekday_factors)
        * _mean(arr.hour_factors)
        * _schedule_peak(arr)
        * run.horizon
    )


def estimate(s: S.Scenario) -> RunSize:
    """The expected size of one replication of ``s``: the arrivals expected over the horizon plus the
    trucks of its starting state (``run.initial_state``), which the run places and carries like any."""

    run = s.run
    try:
        arrivals = s.all_arrivals
    except ValueError:  # a clash the loader reports with the field named
        arrivals = dict(s.arrivals)
    trucks = stages = 0.0
    for a in arrivals.values():
        expected = _expected_arrivals(s, a)
        gate = s.gates.get(a.gate)
        flow = gate.flow(a.direction) if gate is not None else None
        trucks += expected
        stages += expected * (len(flow.stages) if flow is not None else 0)
    state = run.initial_state  # the trucks already waiting are trucks of the run like any arrival
    for g in state.groups if state is not None else []:
        gate = s.gates.get(gate_key(s, g.gate) or g.gate)
        flow = gate.flow(g.direction) if gate is not None else None
        trucks += g.count
        stages += g.count * (len(flow.stages) if flow is not None else 0)
    interval = run.monitor_interval or 1.0 / run.unit_hours  # the model samples hourly by default
    samples = (run.horizon / interval + 1) * len(s.gates)
    days = run.horizon * run.unit_hours / 24.0
    closures = sum(g.random_closures.rate_per_day * days for g in s.gates.values() if g.random_closures)
    return RunSize(trucks, samples, closures, stages)


# On disk, measured on the minimal Lang Son scenario and the M/M/3 example, rounded up: ~280 bytes a
# truck for all its tables, ~40 kB of Parquet headers a replication whatever its size (seven tables),
# ~7 kB of metrics a replication, ~50 kB of scenario, manifest, summary and folders a run folder
BYTES_ON_DISK_PER_TRUCK = 400
BYTES_ON_DISK_PER_SAMPLE = 60  # a gate's monitor sample in gate_series and stage_series
TABLES_BYTES_PER_REPLICATION = 60_000
METRICS_BYTES_PER_REPLICATION = 10_000
FOLDER_BYTES = 60_000


def disk_bytes(s: S.Scenario, replications: int, keep_tables: bool = True, folders: int = 1) -> float:
    """Expected bytes on disk of ``replications`` replications of ``s`` in ``folders`` run folders: every
    table (``keep_tables``) or the metrics only (a search study's points)."""
    per_rep = float(METRICS_BYTES_PER_REPLICATION)
    if keep_tables:
        size = estimate(s)
        per_rep += TABLES_BYTES_PER_REPLICATION
        per_rep += size.trucks * BYTES_ON_DISK_PER_TRUCK + size.samples * BYTES_ON_DISK_PER_SAMPLE
    return per_rep * replications + FOLDER_BYTES * folders


def size_text(nbytes: float) -> str:
    """Bytes in a short form for messages (1.2 GB, 340 kB), powers of 1000 as disks are sold."""
    value = float(nbytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 999.5:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000
    return f"{value:,.0f} PB"


def max_trucks_setting() -> int:
    """The limit from the environment (BORDERSIM_MAX_TRUCKS), else the default."""
    raw = os.environ.get(MAX_TRUCKS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_TRUCKS
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):
        value = 0
    if value < 1:
        raise UserError.single(None, MAX_TRUCKS_ENV, f"must be a positive whole number (got {raw[:40]!r})")
    return value


def check_size(s: S.Scenario, limit: int | None = None, file: str | None = None) -> RunSize:
    """Refuse a replication expected to be larger than ``limit`` trucks (or monitor samples, or random
    closures); the message gives the estimate, the field that makes it so large, and how to raise it."""
    limit = max_trucks_setting() if limit is None else limit
    size = estimate(s)
    raise_it = f"raise the limit ({limit:,}) with --max-trucks or {MAX_TRUCKS_ENV} if you mean it"
    horizon = f"{s.run.horizon:g} {s.run.time_unit}"
    state = s.run.initial_state.trucks if s.run.initial_state is not None else 0
    if state and size.trucks > limit:
        raise UserError.single(
            s.run.initial_state.file or file,  # type: ignore[union-attr]
            "count",
            f"the starting state holds {state:,} trucks and about {size.trucks - state:,.0f} more are "
            f"expected to arrive over {s.run.horizon:g} {s.run.time_unit}: {size.trucks:,.0f} trucks per "
            f"replication, too large to run; give a smaller state or horizon, or {raise_it}",
        )
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
    return size


MAX_REPLICATIONS = 100_000  # far beyond any study's need (a 95% interval narrows as 1/sqrt(R))


def check_replications(
    s: S.Scenario, replications: int, limit: int | None = None, file: str | None = None
) -> None:
    """Refuse a replication count that could not finish (see :func:`check_work`)."""
    usual = "; a 95% interval narrows as 1/sqrt(R): 10 to 100 replications are usual"
    check_work(s, replications, "--replications", f"{replications:,} replications", limit, file, usual)


def check_work(
    s: S.Scenario,
    runs: int,
    option: str,
    what: str,
    limit: int | None = None,
    file: str | None = None,
    advice: str = "",
) -> None:
    """Refuse ``runs`` replications of ``s`` (``what`` says how they are counted, e.g. "1,000 input sets
    x 2 replications") that could not finish: above :data:`MAX_REPLICATIONS`, or whose trucks over all
    runs pass 1,000 times the per-replication limit (the work, not one process's memory, is what runs
    away: ``--replications 1000000000`` of a day's run would run for years). Checked before anything is
    drawn or loaded per run; the message gives the work and the disk it would take."""
    limit = max_trucks_setting() if limit is None else limit
    total = estimate(s).trucks * runs
    disk = size_text(disk_bytes(s, runs))
    if runs > MAX_REPLICATIONS:
        raise UserError.single(
            None,
            option,
            f"{what} (about {total:,.0f} trucks and {disk} on disk in all) is more than this tool runs "
            f"({MAX_REPLICATIONS:,} replications in all){advice}",
        )
    if total > 1000 * limit:
        raise UserError.single(
            file,
            option,
            f"about {total:,.0f} trucks over {what} are expected ({disk} on disk): too much work; ask "
            f"for fewer, or raise --max-trucks ({limit:,} a replication) if you mean it",
        )
