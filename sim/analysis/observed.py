"""Observations from the user: trucks waiting on given days, read from a CSV file and set beside the model.

A planner who has counted (or read in the news) how many trucks were waiting at a gate on some days
writes them as a CSV file with the columns ``date``, ``gate``, ``direction`` and ``value``; this module
checks that file against the scenario (every mistake a :class:`~sim.errors.UserError` naming the file,
the line and the column, so nothing runs on a half-understood file) and puts the model's value of each
row beside it.

**The daily value.** The simulated value of a row is the number of trucks waiting (arrived at the gate
area, not yet crossed, turned back or diverted: before the yard, outside it and in it; see
:mod:`sim.analysis.backlog`) of that gate (or all gates) and direction (or both), read from the exact
step series at a stated local time of that date, noon by default, after every change at that instant.
A snapshot rather than a mean over the day, because a count on the road is a snapshot, and noon because
the queue's daily saw-tooth (growing overnight, melting while the gates are open) is halfway there; the
hour is an option when the observations were counted at another time.

The comparison per row is the mean over replications with its 95% Student-t interval (the one of
:mod:`sim.analysis.stats`), the ratio simulated / observed and its natural log. The summary error is the
root mean square of the log ratios (0 when the model matches every row; 0.69 means a typical factor of
2 either way), over the rows where both values are above zero, and the count of observations inside the
simulated interval.

That interval is the mean's: it narrows as replications are added, while an observation is one day's
value, a single draw, so with many replications almost no observation is "inside" even of a perfect
model. Beside it, the 95% prediction interval of one day's value (mean +- t x sd x sqrt(1 + 1/n), the same
Student-t function with the spread of a new draw) says where a single day's count would fall if the model
were right; the count of observations inside it is the fairer test.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.backlog import group_steps, value_at
from sim.analysis.stats import half_width
from sim.errors import Problem, UserError
from sim.groups import ALL
from sim.scenario.gate_names import gate_key
from sim.scenario.schema import DIRECTIONS, Scenario
from sim.scenario.user_files import NamedRows, read_user_text

COLUMNS = ("date", "gate", "direction", "value")
WHATS = ("waiting", "crossed", "turned_back")  # trucks waiting at a time; crossed, turned back in a day
DAY_COUNTS = ("crossed", "turned_back")
DEFAULT_AT_HOUR = 12.0  # noon local time: the moment of the day a row's simulated value is read at
MAX_BYTES = 5_000_000  # ten years of daily counts for every gate and direction is under 1 MB
MAX_PROBLEMS = 10  # problems listed before "and N more"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?")
_ERROR = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(%?)")


def _read_text(path: Path) -> str:
    """The text of the observations file: a regular file, at most MAX_BYTES, UTF-8 (a BOM is dropped)."""
    return read_user_text(path, what="a CSV file of observations", max_bytes=MAX_BYTES)


def run_window(s: Scenario) -> tuple[datetime, datetime]:
    """The calendar start and end of the scenario's run."""
    return s.run.start, s.run.end


def reading_time(day: date, at_hour: float) -> datetime:
    """The local time at which a day's simulated value is read."""
    return datetime(day.year, day.month, day.day) + timedelta(hours=at_hour)


def hour_text(at_hour: float) -> str:
    """An hour of the day as HH:MM."""
    minutes = round(at_hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hour(text: str, option: str = "--at") -> float:
    """An hour of the day written HH:MM (or a bare hour, 17) as hours after midnight; a UserError
    naming the option otherwise."""
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", text.strip())
    hours = int(match.group(1)) if match else 24
    minutes = int(match.group(2) or 0) if match else 0
    if not match or hours > 23 or minutes > 59:
        raise UserError.single(None, option, f"{text!r} is not a time of day: write it as HH:MM, e.g. 17:00")
    return hours + minutes / 60.0


def comparable_dates(s: Scenario, at_hour: float) -> tuple[date, date] | None:
    """The first and last dates whose reading time lies inside the run (None if no date does)."""
    first, last = run_window(s)
    day = first.date()
    if reading_time(day, at_hour) < first:
        day += timedelta(days=1)
    end = last.date()
    if reading_time(end, at_hour) > last:
        end -= timedelta(days=1)
    return (day, end) if day <= end else None


def _gate_key(s: Scenario, text: str) -> str | None:
    """A gate as the file writes it (its key, or its name as users write it, any case, with or without
    diacritics), or None."""
    return text if text == ALL else gate_key(s.gates, text)


def _gate_choices(s: Scenario) -> str:
    return ", ".join([ALL, *(f"{k} ({g.name})" if g.name else k for k, g in s.gates.items())])


def read_observed(
    path: str | Path, s: Scenario, at_hour: float = DEFAULT_AT_HOUR, whats: tuple[str, ...] = ("waiting",)
) -> pd.DataFrame:
    """The observations of a CSV file, checked against the scenario: columns ``line`` (in the file),
    ``date`` (a :class:`datetime.date`), ``gate`` (its key, or ``all``), ``direction``, ``value`` and
    ``source`` (the file's optional column of the same name, else empty); then ``what`` (the optional
    column: one of ``whats``, ``waiting`` when absent), ``when`` (the local time the count is known: a
    trucks-waiting row's reading time, its own if the date cell has one, else ``at_hour``; the end of
    the day of a day count) and ``error`` (the optional column: ``20%`` a relative error, ``30`` an
    absolute one in trucks, both one standard deviation; read as the pair ``rel_error``, ``abs_error``,
    NaN where not given: :mod:`sim.analysis.likelihood` states the default).

    Every problem (a missing column, an unknown gate or direction, a date the run cannot give, a value
    that is not a number at least 0, an empty file) is reported with the file, line and column, up to
    MAX_PROBLEMS at once, as one :class:`UserError`."""
    path = Path(path)
    where = str(path)
    reader = NamedRows(where, COLUMNS)
    problems = reader.problems
    rows: list[dict[str, object]] = []
    window = comparable_dates(s, at_hour)
    start, end = run_window(s)
    for line, cell in reader.rows(_read_text(path), MAX_PROBLEMS):
        row: dict[str, object] = {"line": line, "source": cell.get("source", "")}
        problems += _check_extra(cell, row, where, line, whats)
        problems += _check_row(s, cell, row, where, line, window, (start, end), at_hour)
        rows.append(row)
    header, header_line = reader.header, reader.header_line
    if header is None and not problems:
        problems.append(
            Problem(where, "", f"empty file: expected a header line '{','.join(COLUMNS)}' and rows under it")
        )
    elif not rows and not problems:
        problems.append(Problem(where, "", "no observations: the file has a header but no rows", header_line))
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(Problem(where, "", "and more problems after these (the check stopped)"))
        raise UserError(shown)
    extra = ["what", "when", "rel_error", "abs_error"]
    return pd.DataFrame(rows, columns=["line", *COLUMNS, "source", *extra])


def _check_extra(
    cell: dict[str, str], row: dict[str, object], where: str, line: int, whats: tuple[str, ...]
) -> list[Problem]:
    """The optional ``what`` and ``error`` cells into ``row``; the problems found."""
    problems = []
    what = (cell.get("what") or "waiting").lower()
    if what not in whats:
        message = f"{cell.get('what')!r} is not one of {', '.join(whats)}"
        problems.append(Problem(where, "what", message, line))
    row["what"] = what
    row["rel_error"] = row["abs_error"] = math.nan
    text = cell.get("error", "")
    match = _ERROR.fullmatch(text)
    if text and not match:
        message = f"{text!r} is not an error: write a relative one as 20% or an absolute one in trucks as 30"
        problems.append(Problem(where, "error", message, line))
    elif match:
        size = float(match.group(1))
        row["rel_error" if match.group(2) else "abs_error"] = size / 100.0 if match.group(2) else size
    return problems


def _check_row(
    s: Scenario,
    cell: dict[str, str],
    row: dict[str, object],
    where: str,
    line: int,
    window: tuple[date, date] | None,
    run: tuple[datetime, datetime],
    at_hour: float,
) -> list[Problem]:
    """Check one row's four cells and put their values into ``row``; the problems found."""
    problems = []
    text = cell["date"]
    day: date | None = None
    clock: datetime | None = None
    try:
        if _ISO_TIME.fullmatch(text):
            clock = datetime.fromisoformat(text.replace(" ", "T"))
            day = clock.date()
        elif _ISO_DATE.fullmatch(text):
            day = date.fromisoformat(text)
        else:
            raise ValueError
    except ValueError:
        message = f"{text!r} is not a date: write it as YYYY-MM-DD (or YYYY-MM-DDTHH:MM)"
        problems.append(Problem(where, "date", message, line))
    counted_day = row.get("what") in DAY_COUNTS
    if clock is not None and counted_day:
        message = f"a count of trucks {row['what']} in a day takes a date without a time (got {text!r})"
        problems.append(Problem(where, "date", message, line))
    elif day is not None:
        row["date"] = day
        when = clock or reading_time(day, 24.0 if counted_day else at_hour)
        row["when"] = when
        inside = run[0] <= when <= run[1] and (not counted_day or run[0] <= reading_time(day, 0.0))
        if not inside and counted_day:
            problems.append(
                Problem(where, "date", f"{day:%Y-%m-%d} is not a whole day inside the run of {s.name}", line)
            )
        elif not inside:
            dates = (
                f"dates from {window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d} can be compared"
                if window
                else "no date can be compared"
            )
            problems.append(
                Problem(
                    where,
                    "date",
                    f"{day:%Y-%m-%d} is outside the run of {s.name} ({run[0]:%Y-%m-%d %H:%M} to "
                    f"{run[1]:%Y-%m-%d %H:%M}): the daily value is read at {hour_text(at_hour)}, so {dates}",
                    line,
                )
            )
    gate = _gate_key(s, cell["gate"])
    if gate is None:
        problems.append(
            Problem(
                where,
                "gate",
                f"unknown gate {cell['gate']!r}: one of {_gate_choices(s)}",
                line,
            )
        )
    row["gate"] = gate
    direction = cell["direction"].lower()
    if direction not in (*DIRECTIONS, ALL):
        problems.append(
            Problem(where, "direction", f"{cell['direction']!r} is not export, import or all", line)
        )
    elif gate not in (None, ALL) and direction != ALL and s.gates[gate].flow(direction) is None:
        problems.append(Problem(where, "direction", f"gate {gate} has no {direction} flow in {s.name}", line))
    row["direction"] = direction
    try:
        value = float(cell["value"])
    except ValueError:
        problems.append(
            Problem(
                where,
                "value",
                f"{cell['value']!r} is not a number (write trucks waiting as e.g. 1200, no separators)",
                line,
            )
        )
    else:
        if not math.isfinite(value) or value < 0:
            problems.append(
                Problem(where, "value", f"must be a number of trucks, at least 0 (got {cell['value']})", line)
            )
        row["value"] = value
    return problems


def reading_times(s: Scenario, observed: pd.DataFrame, at_hour: float = DEFAULT_AT_HOUR) -> np.ndarray:
    """The simulated time (the scenario's unit) at which each observation's value is read."""
    hours = [(reading_time(d, at_hour) - s.run.start).total_seconds() / 3600.0 for d in observed["date"]]
    return np.asarray(hours, dtype=float) / s.run.unit_hours


def simulated_values(series: pd.DataFrame, observed: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """One replication's trucks waiting for each observation: its gate and direction (``all`` summing)
    at its reading time, from that replication's exact ``backlog_series``."""
    out = np.empty(len(observed))
    keys = list(zip(observed["gate"], observed["direction"], strict=True))
    for gate, direction in dict.fromkeys(keys):
        rows = np.array([k == (gate, direction) for k in keys])
        steps = group_steps(series, str(gate), str(direction))
        out[rows] = value_at(steps, times[rows], "waiting")
    return out


def compare_observed(observed: pd.DataFrame, per_replication: np.ndarray) -> pd.DataFrame:
    """Observed beside simulated, a row per observation: the mean over replications (rows of
    ``per_replication``), its 95% t-interval, the ratio simulated / observed, its natural log, and
    whether the observed value lies inside the interval, and the 95% prediction interval of one day's
    value with whether the observation lies inside it (the intervals need two replications or more)."""
    values = np.asarray(per_replication, dtype=float)
    n = values.shape[0]
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if n >= 2 else np.full(len(mean), np.nan)
    half = half_width(sd, n)
    predict = half_width(sd * math.sqrt(n + 1), n)  # t x sd x sqrt(1 + 1/n): where one new day falls
    obs = observed["value"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(obs > 0, mean / obs, np.nan)
        log_ratio = np.where((obs > 0) & (mean > 0), np.log(mean / obs), np.nan)
    low, high = mean - half, mean + half
    return pd.DataFrame(
        {
            "date": [d.isoformat() for d in observed["date"]],
            "gate": observed["gate"].to_numpy(),
            "direction": observed["direction"].to_numpy(),
            "observed": obs,
            "simulated": mean,
            "ci95_half_width": half,
            "ci_low": low,
            "ci_high": high,
            "ratio": ratio,
            "log_ratio": log_ratio,
            "inside": (low <= obs) & (obs <= high),
            "pi95_low": mean - predict,
            "pi95_high": mean + predict,
            "inside_prediction": (mean - predict <= obs) & (obs <= mean + predict),
            "source": observed["source"].to_numpy(),
        }
    )


@dataclass(frozen=True)
class ObservedError:
    """How far the model is from the observations as a whole.

    ``rms_log_ratio``: root mean square of ln(simulated / observed) over the ``compared`` rows (both
    values above zero); ``geometric_mean_ratio``: exp of the mean log ratio (above 1: the model has more
    trucks waiting, on the whole); ``inside``: observations inside the simulated mean's 95% interval;
    ``inside_prediction``: inside the 95% prediction interval of one day's value."""

    observations: int
    compared: int
    rms_log_ratio: float
    geometric_mean_ratio: float
    inside: int
    inside_prediction: int
    replications: int

    def as_dict(self) -> dict[str, float | int]:
        """The fields as plain numbers (for a manifest or JSON)."""
        return asdict(self)


def observed_error(table: pd.DataFrame, replications: int) -> ObservedError:
    """The summary error of a comparison made by :func:`compare_observed`."""
    logs = table["log_ratio"].to_numpy(dtype=float)
    logs = logs[np.isfinite(logs)]
    rms = float(np.sqrt(np.mean(logs**2))) if len(logs) else math.nan
    geo = float(np.exp(logs.mean())) if len(logs) else math.nan
    return ObservedError(
        len(table),
        len(logs),
        rms,
        geo,
        int(table["inside"].sum()),
        int(table["inside_prediction"].sum()),
        replications,
    )
