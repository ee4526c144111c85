"""Sweeps: a factorial grid of scenario overrides, each point run for R replications, in one tidy table.

A grid axis is written like a ``--set`` override with several values: ``KEY=V1,V2,V3``. The values are
read as one YAML flow sequence, so each is typed exactly as ``--set KEY=V`` would type it, and a value that
contains a comma is quoted or bracketed: ``KEY=[1,2],[3,4]`` is two values, each a list.
Every point uses the same root seed, so points are compared under common random numbers too.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from numbers import Number
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.analysis.metrics import flag_modelled, not_modelled, summarize_metrics
from sim.errors import Problem, UserError
from sim.runner.experiment import NEW, REUSE, Experiment, Failure, plan
from sim.scenario import LoadedScenario, load_scenario
from sim.store.layout import SWEEP_PARQUET, SWEEP_SUMMARY, SWEEP_TABLE, sweep_folder, sweep_point_folder
from sim.store.lock import folder_lock
from sim.store.manifest import now, sweep_manifest, write_manifest
from sim.store.outputs import StudyFolder
from sim.studies.common import (
    check_sizes,
    interrupt_hint,
    resume_hint,
    run_with_monitor,
)
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions, load_source
from sim.studies.registry import Replications, Setting, Study


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


def point_overrides(point: dict[str, Any]) -> list[str]:
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


@dataclass
class SweepResult:
    """A finished sweep: the grid, its tidy per-replication table and the summary per point."""

    folder: Path
    scenario: str
    axes: list[Axis]
    replications: list[int]
    experiments: list[Experiment]
    table: pd.DataFrame | None = None  # None when replications failed
    summary: pd.DataFrame | None = None
    failures: list[Failure] = field(default_factory=list)
    resume_hint: str = ""


def _load_points(path: Path, overrides: Sequence[str], grid: list[dict[str, Any]]) -> list[LoadedScenario]:
    loaded = []
    for k, point in enumerate(grid):
        try:
            loaded.append(load_scenario(path, [*overrides, *point_overrides(point)]))
        except UserError as exc:
            where = ", ".join(f"{key}={value}" for key, value in point.items())
            raise UserError(
                [
                    Problem(p.file, p.path, f"{p.message} (at grid point {k}: {where})", p.line)
                    for p in exc.problems
                ]
            ) from None
    return loaded


MAX_GRID_POINTS = 1_000  # a factorial grid grows fast; past this it is a mistake, not a study


def run_sweep(
    source: ScenarioSource,
    grid: Sequence[str] | Mapping[str, Sequence[Any]],
    options: StudyOptions = DEFAULTS,
    *,
    keep_tables: bool = False,
) -> SweepResult:
    """Run every point of the factorial ``grid`` (``KEY=V1,V2,...`` strings, or a mapping of each key to
    its values: ``{"run.warmup": [24, 48]}``) for R replications each."""
    if isinstance(grid, Mapping):
        grid = [f"{key}={','.join(json.dumps(v) for v in values)}" for key, values in grid.items()]
    axes = parse_grid(grid)
    base = load_source(source, options.overrides)
    options.check_replications()
    size = math.prod(len(a.values) for a in axes)
    if size > MAX_GRID_POINTS:
        raise UserError.single(
            None,
            "--grid",
            f"the grid has {size:,} points ({' x '.join(str(len(a.values)) for a in axes)}): more than "
            f"{MAX_GRID_POINTS:,}; sweep fewer values, or split the grid into several sweeps",
        )
    check_sizes([base], options.max_trucks, size * options.replications_for(base.scenario))
    backend = options.resolved_backend()
    resume, out, label = options.resume, options.out, options.label
    if resume and out is None and label is None:
        raise UserError.single(None, "--resume", "needs --label or --out naming the sweep folder to finish")
    overrides, seed, replications = [*base.overrides], options.seed, options.replications
    grid_points = points(axes)
    loaded = _load_points(base.path, overrides, grid_points)
    check_sizes(loaded, options.max_trucks, options.replications)
    # each point's own run.seed and run.replications unless given: a grid may sweep them too
    seeds = [ld.scenario.run.seed if seed is None else seed for ld in loaded]
    reps = [replications or ld.scenario.run.replications for ld in loaded]
    folder = out or sweep_folder(options.root, base.scenario.name, label)
    monitor, argv = options.monitor, options.argv
    if resume and not folder.exists():
        raise UserError.single(None, "--resume", f"nothing to resume: '{folder}' does not exist")
    if not resume and folder.exists():
        named = "--label" if label and out is None else "--out"
        raise UserError.single(
            None, named, f"'{folder}' already exists; choose another {named}, or add --resume to finish it"
        )
    experiments = [
        Experiment(
            ld,
            sweep_point_folder(folder, k),
            seeds[k],
            reps[k],
            keep_tables=keep_tables,
            about={"sweep": str(folder), "point": k, "grid": point},
        )
        for k, (ld, point) in enumerate(zip(loaded, grid_points, strict=True))
    ]
    for exp in experiments:
        plan(exp, REUSE if resume else NEW)
    started = now()

    def manifest(complete: bool) -> None:
        write_manifest(
            folder,
            sweep_manifest(
                base,
                list(overrides),
                {a.key: list(a.values) for a in axes},
                [
                    {
                        "point": k,
                        "overrides": point_overrides(p),
                        "root_seed": seeds[k],
                        "replications": reps[k],
                    }
                    for k, p in enumerate(grid_points)
                ],
                keep_tables=keep_tables,
                complete=complete,
                argv=list(argv),
                started=started,
            ),
        )

    hint = resume_hint("sweep", base, options, folder, [w for g in grid for w in ("--grid", g)])
    result = SweepResult(folder, base.scenario.name, axes, reps, experiments, resume_hint=hint)
    title = f"{base.scenario.name}: {len(grid_points)} points"
    locks = ExitStack()

    def start() -> None:  # one sweep at a time writes into this folder
        locks.enter_context(folder_lock(folder, fresh=not resume))
        manifest(False)

    with locks:
        with interrupt_hint(hint):
            result.failures = run_with_monitor(
                experiments, backend, [(title, list(range(len(experiments))))], monitor, argv, on_start=start
            )
        if result.failures:
            return result
        result.table = tidy(axes, grid_points, [e.metrics() for e in experiments])
        keys = ["point", *(a.key for a in axes), "gate", "direction", "metric"]
        summary = summarize_metrics(result.table, by=keys)
        result.summary = pd.concat(
            [
                flag_modelled(summary[summary["point"] == k], not_modelled(e.scenario))
                for k, e in enumerate(experiments)
            ],
            ignore_index=True,
        )
        outputs = StudyFolder("sweep", folder)
        outputs.write_csv(SWEEP_TABLE, result.table)
        outputs.write_parquet(SWEEP_PARQUET, result.table)
        outputs.write_csv(SWEEP_SUMMARY, result.summary)
        manifest(True)
    return result


STUDY = Study(
    name="sweep",
    help="run a factorial grid of overrides x replications into one table",
    order=30,
    function=run_sweep,
    source=Setting("source", "path", "scenario YAML file", flag="", metavar="scenario"),
    settings=(
        Setting(
            "grid",
            "texts",
            "a grid axis: a scenario key and its values, e.g. 'run.warmup=24,48' (repeatable: factorial)",
            metavar="KEY=V1,V2,...",
            positional=True,
        ),
        Setting("keep_tables", "flag", "keep every point's full tables, not only metrics", flag="--tables"),
    ),
    shared=("seed", "parallel", "overrides", "root", "format", "out", "label", "resume", "max_trucks"),
    replications=Replications(None, per="replications per point"),
)
