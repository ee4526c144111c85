"""Dotted keys that name places in a scenario: ``demand.scale``, ``gates.*.export.reneging.hazard.per_day``,
``arrivals.huu_nghi_[!i]*.schedule.0.factor``. Free parameters (calibration) and uncertain inputs both
name values this way; this module finds the concrete paths a key names.

A part is a mapping key, a list index, ``*`` (every child) or a shell pattern (``fnmatch``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from sim.scenario.schema import Scenario

Path_ = tuple[str | int, ...]


def document(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the nested mapping a file would give (aliases such as ``import`` and ``from``)."""
    return scenario.model_dump(mode="python", by_alias=True, exclude_none=True)


def _children(node: Any) -> Iterator[tuple[str | int, Any]]:
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, list):
        yield from enumerate(node)


def _step(node: Any, part: str) -> Iterator[tuple[str | int, Any]]:
    if part == "*":
        yield from _children(node)
    elif any(c in part for c in "*?["):  # a pattern: huu_nghi_[!i]* (Huu Nghi's streams but imports)
        yield from ((k, v) for k, v in _children(node) if fnmatch.fnmatchcase(str(k), part))
    elif isinstance(node, dict) and part in node:
        yield part, node[part]
    elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
        yield int(part), node[int(part)]


def find(doc: Mapping[str, Any], key: str, error: type[ValueError] = ValueError) -> list[tuple[Path_, Any]]:
    """Every concrete path ``key`` names in ``doc``, with its value; ``error`` (a message saying why) if
    the key is empty or a part of it names nothing."""
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise error("is empty: write a dotted key such as demand.scale")
    found: list[tuple[Path_, Any]] = [((), doc)]
    for depth, part in enumerate(parts):
        found = [((*path, k), v) for path, node in found for k, v in _step(node, part)]
        if not found:
            where = ".".join(parts[: depth + 1])
            raise error(f"'{where}' is not in this scenario (spelling? a list index? see `bordersim show`)")
    return found
