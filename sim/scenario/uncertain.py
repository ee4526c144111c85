"""Uncertain inputs: the scenario's ``uncertain:`` section, checked against the scenario and turned into
``--set`` values.

Each entry names one or more values of the scenario by dotted keys (``*`` for every key or element at a
level, or a shell pattern such as ``huu_nghi_[!i]*`` for the keys it matches) and the range the input
may take (:class:`~sim.scenario.schema.UncertainInput`). An input set is a point of the unit cube, one
coordinate an input: :meth:`Inputs.values` turns the coordinates into values
through each range's inverse distribution function (uniform, triangular, normal truncated to the bounds;
dates by whole days; whole-number fields as whole numbers), and :meth:`Inputs.settings` into the
``key=value`` assignments the loader applies with :func:`~sim.scenario.loader.apply_override`, the one
setter of dotted keys. So a drawn scenario passes exactly the checks a file and ``--set`` pass.

When the scenario loads, :func:`problems` checks every key names a value of the right kind and that the
scenario still loads with all inputs at their low ends and at their high ends (a range that would make an
impossible scenario is refused before anything runs, naming the key).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats

from sim.errors import UserError
from sim.scenario.documents import apply_override
from sim.scenario.key_paths import Path_, document, find
from sim.scenario.schema import Scenario, UncertainInput, reference_problems


class UncertainKeyError(ValueError):
    """A key of ``uncertain:`` that names nothing usable (the message says why)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def expand(doc: Mapping[str, Any], key: str, dated: bool) -> list[tuple[Path_, Any]]:
    """The concrete paths a dotted key names in ``doc`` and their values; UncertainKeyError if none, or
    if one is not a number (a date when ``dated``)."""
    found = find(doc, key, UncertainKeyError)
    for path, value in found:
        dotted = ".".join(map(str, path))
        if dated and not isinstance(value, date):
            raise UncertainKeyError(
                f"'{dotted}' is not a date (got {type(value).__name__}), but low and high are"
            )
        if not dated and not _is_number(value):
            raise UncertainKeyError(
                f"'{dotted}' is not a number (got {type(value).__name__}): name a numeric value"
            )
    return found


@dataclass(frozen=True)
class Input:
    """One uncertain input: its name (the key), its range and the values it sets."""

    name: str
    spec: UncertainInput
    targets: tuple[tuple[Path_, Any], ...]  # each concrete path and its value in the scenario

    @property
    def dated(self) -> bool:
        """Whether the input is a date."""
        return isinstance(self.spec.low, date)

    def value(self, u: float) -> float | date:
        """The input's value at probability ``u`` in [0, 1] of its range (a multiple if ``scale``)."""
        s = self.spec
        u = min(max(float(u), 0.0), 1.0)
        if self.dated:
            low, high = _day(s.low), _day(s.high)  # type: ignore[arg-type]
            days = (high - low).days
            return low + timedelta(days=min(days, math.floor(u * (days + 1))))
        low, high = float(s.low), float(s.high)  # type: ignore[arg-type]
        if s.dist == "triangular":
            c = (float(s.mode) - low) / (high - low)  # type: ignore[arg-type]
            return float(stats.triang.ppf(u, c, loc=low, scale=high - low))
        if s.dist == "normal":
            mean = (low + high) / 2 if s.mean is None else float(s.mean)
            sd = float(s.sd)  # type: ignore[arg-type]
            a, b = (low - mean) / sd, (high - mean) / sd
            return float(np.clip(stats.truncnorm.ppf(u, a, b, loc=mean, scale=sd), low, high))
        return low + u * (high - low)

    def shown(self, u: float) -> float | int | date:
        """The value as set, for tables: a whole number where every field it sets is one (and it is not
        a multiple), else the drawn value (a multiple when ``scale``)."""
        whole = all(isinstance(v, int) and not isinstance(v, bool) for _, v in self.targets)
        if whole and not self.spec.scale and not self.dated:
            return self._whole(u, 1)
        return self.value(u)

    def assignments(self, u: float) -> dict[str, Any]:
        """The ``key: value`` of every value this input sets, at probability ``u`` of its range."""
        drawn = self.value(u)
        out: dict[str, Any] = {}
        for path, current in self.targets:
            key = ".".join(map(str, path))
            if self.dated:
                out[key] = _as_field(drawn, current)  # type: ignore[arg-type]
                continue
            value = float(current) * float(drawn) if self.spec.scale else float(drawn)  # type: ignore[arg-type]
            if isinstance(current, int) and not isinstance(current, bool):
                value = self._whole(u, current)
            out[key] = value
        return out

    def _whole(self, u: float, current: int) -> int:
        """A whole-number field: uniform over the whole numbers of the range, else the draw rounded."""
        s = self.spec
        factor = current if s.scale else 1
        low, high = float(s.low) * factor, float(s.high) * factor  # type: ignore[arg-type]
        if s.dist == "uniform":
            first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
            if last < first:
                return round((low + high) / 2)
            return int(first + min(last - first, math.floor(min(max(u, 0.0), 1.0) * (last - first + 1))))
        return round(float(self.value(u)) * factor)  # type: ignore[arg-type]

    def range_text(self) -> str:
        """The range as printed beside the input."""
        s = self.spec
        x = "x" if s.scale else ""
        shape = {"uniform": "", "triangular": f", mode {x}{s.mode:g}" if s.mode is not None else ""}
        if s.dist == "normal":
            mean = (float(s.low) + float(s.high)) / 2 if s.mean is None else s.mean  # type: ignore[arg-type]
            shape["normal"] = f", normal {x}{mean:g} sd {x}{s.sd:g}"
        low = s.low if self.dated else f"{x}{s.low:g}"
        high = s.high if self.dated else f"{x}{s.high:g}"
        return f"{low} .. {high}{shape.get(s.dist, '')}"


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _as_field(drawn: date, current: date) -> str:
    """A drawn date as the field's kind of value: a date-time keeps its time of day."""
    if isinstance(current, datetime):
        return datetime.combine(drawn, current.time()).isoformat()
    return drawn.isoformat()


class Inputs:
    """The uncertain inputs of a scenario, in the order its file lists them."""

    def __init__(self, scenario: Scenario):
        doc = document(scenario)
        self.items: list[Input] = []
        owner: dict[Path_, str] = {}
        for name, spec in (scenario.uncertain or {}).items():
            targets: list[tuple[Path_, Any]] = []
            for key in (name, *spec.also):
                try:
                    targets += expand(doc, key, isinstance(spec.low, date))
                except UncertainKeyError as exc:
                    raise UncertainKeyError(
                        name, f"{'also: ' + key + ': ' if key != name else ''}{exc}"
                    ) from None
            for path, _ in targets:
                if path in owner:
                    dotted = ".".join(map(str, path))
                    raise UncertainKeyError(name, f"'{dotted}' is also set by '{owner[path]}': name it once")
                owner[path] = name
            self.items.append(Input(name, spec, tuple(targets)))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def names(self) -> list[str]:
        """The inputs' names (their keys)."""
        return [i.name for i in self.items]

    def values(self, u: np.ndarray) -> list[float | int | date]:
        """Each input's value at one point ``u`` of the unit cube, as set (a multiple for ``scale``)."""
        return [i.shown(float(x)) for i, x in zip(self.items, u, strict=True)]

    def settings(self, u: np.ndarray) -> dict[str, Any]:
        """The ``key: value`` assignments of one point of the unit cube (what ``--set`` would say)."""
        out: dict[str, Any] = {}
        for item, x in zip(self.items, u, strict=True):
            out |= item.assignments(float(x))
        return out


def override(key: str, value: Any) -> str:
    """A ``key=value`` assignment as ``--set`` reads it (YAML): numbers in full precision, dates ISO."""
    text = repr(float(value)) if isinstance(value, float) else str(value)
    return f"{key}={text}"


def _loads(doc: dict[str, Any], assignments: dict[str, Any]) -> tuple[str, str] | None:
    """None if the scenario document loads with these assignments, else (where, what) of the first
    problem."""
    from pydantic import ValidationError


    data = copy.deepcopy(doc)
    data.pop("uncertain", None)
    try:
        for key, value in assignments.items():
            apply_override(data, override(key, value))
        refs = reference_problems(Scenario.model_validate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        refs = [(".".join(map(str, first["loc"])), first["msg"])]
    except UserError as exc:
        refs = [(exc.problems[0].path, exc.problems[0].message)]
    return refs[0] if refs else None


def problems(scenario: Scenario) -> list[tuple[str, str]]:
    """What is wrong with the scenario's ``uncertain:`` section, as (input name, message) pairs: a key
    naming no value, or ends at which the scenario does not load.

    Every input at its low end together, then at its high end together: two loads, however many inputs
    (a scenario with this section loads often). Only when one fails is each input tried alone, to name
    the one at fault; if none fails alone, the combination is reported under the first input."""
    if not scenario.uncertain:
        return []
    try:
        inputs = Inputs(scenario)
    except UncertainKeyError as exc:
        return [(str(exc.args[0]), str(exc.args[1]))]
    doc = document(scenario)
    for end, u in (("low", 0.0), ("high", 1.0)):
        together = {k: v for item in inputs.items for k, v in item.assignments(u).items()}
        failed = _loads(doc, together)
        if failed is None:
            continue
        found = []
        for item in inputs.items:
            alone = item.assignments(u)
            problem = _loads(doc, alone)
            if problem is not None:
                at = ", ".join(f"{k}={v}" for k, v in list(alone.items())[:2])
                message = f"at its {end} end ({at}) the scenario does not load: {problem[0]}: {problem[1]}"
                found.append((item.name, message))
        if not found:
            message = (
                f"with every uncertain input at its {end} end together the scenario does not load: "
                f"{failed[0]}: {failed[1]}"
            )
            found.append((inputs.items[0].name, message))
        return found
    return []
