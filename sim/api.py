"""The Python API: runs, policy comparisons and sweeps from a notebook or a script.

::

    import sim
    base = sim.run("scenarios/lang_son_minimal.yaml", replications=4, overrides=["run.horizon=168"])
    base.summary                      # mean and 95% interval of every metric, per gate and direction
    cmp = sim.compare("scenarios/lang_son_minimal.yaml", "my_policy.yaml", replications=4)
    cmp                               # in a notebook: the province's table with paired differences
    cmp.plot("headline")              # figure files, drawn from what was saved
    cmp.tables["my_policy"].table("trucks")   # a saved table, read when asked for

The same studies, runner and results store as the command line (``bordersim run/compare/sweep``): a
comparison made here reuses the replications a command made, and the other way round. Nothing prints;
a mistake in an input raises :class:`sim.errors.UserError` naming the file and field, and failed
replications raise :class:`ReplicationsFailed` (the finished ones are kept in the folder).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.metrics import ALL
from sim.runner.backends import Backend, check_backend
from sim.runner.experiment import Failure
from sim.scenario import Scenario
from sim.store.layout import DEFAULT_ROOT
from sim.store.reader import RunData, load_run

__all__ = ["Comparison", "ReplicationsFailed", "Run", "Sweep", "compare", "run", "sweep"]


class ReplicationsFailed(RuntimeError):
    """Some replications failed in their workers; the finished ones are kept in ``folder``."""

    def __init__(self, failures: Sequence[Failure], folder: Path, hint: str) -> None:
        self.failures = list(failures)
        self.folder = folder
        lines = [f"replication {f.replication} of {f.scenario} failed: {f.error}" for f in failures]
        super().__init__("\n".join([*lines, hint]))


def _backend(jobs: int | None, dask: str | None) -> Backend:
    return check_backend(jobs, dask)


def _province(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["gate"].astype(str) == ALL) & (table["direction"].astype(str) == ALL)]


class Tables(Mapping[str, RunData]):
    """The saved replications of a study's scenarios by name, each read only when asked for
    (``tables[name].table("trucks")``: a DataFrame of every replication's trucks)."""

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self._folders = dict(folders)
        self._loaded: dict[str, RunData] = {}

    def __getitem__(self, name: str) -> RunData:
        if name not in self._loaded:
            self._loaded[name] = load_run(self._folders[name], name)
        return self._loaded[name]

    def __iter__(self):
        return iter(self._folders)

    def __len__(self) -> int:
        return len(self._folders)


def _plot(folder: Path, kind: str | Sequence[str], out: str | Path | None) -> list[Path]:
    from sim.present.plots import plot

    kinds = [kind] if isinstance(kind, str) else list(kind)
    return [f for written in plot(folder, kinds, out) for f in written.files]


@dataclass
class Run:
    """A finished run of one scenario: where it is, the scenario and the summary over replications."""

    folder: Path
    scenario: Scenario
    replications: int
    summary: pd.DataFrame  # gate, direction, metric, n, mean, sd, half_width, ci_low, ci_high

    @cached_property
    def tables(self) -> RunData:
        """The saved tables of this run (trucks, stages, gate series, ...), read when asked for."""
        return load_run(self.folder)

    def plot(self, kind: str | Sequence[str] = "headline", out: str | Path | None = None) -> list[Path]:
        """Draw figures of this run (headline, clearance, backlog, throughput, stages); the files written."""
        return _plot(self.folder, kind, out)

    def _repr_html_(self) -> str:
        from sim.present.terminal import run_layouts

        block = run_layouts(self.summary, self.scenario.name, self.replications)[0][0]
        return _html(block.title, block.headers, block.rows, block.caption)


@dataclass
class Comparison:
    """Policies against a base under common random numbers: every metric per scenario with its interval
    and each policy's paired difference from the base (``summary``, one tidy row each)."""

    folder: Path
    names: list[str]  # the base first
    replications: int
    root_seed: int
    summary: pd.DataFrame
    run_folders: dict[str, Path] = field(default_factory=dict)

    @cached_property
    def tables(self) -> Tables:
        """Each scenario's saved replications by name, read when asked for."""
        return Tables(self.run_folders)

    def province(self) -> pd.DataFrame:
        """The whole province's rows: a row per scenario and metric."""
        return _province(self.summary)

    def plot(self, kind: str | Sequence[str] = "headline", out: str | Path | None = None) -> list[Path]:
        """Draw figures comparing the scenarios; the files written."""
        return _plot(self.folder, kind, out)

    def _repr_html_(self) -> str:
        from sim.present.terminal import comparison_layouts

        block = comparison_layouts(self.summary, self.names, self.replications, self.root_seed)[0][0]
        return _html(block.title, block.headers, block.rows, block.caption)


@dataclass
class Sweep:
    """A factorial grid of overrides: the tidy per-replication table and the summary per point."""

    folder: Path
    scenario: str
    keys: list[str]
    replications: list[int]
    summary: pd.DataFrame  # point, the grid keys, gate, direction, metric, n, mean, half_width, ...
    table: pd.DataFrame  # point, the grid keys, replication, gate, direction, metric, value
    point_folders: list[Path] = field(default_factory=list)

    @cached_property
    def tables(self) -> Tables:
        """Each point's saved replications ('point-0000', ...), read when asked for."""
        return Tables({f.name: f for f in self.point_folders})

    def plot(
        self, kind: str | Sequence[str] = "headline", point: int = 0, out: str | Path | None = None
    ) -> list[Path]:
        """Draw figures of one grid point (kept only with ``sweep(..., keep_tables=True)``)."""
        return _plot(self.point_folders[point], kind, out)

    def _repr_html_(self) -> str:
        from sim.present.terminal import sweep_layouts

        block = sweep_layouts(self.summary, self.keys, self.scenario, self.replications)[0][0]
        return _html(block.title, block.headers, block.rows, block.caption)


def _html(title: str, headers: list[str], rows: list[list[str]], caption: str) -> str:
    frame = pd.DataFrame(rows, columns=[h.replace("\n", " ") for h in headers])
    body = frame.to_html(index=False, escape=True, border=0)
    from html import escape

    return f"<p><b>{escape(title)}</b></p>{body}<p><small>{escape(caption)}</small></p>"


def run(
    scenario: str | Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    out: str | Path | None = None,
    label: str | None = None,
    resume: bool = False,
    jobs: int | None = None,
    dask: str | None = None,
    root: str | Path = DEFAULT_ROOT,
) -> Run:
    """Run replications of a scenario file into a results folder and return its summary.

    ``overrides`` are ``--set`` strings (``"run.horizon=168"``); the folder is ``<root>/<scenario>/<label
    or time>`` unless ``out`` says; ``resume`` finishes a run cut short.
    """
    from sim.studies.run import run_scenario

    result = run_scenario(
        scenario,
        overrides=overrides,
        seed=seed,
        replications=replications,
        out=None if out is None else Path(out),
        label=label,
        resume=resume,
        backend=_backend(jobs, dask),
        root=Path(root),
    )
    if result.failures or result.summary is None:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    return Run(result.folder, result.scenario, result.replications, result.summary)


def compare(
    base: str | Path,
    *policies: str | Path,
    replications: int = 10,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    out: str | Path | None = None,
    jobs: int | None = None,
    dask: str | None = None,
    root: str | Path = DEFAULT_ROOT,
) -> Comparison:
    """Compare policy files with a base scenario file under common random numbers (paired differences).

    Scenarios already run with the same resolved scenario, seed and model code are reused, not rerun.
    """
    from sim.studies.compare import compare_policies

    result = compare_policies(
        base,
        list(policies),
        overrides=overrides,
        replications=replications,
        seed=seed,
        out=None if out is None else Path(out),
        backend=_backend(jobs, dask),
        root=Path(root),
    )
    if result.failures or result.table is None:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    from sim.store.manifest import read_manifest

    saved = (read_manifest(result.folder) or {}).get("scenarios", [])
    folders = {str(s["name"]): Path(s["run_folder"]) for s in saved}
    return Comparison(
        result.folder, result.names, result.replications, result.root_seed, result.table, folders
    )


def sweep(
    scenario: str | Path,
    grid: Mapping[str, Sequence[Any]] | Sequence[str],
    *,
    replications: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    out: str | Path | None = None,
    label: str | None = None,
    keep_tables: bool = False,
    jobs: int | None = None,
    dask: str | None = None,
    root: str | Path = DEFAULT_ROOT,
) -> Sweep:
    """Run every combination of the grid's values (``{"run.warmup": [24, 48]}`` or ``"KEY=V1,V2"``
    strings) for R replications each, with common random numbers across points."""
    import json

    from sim.studies.sweep import run_sweep

    specs = (
        [f"{key}={','.join(json.dumps(v) for v in values)}" for key, values in grid.items()]
        if isinstance(grid, Mapping)
        else list(grid)
    )
    result = run_sweep(
        scenario,
        specs,
        overrides=overrides,
        replications=replications,
        seed=seed,
        out=None if out is None else Path(out),
        label=label,
        keep_tables=keep_tables,
        backend=_backend(jobs, dask),
        root=Path(root),
    )
    if result.failures or result.summary is None or result.table is None:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    return Sweep(
        result.folder,
        result.scenario,
        [a.key for a in result.axes],
        result.replications,
        result.summary,
        result.table,
        [e.folder for e in result.experiments],
    )
