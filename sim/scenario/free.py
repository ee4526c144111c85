"""Free parameters: the scenario values a calibration may move, named by dotted keys.

A key is written like ``--set`` (``demand.scale``, ``gates.huu_nghi.export.stages.customs.service.mode``);
a list element is its index (``demand.schedule.0.factor``) and ``*`` stands for every key or index at
its level (``demand.gate_shares.*.chi_ma``: Chi Ma's share in both directions, moved together as one
parameter). A key must name real numbers (not integers such as servers or caps: least squares moves
values continuously).

Shares must still add up to 1 after a move, so a free member of a share group (``demand.gate_shares.D``,
``demand.class_shares.D``, ``demand.direction_shares``) takes its value and the group's other members are
scaled together to fill the rest: freeing Chi Ma's and Coc Nam's gate shares leaves Huu Nghi and Tan
Thanh in their file's proportion. At least one member of a group must stay fixed to absorb the change.

The values are applied to the validated scenario's own document (``model_dump`` by alias) and validated
again, so a moved scenario passes the same checks as a file.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from sim.scenario.documents import set_dotted
from sim.scenario.key_paths import Path_, document, find
from sim.scenario.schema import Scenario


class FreeKeyError(ValueError):
    """A free key that names nothing usable in the scenario (the message says why)."""


def expand(doc: Mapping[str, Any], key: str) -> list[Path_]:
    """The concrete paths a dotted key (with ``*`` wildcards) names in ``doc``; FreeKeyError if none or if
    one is not a real number."""
    found = find(doc, key, FreeKeyError)
    paths = []
    for path, value in found:
        dotted = ".".join(str(p) for p in path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FreeKeyError(
                f"'{dotted}' is not a number (got {type(value).__name__}): name a numeric value"
            )
        if isinstance(value, int):
            raise FreeKeyError(
                f"'{dotted}' is a whole number (servers, caps...): least squares moves values continuously, "
                "so only real numbers can be free"
            )
        paths.append(path)
    return paths


def _get(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _set(doc: Any, path: Path_, value: float) -> None:
    set_dotted(doc, list(path), value)


def current_value(doc: Mapping[str, Any], key: str) -> float:
    """The value a free key has in the scenario (the mean, if its paths differ)."""
    values = [float(_get(doc, p)) for p in expand(doc, key)]
    return sum(values) / len(values)


def _group_of(path: Path_) -> Path_ | None:
    """The share group a path belongs to (its members must add up to 1), or None."""
    if path[:2] in (("demand", "gate_shares"), ("demand", "class_shares")) and len(path) == 4:
        return path[:3]
    if path[:2] == ("demand", "direction_shares") and len(path) == 3:
        return path[:2]
    return None


class FreeParameters:
    """The free keys of a scenario and how to put values into it (share groups kept at a sum of 1)."""

    def __init__(self, scenario: Scenario, keys: list[str]):
        self.scenario = scenario
        self.doc = document(scenario)
        self.keys = keys
        self.paths = {key: expand(self.doc, key) for key in keys}
        owner: dict[Path_, str] = {}
        for key, paths in self.paths.items():
            for p in paths:
                if p in owner:
                    raise FreeKeyError(
                        f"'{'.'.join(map(str, p))}' is also moved by '{owner[p]}': name it once"
                    )
                owner[p] = key
        self.groups: dict[Path_, list[Path_]] = {}
        for p in owner:
            group = _group_of(p)
            if group is not None:
                self.groups.setdefault(group, []).append(p)
        for group, members in self.groups.items():
            if len(members) >= len(_get(self.doc, group)):
                raise FreeKeyError(
                    f"every share of '{'.'.join(map(str, group))}' is free: leave one fixed to take up the "
                    "rest (shares add up to 1)"
                )

    def start(self) -> list[float]:
        """The values the scenario has now, one per key."""
        return [current_value(self.doc, k) for k in self.keys]

    def applied_document(self, values: list[float]) -> dict[str, Any]:
        """The scenario document with the keys at ``values`` and each share group refilled to 1."""
        doc = copy.deepcopy(self.doc)
        for key, value in zip(self.keys, values, strict=True):
            for p in self.paths[key]:
                _set(doc, p, float(value))
        for group, members in self.groups.items():
            shares = _get(doc, group)
            free_total = sum(shares[p[-1]] for p in members)
            others = [k for k in shares if (*group, k) not in members]
            rest = sum(_get(self.doc, (*group, k)) for k in others)
            if free_total >= 1.0 or rest <= 0:
                raise FreeKeyError(
                    f"the free shares of '{'.'.join(map(str, group))}' add up to {free_total:.4f}: "
                    "they must leave room below 1 for the fixed ones"
                )
            for k in others:
                shares[k] = _get(self.doc, (*group, k)) * (1.0 - free_total) / rest
        return doc

    def apply(self, values: list[float]) -> Scenario:
        """The scenario with the free keys at ``values`` (validated like a file)."""
        if not all(math.isfinite(v) for v in values):
            raise FreeKeyError(f"values must be finite (got {values})")
        return Scenario.model_validate(self.applied_document(values))

    def written_keys(self) -> list[Path_]:
        """What a calibrated file must set for these keys to take effect over its base: each path (or the
        whole list it sits in: an ``extends`` replaces lists whole) and every member of a moved share
        group."""
        out: list[Path_] = []
        for paths in self.paths.values():
            for p in paths:
                first_list = next(
                    (i for i in range(1, len(p)) if isinstance(_get(self.doc, p[:i]), list)), None
                )
                target = p[:first_list] if first_list is not None else p
                if target not in out:
                    out.append(target)
        for group in self.groups:
            for k in _get(self.doc, group):
                if (*group, k) not in out:
                    out.append((*group, k))
        return out

    def value_at(self, doc: Mapping[str, Any], path: Path_) -> Any:
        """The value at a path of a document (for writing the calibrated file)."""
        return _get(doc, path)
