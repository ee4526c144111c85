"""The levers of a what-if: the scenario values that policy files change, found by walking the schema.

A lever is one value of the base scenario that a policy may override: a pool's servers, opening hours or
daily cap, a stage's priority rule, a gate's closures, a truck class's share of pre-declared trucks. Which
fields are levers is said once, per schema model (:data:`LEVER_FIELDS`); what control edits a lever
follows from the field's type in the schema (:func:`kind_of`), and its base value and source comment
come from the resolved base scenario and the comments of its files (:mod:`sim.scenario.sources`).

Edits are kept as {lever key: value}; only values that differ from the base become part of the policy
(:func:`policy_data`), so everything else stays inherited through ``extends``. Nothing here knows about
the web page: the page renders levers, this module turns values into policy data and back.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.scenario import LoadedScenario
from sim.scenario.schema import DIRECTIONS, Gate, PriorityRule, SharedResource, Stage, TruckClass
from sim.scenario.sources import file_sources, source_of

Key = tuple[str, ...]

# The fields a policy changes, per schema model: the levers. ``flags.predeclared`` is a key of a dict.
LEVER_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    SharedResource: ("servers", "hours", "daily_cap"),
    Stage: ("servers", "hours", "daily_cap", "priority"),
    Gate: ("closures",),
    TruckClass: ("flags.predeclared",),
}
NOT_SET = "not set in the scenario files: the schema's default"
PERISHABLE_FIRST = [{"when": {"perishable": True}}]

# Kinds of control, from the field's type in the schema.
COUNT = "count"  # a whole number (servers)
OPTIONAL_COUNT = "optional_count"  # a whole number or nothing (a daily cap)
HOURS = "hours"  # opening hours: time windows
SHARE = "share"  # a probability (a flag's share of trucks)
PRIORITY = "priority"  # priority rules (who is served first)
CLOSURES = "closures"  # a list of dated closures


def _options(annotation: object) -> tuple[object, ...]:
    """The members of a union annotation (``X | None``), or the annotation alone."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return (annotation,)


def _bare(annotation: object) -> object:
    """``Annotated[int, Field(ge=1)]`` -> ``int``."""
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation


def kind_of(model: type[BaseModel], name: str) -> str:
    """The control a lever field needs, read from its annotation in the schema."""
    field, _, key = name.partition(".")
    annotation = model.model_fields[field].annotation
    if key:  # a key of a dict field: its value type decides (flags: probabilities)
        annotation = typing.get_args(annotation)[1]
    options = [_bare(o) for o in _options(annotation)]
    if any(getattr(o, "__name__", "") == "Hours" for o in options):
        return HOURS
    if typing.get_origin(annotation) is list:
        return PRIORITY if typing.get_args(annotation)[0] is PriorityRule else CLOSURES
    if options == [float]:
        return SHARE
    # ``int | None`` is an optional count (a cap); a stage's ``int | 'unlimited' | None`` is a count
    # here, because only stages with their own servers are offered
    return OPTIONAL_COUNT if sorted(map(str, options)) == sorted(map(str, [int, type(None)])) else COUNT


@dataclass(frozen=True)
class Lever:
    """One editable value of the base scenario."""

    key: Key  # its path in the scenario's YAML (``import``, not ``import_``)
    group: str  # where the page shows it, e.g. "Huu Nghi: export"
    label: str  # e.g. "customs: servers"
    kind: str  # COUNT, OPTIONAL_COUNT, HOURS, SHARE, PRIORITY or CLOSURES
    base: Any  # the base value, in the form :func:`to_data` gives
    source: str  # the comment beside the value in the scenario files, with file and line
    help: str  # what the field means (from the schema's docstring)

    @property
    def dotted(self) -> str:
        """The field's dotted path, as ``--set`` takes it."""
        return ".".join(self.key)


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _hours_value(hours: Any) -> list[str] | None:
    return None if hours is None else list(hours.windows)


def _closure_value(closures: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for c in closures:
        row = c.model_dump(exclude_defaults=True)
        row["start"], row["end"] = c.start, c.end
        out.append(row)
    return out


def _value(model: BaseModel, name: str) -> Any:
    field, _, key = name.partition(".")
    value = getattr(model, field)
    if key:
        return value.get(key)
    if field == "hours":
        return _hours_value(value)
    if field == "priority":
        return [r.model_dump() for r in value]
    if field == "closures":
        return _closure_value(value)
    return value


def _walk(loaded: LoadedScenario) -> Iterator[tuple[BaseModel, Key, str, str]]:
    """Every schema object that has levers: (object, its key path, group title, label prefix)."""
    s = loaded.scenario
    for cname, truck_class in s.truck_classes.items():
        yield truck_class, ("truck_classes", cname), "Trucks", cname
    for gname, gate in s.gates.items():
        title = gate.name or gname
        yield gate, ("gates", gname), f"{title}: gate", ""
        for rname, pool in gate.resources.items():
            yield pool, ("gates", gname, "resources", rname), f"{title}: shared pools", rname
        for direction in DIRECTIONS:
            flow = gate.flow(direction)
            for sname, stage in (flow.stages if flow is not None else {}).items():
                if isinstance(stage.servers, int):  # its own pool (not a delay, not a shared pool)
                    yield stage, ("gates", gname, direction, "stages", sname), f"{title}: {direction}", sname


def _set_in(files: Sequence[Path], key: Key) -> bool:
    return any(key in file_sources(Path(f)) for f in files)


def levers(loaded: LoadedScenario) -> list[Lever]:
    """The levers of a base scenario, in the order of its file, with base values and sources."""
    out = []
    for obj, path, group, prefix in _walk(loaded):
        model = type(obj)
        for name in LEVER_FIELDS[model]:
            field, _, key = name.partition(".")
            if key and key not in getattr(obj, field):
                continue  # a flag this class does not draw
            full = (*path, *name.split("."))
            src = source_of(loaded.files, full) if _set_in(loaded.files, full) else None
            label = f"{prefix}: {name.split('.')[-1]}" if prefix else name
            out.append(
                Lever(
                    full,
                    group,
                    label.replace("_", " "),
                    kind_of(model, name),
                    _value(obj, name),
                    str(src) if src else NOT_SET,
                    _doc(model),
                )
            )
    return out


# ---------------------------------------------------------------------------------------------------------
# From edited values to policy data
# ---------------------------------------------------------------------------------------------------------
def to_data(lever: Lever, value: Any) -> Any:
    """The YAML value a policy writes for ``value`` (None: remove the key, the schema's default applies)."""
    if lever.kind == HOURS:
        return None if value is None else {"windows": list(value)}
    return value


def from_data(lever: Lever, data: Any) -> Any:
    """The lever's value for what a policy file says (the inverse of :func:`to_data`)."""
    if lever.kind == HOURS:
        if data is None or data == "always":
            return None
        if isinstance(data, str):
            return [data]
        return list(data.get("windows", []) if isinstance(data, dict) else data)
    return data


def values_from_policy(all_levers: Sequence[Lever], data: Mapping[str, Any]) -> dict[Key, Any]:
    """The lever values a policy file sets (to show a saved what-if in the form again)."""
    out: dict[Key, Any] = {}
    missing = object()
    for lever in all_levers:
        node: Any = data
        for part in lever.key:
            node = node.get(part, missing) if isinstance(node, Mapping) else missing
        if node is not missing:
            out[lever.key] = from_data(lever, node)
    return out


def comparable(value: Any) -> Any:
    """A lever value as compared: lists and mappings element by element, empty entries dropped."""
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def changed(lever: Lever, value: Any) -> bool:
    """Whether an edited value differs from the base (a float share compared to 1e-9)."""
    if lever.kind == SHARE and isinstance(value, int | float) and isinstance(lever.base, int | float):
        return abs(float(value) - float(lever.base)) > 1e-9
    return comparable(value) != comparable(lever.base)


def policy_data(all_levers: Sequence[Lever], values: Mapping[Key, Any]) -> dict[str, Any]:
    """The nested overrides of the values that differ from the base (what a policy file says)."""
    out: dict[str, Any] = {}
    for lever in all_levers:
        if lever.key not in values or not changed(lever, values[lever.key]):
            continue
        node = out
        for part in lever.key[:-1]:
            node = node.setdefault(part, {})
        node[lever.key[-1]] = to_data(lever, values[lever.key])
    return out


def edits(all_levers: Sequence[Lever], values: Mapping[Key, Any]) -> list[tuple[Lever, Any]]:
    """The changed levers and their new values, in lever order."""
    return [(lv, values[lv.key]) for lv in all_levers if lv.key in values and changed(lv, values[lv.key])]


def lever_for(all_levers: Sequence[Lever], dotted: str) -> Lever | None:
    """The lever a problem's field path belongs to (the lever itself or something inside it)."""
    best = None
    for lever in all_levers:
        inside = dotted == lever.dotted or dotted.startswith(lever.dotted + ".")
        if inside and (best is None or len(lever.key) > len(best.key)):
            best = lever
    return best


def relative_extends(policy_file: Path, base_file: Path) -> str:
    """The ``extends`` path of a policy written at ``policy_file``: relative to its folder."""
    import os

    return Path(os.path.relpath(Path(base_file).resolve(), Path(policy_file).resolve().parent)).as_posix()
