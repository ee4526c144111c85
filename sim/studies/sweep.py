"""Sweeps: a factorial grid of scenario overrides, each point run for R replications, in one tidy table.

A grid axis is written like a ``--set`` override with several values: ``KEY=V1,V2,V3``. The values are
read as one YAML flow sequence, so each is typed exactly as ``--set KEY=V`` would type it, and a value that
contains a comma is quoted or bracketed: ``KEY=[1,2],[3,4]`` is two values, each a list.
Every point uses the same root seed, so points are compared under common random numbers too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Number
from typing import Any

import pandas as pd
import yaml

from sim.errors import UserError


@dataclass(frozen=True)
class Axis:
    """One ``--grid`` option: a dotted scenario key and the values it takes."""

    key: str
    values: tuple[Any, ...]


def _bad(spec: str, why: str) -> UserError:
    return UserError.single(None, "--grid", f"{why} (got '{spec}'); expected KEY=V1,V2,... e.g. run.seed=1,2")


def parse_grid(specs: Sequence[str]) -> list[Axis]:
    """Parse ``--grid`` options; any mistake is a UserError naming the option."""
    if not specs:
        raise UserError.single(None, "--grid", "a sweep needs at least one --grid KEY=V1,V2,...")
    axes: list[Axis] = []
    for spec in specs:
        key, sep, rhs = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise _bad(spec, "no KEY=")
        if any(not part or part != part.strip() or " " in part for part in key.split(".")):
            raise _bad(spec, f"'{key}' is not a dotted key")
        if not rhs.strip():
            raise _bad(spec, f"no values for '{key}'")
        try:
            values = yaml.safe_load(f"[{rhs}]")
        except yaml.YAMLError as exc:
            raise _bad(spec, f"the values are not readable ({str(exc).splitlines()[0]})") from None
        if any(v is None for v in values):
            raise _bad(spec, f"an empty value for '{key}'")
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) < len(values):
            raise _bad(spec, f"a value of '{key}' is repeated")
        if any(a.key == key for a in axes):
            raise _bad(spec, f"'{key}' is given by two --grid options")
        axes.append(Axis(key, tuple(values)))
    return axes


def points(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values (the first axis varies slowest)."""
    return [
        dict(zip([a.key for a in axes], combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def overrides(point: dict[str, Any]) -> list[str]:
    """A point as ``--set`` strings; JSON is YAML, so each value reads back as the same value."""
    return [f"{key}={json.dumps(value, default=str)}" for key, value in point.items()]


def _column(values: list[Any]) -> list[Any]:
    """A grid column that Parquet can store: numbers stay numbers, anything else becomes text."""
    if all(isinstance(v, Number) and not isinstance(v, bool) for v in values):
        return values
    return [v if isinstance(v, str) else json.dumps(v, default=str) for v in values]


def tidy(
    axes: Sequence[Axis], grid_points: Sequence[dict[str, Any]], metrics: Sequence[pd.DataFrame]
) -> pd.DataFrame:
    """One table of every point x replication x group x metric: the point's index, its grid values, then
    the per-replication metrics (replication, gate, direction, metric, value)."""
    frames = []
    for index, (point, m) in enumerate(zip(grid_points, metrics, strict=True)):
        frames.append(m.assign(point=index, **{key: [value] * len(m) for key, value in point.items()}))
    table = pd.concat(frames, ignore_index=True)
    keys = [a.key for a in axes]
    for key in keys:
        table[key] = _column(table[key].tolist())
    rest = [c for c in table.columns if c not in ("point", *keys)]
    return table[["point", *keys, *rest]]
