"""A starting state: the trucks already waiting when a run starts, read from a CSV file and checked.

A planner's state file has one row per group of trucks::

    gate,direction,count,class,where,waited_h,arrived
    huu_nghi,export,120,fruit_export,outside,36,
    huu_nghi,import,40,,in_yard,,2021-12-19T08:00
    tan_thanh,export,300,,,,

Required columns: ``gate`` (its key or its name), ``direction`` (export or import) and ``count`` (a whole
number at least 1). Optional columns, each with its default when the column is missing or the cell empty:

- ``class``: a truck class of the scenario; default: drawn for each truck from the scenario's mix of
  arrival streams at that gate and direction (their rates at the state's time);
- ``where``: ``before_yard`` (in the stages before the yard: they are done again from the first),
  ``outside`` (the highway queue for a yard place), ``in_yard`` (at the first stage after yard entry), or
  the name of a stage of the flow (queued for that stage: in the yard if it comes after yard entry, so
  a saved run's state keeps every truck where it was); default: outside, entering the yard in order of
  arrival while it has room (so a gate's yard fills up first, as it did in reality);
- ``waited_h`` (hours waited at the state's time) or ``arrived`` (the local date and time of arrival, at
  or before the state's time), not both; default: spread evenly over the state's ``spread_days`` (1 day)
  before it.

Cargo age, shelf life and patience count from that arrival (sim/model/initial_state.py). Every mistake
is a :class:`~sim.errors.UserError` naming the file, the line and the column, before anything runs: the
file's syntax when the scenario is loaded (:func:`read_state_file`), the names and dates against the
validated scenario (:func:`state_problems`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import Problem, UserError
from sim.scenario.documents import read_yaml_mapping
from sim.scenario.gate_names import gate_key as find_gate
from sim.scenario.schema import DIRECTIONS, STATE_PLACES, Scenario, StateGroup
from sim.scenario.user_files import NamedRows, read_user_text

REQUIRED = ("gate", "direction", "count")
OPTIONAL = ("class", "where", "waited_h", "arrived")
COLUMNS = REQUIRED + OPTIONAL
MAX_BYTES = 20_000_000  # a row per truck of a whole province's backlog is well under a megabyte
MAX_PROBLEMS = 10
MAX_ROWS = 100_000  # a saved run's state has a row per gate, direction, class, place and arrival: thousands
MAX_WAIT_H = 366 * 24.0  # a truck "waiting" longer than a year is a wrong date or --start, not a queue


def _read_text(path: Path) -> str:
    """The text of a state file: a regular file, at most MAX_BYTES, UTF-8 (a BOM is dropped)."""
    return read_user_text(path, what="a state file (CSV)", max_bytes=MAX_BYTES, field="run.initial_state")


def _number(text: str, integer: bool) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or (integer and value != int(value)):
        return None
    return value


def _row(cell: dict[str, str], where: str, line: int) -> tuple[dict[str, Any], list[Problem]]:
    """One row's fields and the problems of its cells (types and allowed values only)."""
    problems: list[Problem] = []
    row: dict[str, Any] = {"line": line}
    for column in ("gate", "direction", "count"):
        if not cell.get(column):
            problems.append(Problem(where, column, "empty: this column is required", line))
    row["gate"] = cell.get("gate", "")
    direction = cell.get("direction", "").lower()
    if direction and direction not in DIRECTIONS:
        problems.append(Problem(where, "direction", f"{direction!r} is not export or import", line))
    row["direction"] = direction
    if cell.get("count"):
        count = _number(cell["count"], integer=True)
        if count is None or count < 1:
            problems.append(
                Problem(where, "count", f"{cell['count']!r} is not a whole number of trucks at least 1", line)
            )
        else:
            row["count"] = int(count)
    if cell.get("class"):
        row["truck_class"] = cell["class"]
    place = cell.get("where", "")
    if place:
        row["where"] = place.lower() if place.lower() in STATE_PLACES else place  # or a stage: checked later
    if cell.get("waited_h") and cell.get("arrived"):
        problems.append(Problem(where, "waited_h", "give waited_h or arrived, not both", line))
    if cell.get("waited_h"):
        waited = _number(cell["waited_h"], integer=False)
        if waited is None or waited < 0:
            problems.append(
                Problem(where, "waited_h", f"{cell['waited_h']!r} is not a number of hours at least 0", line)
            )
        else:
            row["waited_h"] = waited
    if cell.get("arrived"):
        try:
            arrived = datetime.fromisoformat(cell["arrived"])
        except ValueError:
            arrived = None
        if arrived is None or arrived.tzinfo is not None:
            problems.append(
                Problem(
                    where,
                    "arrived",
                    f"{cell['arrived'][:40]!r} is not a local date and time like 2021-12-20T08:30",
                    line,
                )
            )
        else:
            row["arrived"] = arrived
    return row, problems


def read_state_file(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a state file as group fields (``line`` included), every syntax problem (a missing or
    unknown column, a count that is not a whole number, a bad date) a UserError with file, line and
    column. The names (gate, class) and dates are checked against the scenario by :func:`state_problems`."""
    path = Path(path)
    where = str(path)
    reader = NamedRows(where, REQUIRED, COLUMNS)
    problems = reader.problems
    rows: list[dict[str, Any]] = []
    text = _read_text(path)
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines - 1 > MAX_ROWS:  # refused before parsing: a million rows take minutes to read and check
        raise UserError.single(
            where,
            "",
            f"{lines - 1:,} rows: more than {MAX_ROWS:,}; give one row per group of trucks (the count "
            "column says how many), as bordersim backlog --state-at writes it",
        )
    for line, cell in reader.rows(text, MAX_PROBLEMS):
        row, found = _row(cell, where, line)
        problems += found
        rows.append(row)
    header = reader.header
    if header is None and not problems:
        problems.append(Problem(where, "", f"empty file: expected a header line '{','.join(COLUMNS)}'"))
    if problems:
        raise UserError(_cut(problems))
    return rows


def _cut(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem(problems[0].file, "", f"and {more} more problem(s)")]


def gate_key(s: Scenario, text: str) -> str | None:
    """A gate as a file writes it (its key, or its name, any case, with or without diacritics), or None."""
    return find_gate(s.gates, text)


def state_problems(s: Scenario) -> list[Problem]:
    """What is wrong with the scenario's starting state against the scenario itself: an unknown gate or
    class, a direction the gate does not have, an arrival after the state's time, more trucks in a yard
    than it holds. Each names the state file, the row's line and its column."""
    state = s.run.initial_state
    if state is None:
        return []
    where = state.file or "run.initial_state"
    streams = {(a.gate, a.direction) for a in s.all_arrivals.values()}
    in_yard: dict[tuple[str, str], int] = {}  # (gate, direction with its own yard, or "" for the shared)
    problems: list[Problem] = []
    for g in state.groups:
        key = gate_key(s, g.gate)
        if key is None:
            choices = ", ".join(s.gates)
            problems.append(
                Problem(where, "gate", f"{g.gate!r} is not a gate of the scenario ({choices})", g.line)
            )
            continue
        if s.gates[key].flow(g.direction) is None:
            problems.append(Problem(where, "direction", f"gate {key!r} has no {g.direction} flow", g.line))
            continue
        if g.truck_class is not None and g.truck_class not in s.truck_classes:
            choices = ", ".join(s.truck_classes)
            problems.append(
                Problem(
                    where,
                    "class",
                    f"{g.truck_class!r} is not a truck class of the scenario ({choices})",
                    g.line,
                )
            )
        if g.truck_class is None and (key, g.direction) not in streams:
            problems.append(
                Problem(
                    where,
                    "class",
                    f"empty, and no truck arrives at {key} {g.direction} to take the mix from: "
                    "name the class",
                    g.line,
                )
            )
        if g.waited_h is not None and g.waited_h > MAX_WAIT_H:
            problems.append(
                Problem(where, "waited_h", f"{g.waited_h:g} hours: {_too_long(g.waited_h)}", g.line)
            )
        gap_h = (s.run.start - g.arrived) / timedelta(hours=1) if g.arrived is not None else 0.0
        if gap_h > MAX_WAIT_H:
            problems.append(
                Problem(
                    where,
                    "arrived",
                    f"{g.arrived.isoformat()} is {_gap(gap_h)} before the state's time "  # type: ignore[union-attr]
                    f"{s.run.start.isoformat()} (run.start, or forecast --start): {_too_long(gap_h)}",
                    g.line,
                )
            )
        if g.arrived is not None and g.arrived > s.run.start:
            problems.append(
                Problem(
                    where,
                    "arrived",
                    f"{g.arrived.isoformat()} is after the state's time {s.run.start.isoformat()}",
                    g.line,
                )
            )
        flow = s.gates[key].flow(g.direction)
        stages = list(flow.stages)  # type: ignore[union-attr]
        if g.where is not None and g.where not in STATE_PLACES and g.where not in stages:
            places = ", ".join([*STATE_PLACES, *stages])
            problems.append(
                Problem(
                    where,
                    "where",
                    f"{g.where!r} is not a place or a stage of {key} {g.direction} ({places})",
                    g.line,
                )
            )
        elif g.where == "in_yard" or (g.where in stages and stages.index(g.where) >= yard_position(flow)):  # type: ignore[arg-type]
            own = flow.yard is not None  # type: ignore[union-attr]  # a direction's own yard or the shared one
            yard = (key, g.direction if own else "")
            in_yard[yard] = in_yard.get(yard, 0) + g.count
    if state.spread_days * 24.0 > MAX_WAIT_H:
        problems.append(
            Problem(
                where, "spread_days", f"{state.spread_days:g} days: {_too_long(state.spread_days * 24.0)}"
            )
        )
    for (key, direction), count in in_yard.items():
        capacity = (s.gates[key].yard_for(direction) if direction else s.gates[key].yard).capacity
        if capacity is not None and count > capacity:
            name = f"{direction} yard of {key}" if direction else f"yard of {key}"
            problems.append(
                Problem(where, "where", f"{count} trucks in the {name}, which holds {capacity}", None)
            )
    return _cut(problems)


def _gap(hours: float) -> str:
    """A long wait in words: days, or years past two years."""
    days = hours / 24.0
    return f"{days / 365.25:,.0f} years" if days > 730 else f"{days:,.0f} days"


def _too_long(hours: float) -> str:
    """Why a wait longer than :data:`MAX_WAIT_H` is refused (a state's time and its dates disagree)."""
    return (
        f"a truck waiting {_gap(hours)} is not a queue but a wrong date; at most {MAX_WAIT_H / 24:.0f} days "
        "are accepted: check the date, or the time the state was taken (--start)"
    )


def yard_position(flow: Any) -> int:
    """The position in the flow's stages where a truck enters the yard (the first stage without one)."""
    return list(flow.stages).index(flow.enters_yard_at) if flow.enters_yard_at else 0


def resolve_state(
    data: dict[str, Any], files: tuple[Path, ...], overrides: tuple[str, ...] | list[str]
) -> None:
    """Replace a ``run.initial_state: FILE`` of a merged scenario mapping by the file's rows, in place.

    The path is relative to the scenario file that sets it (or to the working folder when an override
    sets it); a mapping (a resolved scenario saved with its rows) is left for the schema to check."""
    run = data.get("run")
    if not isinstance(run, dict) or not isinstance(run.get("initial_state"), str):
        return
    text = run["initial_state"]
    base = Path.cwd()
    if not any(o.split("=", 1)[0].strip() == "run.initial_state" for o in overrides):
        for f in files:
            own = read_yaml_mapping(f).get("run")
            if isinstance(own, dict) and "initial_state" in own:
                base = f.parent
                break
    path = Path(text) if Path(text).is_absolute() else base / text
    data["run"] = {**run, "initial_state": {"file": str(path), "groups": read_state_file(path)}}


def state_table(groups: list[StateGroup] | pd.DataFrame) -> pd.DataFrame:
    """A state as the rows of a state file (the columns of :data:`COLUMNS`, empty cells as '')."""
    if isinstance(groups, pd.DataFrame):
        return groups
    rows = [
        {
            "gate": g.gate,
            "direction": g.direction,
            "count": g.count,
            "class": g.truck_class or "",
            "where": g.where or "",
            "waited_h": "" if g.waited_h is None else g.waited_h,
            "arrived": "" if g.arrived is None else g.arrived.isoformat(timespec="minutes"),
        }
        for g in groups
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def waited_hours(group: StateGroup, start: datetime, spread_days: float) -> list[float]:
    """The hours each truck of a group has waited at ``start``: from its column, or spread evenly (the
    k-th of n at (k + 1/2) / n of the spread)."""
    if group.waited_h is not None:
        return [group.waited_h] * group.count
    if group.arrived is not None:
        return [(start - group.arrived) / timedelta(hours=1)] * group.count
    n = group.count
    return [(k + 0.5) / n * spread_days * 24.0 for k in range(n)]


def in_yard(s: Scenario, group: StateGroup) -> tuple[str, str] | None:
    """The yard a group's trucks hold places in ((gate, direction with its own yard, or "" for the
    gate's shared one)), or None when they are not in a yard."""
    key = gate_key(s, group.gate)
    flow = s.gates[key].flow(group.direction) if key is not None else None
    if flow is None:
        return None
    stages = list(flow.stages)
    inside = group.where == "in_yard" or (
        group.where in stages and stages.index(group.where) >= yard_position(flow)  # type: ignore[arg-type]
    )
    if not inside:
        return None
    return (key, group.direction if flow.yard is not None else "")  # type: ignore[return-value]


def fit_yards(s: Scenario, groups: list[StateGroup]) -> list[StateGroup]:
    """A state with at most each yard's capacity of trucks in it: the latest arrivals past it wait
    outside instead (in the highway queue for a place). A saved state given to a scenario with a smaller
    yard (a particle of ``assimilate`` whose yard size moved) would otherwise be refused."""
    memo: dict[tuple[str, str, str | None], tuple[str, str] | None] = {}
    yards = []
    for g in groups:
        kind = (g.gate, g.direction, g.where)
        if kind not in memo:
            memo[kind] = in_yard(s, g)
        yards.append(memo[kind])
    room: dict[tuple[str, str], int] = {}
    for key, direction in {y for y in yards if y is not None}:
        capacity = (s.gates[key].yard_for(direction) if direction else s.gates[key].yard).capacity
        room[(key, direction)] = capacity if capacity is not None else 10**12
    order = sorted(range(len(groups)), key=lambda i: groups[i].arrived or datetime.min)
    kept: dict[int, list[StateGroup]] = {}
    for i in order:
        g, yard = groups[i], yards[i]
        if yard is None or g.count <= room[yard]:
            if yard is not None:
                room[yard] -= g.count
            kept[i] = [g]
            continue
        inside = room[yard]
        room[yard] = 0
        out = g.model_copy(update={"count": g.count - inside, "where": "outside"})
        kept[i] = [g.model_copy(update={"count": inside}), out] if inside else [out]
    return [part for i in range(len(groups)) for part in kept[i]]
