"""The typed reader of saved results: one or several run folders, each with its validated scenario.

A plot is asked for a results folder, which is either one run folder (``bordersim run``: tables, a
``scenario.yaml`` and a manifest) or a comparison folder (``bordersim compare``: ``comparison.csv`` and a
manifest naming the run folder of each scenario). Both become a :class:`Study`: an ordered list of
:class:`RunData`, the base first. Everything here reads files; nothing runs the model, so a figure always
shows what was saved, and plotting a year of results never costs a year of simulation.

Each run's ``scenario.yaml`` is read back through the scenario loader, so readers get the same validated
:class:`~sim.scenario.Scenario` the model ran (defaults, derived arrivals and all), never a raw dictionary.
Tables are read column by column and, where they are large (``stages``), one replication at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.groups import ALL
from sim.scenario import Scenario, load_scenario
from sim.scenario.rail_route import all_gates
from sim.scenario.schema import DIRECTIONS, Gate
from sim.store.layout import COMPARISON, SCENARIO_FILE, SUMMARY, SWEEP_PARQUET, SWEEP_TABLE
from sim.store.manifest import MANIFEST, read_manifest
from sim.store.tables import done_replications, read_csv, read_parquet, table_file


@dataclass
class RunData:
    """One scenario's saved replications: its validated scenario, its manifest and its tables."""

    name: str
    folder: Path
    scenario: Scenario
    manifest: dict[str, Any]
    replications: list[int]

    # ---- the scenario, as a reader needs it ---------------------------------------------------------
    @property
    def unit_hours(self) -> float:
        """Hours in one unit of the run's simulated time."""
        return self.scenario.run.unit_hours

    @property
    def start(self) -> datetime:
        """The calendar time at simulated time 0."""
        return self.scenario.run.start

    @property
    def warmup(self) -> float:
        """The warm-up, in the scenario's time unit."""
        return self.scenario.run.warmup

    @property
    def horizon(self) -> float:
        """The simulated horizon, in the scenario's time unit."""
        return self.scenario.run.horizon

    @cached_property
    def gates(self) -> dict[str, Gate]:
        """The scenario's gates by key (and its rail route, recorded as one more gate)."""
        return all_gates(self.scenario)

    def gate_label(self, gate: str) -> str:
        """The gate as users write it: its ``name`` in the scenario, else its key made readable."""
        spec = self.gates.get(gate)
        return (spec.name if spec is not None else None) or gate.replace("_", " ").title()

    def flows(self) -> list[tuple[str, str]]:
        """(gate, direction) pairs the scenario has, in the scenario's order."""
        return [(g, d) for g, spec in self.gates.items() for d in DIRECTIONS if spec.flow(d) is not None]

    def yard_capacity(self, gate: str, direction: str = ALL) -> int | None:
        """The places of the gate's yards a direction uses ("all": both, each yard once), in trucks
        (None: unlimited or unknown gate)."""
        return self.gates[gate].yard_capacity(direction) if gate in self.gates else None

    def daily_caps(self, gate: str, direction: str, on: datetime | None = None) -> list[tuple[int, str]]:
        """Daily caps limiting a flow, as (trucks a day, where): its stages', lanes' and shared pools'.

        ``on`` None: the caps the scenario sets before any dated change; a date: the caps in force that
        day, after the stages' dated changes (``changes: [{from: ..., daily_cap: ...}]``; 'none' lifts a
        cap, 0 stops the stage). A winter replay's caps are mostly dated: its base values say little."""
        spec = self.gates.get(gate)
        flow = spec.flow(direction) if spec is not None else None
        if flow is None:
            return []
        caps: list[tuple[int, str]] = []
        for sname, stage in flow.stages.items():
            cap: int | str | None = stage.daily_cap
            for change in stage.changes:
                if on is not None and change.start <= on and change.daily_cap is not None:
                    cap = change.daily_cap
            if cap is not None and cap != "none":
                caps.append((int(cap), sname))
            if stage.green_lane is not None and stage.green_lane.daily_cap:
                caps.append((stage.green_lane.daily_cap, f"{sname} green lane"))
            pool = spec.resources.get(stage.resource or "")
            if pool is not None and pool.daily_cap:
                caps.append((pool.daily_cap, f"{stage.resource} pool, both directions"))
        return list(dict.fromkeys(caps))

    def cap_dates(self, gate: str, direction: str) -> list[datetime]:
        """The dates inside the run on which a dated change sets a cap of the flow (sorted, each once)."""
        spec = self.gates.get(gate)
        flow = spec.flow(direction) if spec is not None else None
        if flow is None:
            return []
        end = self.start + timedelta(hours=self.horizon * self.unit_hours)
        dates = {
            c.start
            for stage in flow.stages.values()
            for c in stage.changes
            if c.daily_cap is not None and c.start < end
        }
        return sorted(dates)

    # ---- time ------------------------------------------------------------------------------------
    def to_calendar(self, t: np.ndarray | pd.Series) -> np.ndarray:
        """Sim times (the scenario's unit, from run.start) as calendar datetimes (numpy datetime64)."""
        ms = np.round(np.asarray(t, dtype=float) * self.unit_hours * 3_600_000.0).astype("int64")
        return np.datetime64(self.start, "ms") + ms.astype("timedelta64[ms]")

    @property
    def days(self) -> float:
        """The simulated period in days."""
        return self.horizon * self.unit_hours / 24.0

    def window_text(self) -> str:
        """The simulated period in words: '1 Jan 2021 to 1 Jan 2022 (365 days)'."""
        end = self.start + timedelta(hours=self.horizon * self.unit_hours)
        whole = self.start.time() == end.time() == datetime.min.time()

        def text(d: datetime) -> str:
            return f"{d.day} {d:%b %Y}" + ("" if whole else f" {d:%H:%M}")

        return f"{text(self.start)} to {text(end)} ({self.days:g} days)"

    # ---- tables ----------------------------------------------------------------------------------
    def table(
        self, name: str, columns: Sequence[str] | None = None, replication: int | None = None
    ) -> pd.DataFrame:
        """One table of the saved replications (all, or one), only the columns asked for."""
        reps = self.replications if replication is None else [replication]
        files = [table_file(self.folder, name, r) for r in reps]
        files = [f for f in files if f.is_file()]
        if not files:
            raise UserError.single(
                str(self.folder),
                name,
                f"no '{name}' table in this run folder: it was run without keeping its tables "
                "(a sweep point without --tables?), so it cannot be plotted",
            )
        cols = None if columns is None else ["replication", *columns]
        frames = [read_parquet(f, cols) for f in files]  # a damaged file: a UserError naming it
        out = pd.concat(frames, ignore_index=True)
        for c in ("gate", "direction", "stage", "applies_to", "kind", "status"):
            if c in out.columns:
                out[c] = out[c].astype(str)
        return out

    def cleared_hours(self) -> pd.DataFrame:
        """Clearance time in hours of every truck cleared after the warm-up (all replications pooled),
        with the share of the flow's trucks not cleared by the horizon (the ones the times cannot show)."""
        t = self.table("trucks", ["gate", "direction", "arrival", "status", "clearance_time"])
        t = t[t["arrival"] >= self.warmup]
        t = t.assign(hours=t["clearance_time"] * self.unit_hours)
        return t[["replication", "gate", "direction", "status", "hours"]]


@dataclass
class SweepData:
    """A sweep folder: its grid axes (dotted keys, in order) and the tidy per-replication table (point,
    the axes' values, replication, gate, direction, metric, value). Points share their random numbers:
    replication k of every point uses the same seed."""

    axes: list[str]
    table: pd.DataFrame

    def values(self, axis: str) -> list[Any]:
        """The grid values of one axis, in the order the sweep ran them."""
        return list(dict.fromkeys(self.table[axis]))


@dataclass
class Study:
    """What a results folder holds: one or several scenarios (the base first) and where it came from."""

    folder: Path
    runs: list[RunData]
    kind: str  # "run", "comparison" or "sweep"
    manifest: dict[str, Any] = field(default_factory=dict)
    sweep: SweepData | None = None

    @property
    def names(self) -> list[str]:
        """The scenarios' names, the base first."""
        return [r.name for r in self.runs]

    @property
    def base(self) -> RunData:
        """The base scenario's run (the only one of a run folder)."""
        return self.runs[0]

    @cached_property
    def comparison(self) -> pd.DataFrame | None:
        """The saved comparison table (a comparison folder), else None."""
        path = self.folder / COMPARISON
        return read_csv(path) if path.is_file() else None

    @cached_property
    def summary(self) -> pd.DataFrame | None:
        """The saved summary across replications (a complete run folder), else None."""
        path = self.folder / SUMMARY
        return read_csv(path) if path.is_file() else None

    def gates(self) -> list[str]:
        """Gates of all scenarios, in the base's order, then any a policy adds."""
        return list(dict.fromkeys(g for r in self.runs for g in r.gates))

    def flows(self) -> list[tuple[str, str]]:
        """(gate, direction) pairs of all scenarios, in gate then direction order."""
        seen = dict.fromkeys(f for r in self.runs for f in r.flows())
        return sorted(seen, key=lambda f: (self.gates().index(f[0]), DIRECTIONS.index(f[1])))

    def gate_label(self, gate: str) -> str:
        """The gate as users write it, from the first scenario that has it."""
        for r in self.runs:
            if gate in r.gates:
                return r.gate_label(gate)
        return gate

    def iter_runs(self) -> Iterator[tuple[int, RunData]]:
        """(index, run) pairs, the base first; the index picks the scenario's colour."""
        return iter(enumerate(self.runs))


def _read_scenario(folder: Path) -> Scenario:
    path = folder / SCENARIO_FILE
    if not path.is_file():
        raise UserError.single(str(path), "", "missing: not a run folder written by bordersim")
    return load_scenario(path).scenario


def study_gate_names(folder: Path) -> dict[str, str]:
    """The gates of a study's scenario by their names (its first point's resolved scenario; a gate
    without a name has its key title-cased), for labels; {} where no point has been written."""
    from sim.store.layout import sweep_point_folder

    point = sweep_point_folder(Path(folder), 0)
    try:
        gates = _read_scenario(point).gates
    except UserError:
        return {}
    return {g: spec.name or g.replace("_", " ").title() for g, spec in gates.items()}


def load_run(folder: Path, name: str | None = None) -> RunData:
    """A run folder: its resolved scenario, its manifest and its finished replications."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError.single(str(folder), "", "no such folder: give a run folder, e.g. from bordersim list")
    scenario = _read_scenario(folder)
    manifest = read_manifest(folder) or {}
    done = sorted(done_replications(folder))
    if not done:  # tables kept but metrics missing is impossible: a replication writes its metrics last
        raise UserError.single(str(folder), "", "no finished replication in this run folder")
    return RunData(name or scenario.name, folder, scenario, manifest, done)


def _run_folder(compare_dir: Path, entry: dict[str, Any]) -> Path:
    """Where a comparison's scenario was run: as recorded, else relative to the project the comparison
    folder sits in (``<project>/results/compare-...``), so a moved checkout still reads."""
    recorded = Path(str(entry.get("run_folder", "")))
    candidates = [recorded, compare_dir.parent.parent / recorded]
    if "results" in recorded.parts:
        tail = recorded.parts[recorded.parts.index("results") + 1 :]
        candidates.append(compare_dir.parent.joinpath(*tail))
    for c in candidates:
        if (c / SCENARIO_FILE).is_file():
            return c
    raise UserError.single(
        str(compare_dir / MANIFEST),
        "scenarios.run_folder",
        f"the run folder of '{entry.get('name')}' ({recorded}) is gone; rerun the comparison",
    )


def load_study(folder: str | Path) -> Study:
    """A run folder or a comparison folder, read; a :class:`UserError` if it is neither."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError.single(str(folder), "", "no such results folder")
    if (folder / COMPARISON).is_file():
        manifest = read_manifest(folder)
        if not manifest or not manifest.get("scenarios"):
            raise UserError.single(str(folder / MANIFEST), "", "missing or unreadable comparison manifest")
        runs, seen = [], set()
        for entry in manifest["scenarios"]:
            if entry["name"] in seen:
                continue
            seen.add(entry["name"])
            run = load_run(_run_folder(folder, entry), entry["name"])
            wanted = range(int(manifest.get("replications") or len(run.replications)))
            run.replications = [r for r in run.replications if r in wanted]
            runs.append(run)
        return Study(folder, runs, "comparison", manifest)
    if (folder / SCENARIO_FILE).is_file():
        run = load_run(folder)
        return Study(folder, [run], "run", run.manifest)
    if (folder / SWEEP_TABLE).is_file():
        return _load_sweep(folder)
    raise UserError.single(
        str(folder),
        "",
        "not a results folder: expected a run folder (scenario.yaml) or a comparison "
        f"folder ({COMPARISON} and {MANIFEST})",
    )


def _load_sweep(folder: Path) -> Study:
    """A sweep folder: its manifest (the grid) and its tidy table; its first point's run as the base."""
    manifest = read_manifest(folder) or {}
    grid = manifest.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise UserError.single(
            str(folder / MANIFEST), "grid", "missing: not a sweep folder written by bordersim"
        )
    parquet = folder / SWEEP_PARQUET
    table = read_parquet(parquet) if parquet.is_file() else read_csv(folder / SWEEP_TABLE)
    table = table.astype({"gate": str, "direction": str})
    runs = []
    first = folder / "points" / "point-0000"
    if (first / SCENARIO_FILE).is_file():
        runs.append(load_run(first))
    return Study(folder, runs, "sweep", manifest, SweepData(list(grid), table))


def manifest_text(manifest: dict[str, Any]) -> str:
    """A manifest as indented JSON text (for the report)."""
    return json.dumps(manifest, indent=2, default=str)
