"""Evaluated points of a scenario: the same scenario with a few ``--set`` overrides, run for R replications
each from one root seed (common random numbers), as the search studies (optimise, sensitivity) need them.

A point is an :class:`~sim.runner.experiment.Experiment` in ``<study>/points/point-NNNN`` (metrics only),
so every evaluated point is written through the store like a sweep point, can be read back and is never
run twice: asking for more replications of a point runs only the missing ones, and replication k of every
point shares its random numbers, so two points' values pair up replication by replication.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.decision import MetricRef
from sim.errors import Problem, UserError
from sim.runner.backends import Backend
from sim.runner.experiment import REUSE, Experiment, Failure, plan
from sim.runner.progress import Monitor
from sim.scenario import LoadedScenario, load_scenario
from sim.store.layout import sweep_point_folder
from sim.store.lock import folder_lock
from sim.store.manifest import read_manifest
from sim.store.outputs import StudyFolder
from sim.studies.common import check_sizes, interrupt_hint, rerun_hint, run_with_monitor
from sim.studies.options import StudyOptions


@dataclass
class Point:
    """One evaluated configuration: its index, its overrides (beyond the study's own) and its runs."""

    index: int
    settings: dict[str, Any]
    experiment: Experiment

    @property
    def replications(self) -> int:
        """Replications finished at this point so far."""
        return self.experiment.finished


class PointFailed(Exception):
    """Replications of a point failed in a worker (the failures are attached)."""

    def __init__(self, failures: list[Failure]) -> None:
        super().__init__(f"{len(failures)} replication(s) failed")
        self.failures = failures


@dataclass
class Points:
    """The points of one study folder, created on demand and run in batches."""

    scenario: Path
    overrides: Sequence[str]
    folder: Path
    root_seed: int
    backend: Backend
    monitor: Monitor | None = None
    argv: Sequence[str] = ()
    max_trucks: int | None = None
    kind: str = ""  # the study's kind and settings: its manifest, written partial when it first runs
    settings: dict[str, Any] = field(default_factory=dict)
    base: LoadedScenario | None = None
    points: list[Point] = field(default_factory=list)
    _by_key: dict[str, Point] = field(default_factory=dict)
    _locks: ExitStack = field(default_factory=ExitStack)
    _locked: bool = False

    @classmethod
    def for_study(
        cls,
        base: LoadedScenario,
        folder: Path,
        options: StudyOptions,
        kind: str = "",
        settings: dict[str, Any] | None = None,
    ) -> Points:
        """The points of a ``kind`` study of ``base`` in ``folder``, run as ``options`` say; ``settings``
        are what the study's folder must have been made with to be reused (see refuse_other_study)."""
        return cls(
            base.path,
            base.overrides,
            folder,
            options.root_seed(base.scenario),
            options.resolved_backend(),
            options.monitor,
            options.argv,
            options.max_trucks,
            kind,
            dict(settings or {}),
            base,
        )

    def __enter__(self) -> Points:
        return self

    def __exit__(self, *exc: object) -> None:
        self._locks.close()

    def load(self, settings: dict[str, Any]) -> LoadedScenario:
        """The scenario with these settings; a mistake names the setting."""
        extra = [f"{k}={v}" for k, v in settings.items()]
        try:
            loaded = load_scenario(self.scenario, [*self.overrides, *extra])
        except UserError as exc:
            where = ", ".join(extra)
            raise UserError(
                [Problem(p.file, p.path, f"{p.message} (at {where})", p.line) for p in exc.problems]
            ) from None
        check_sizes([loaded], self.max_trucks)
        return loaded

    def get(self, settings: dict[str, Any]) -> Point:
        """The point with these settings (created, not yet run, the first time it is asked for)."""
        key = repr(sorted(settings.items()))
        if key not in self._by_key:
            k = len(self.points)
            exp = Experiment(
                self.load(settings),
                sweep_point_folder(self.folder, k),
                self.root_seed,
                0,
                keep_tables=False,
                about={"study": str(self.folder), "point": k, "settings": settings},
            )
            point = Point(k, dict(settings), exp)
            self.points.append(point)
            self._by_key[key] = point
        return self._by_key[key]

    def run(self, points: Sequence[Point], replications: int, title: str = "") -> None:
        """Make sure each point has replications 0..R-1 (only the missing ones run, in one batch)."""
        todo = []
        for p in {id(p): p for p in points}.values():
            p.experiment.replications = max(p.experiment.replications, replications)
            plan(p.experiment, REUSE)
            if p.experiment.missing:
                todo.append(p.experiment)
        if not todo:
            return

        def lock() -> None:
            if not self._locked:  # the study folder: one writer at a time
                self.folder.mkdir(parents=True, exist_ok=True)
                self._locks.enter_context(folder_lock(self.folder))
                self._locked = True
                if self.kind and read_manifest(self.folder) is None:  # listed as partial until it ends
                    StudyFolder(self.kind, self.folder).write_manifest(
                        self.base, argv=self.argv, complete=False, **self.settings
                    )

        hint = rerun_hint(self.argv, self.folder)
        with interrupt_hint(hint):
            failures = run_with_monitor(
                todo,
                self.backend,
                [(title or "points", list(range(len(todo))))],
                self.monitor,
                self.argv,
                lock,
            )
        if failures:
            raise PointFailed(failures)

    def values(self, point: Point, ref: MetricRef, replications: int | None = None) -> np.ndarray:
        """The metric in replications 0..R-1 of the point (index = replication; NaN where undefined)."""
        reps = point.experiment.replications if replications is None else replications
        m = point.experiment.metrics()
        rows = m[
            (m["metric"] == ref.metric)
            & (m["gate"].astype(str) == ref.gate)
            & (m["direction"].astype(str) == ref.direction)
        ]
        series = pd.Series(rows["value"].to_numpy(dtype=float), index=rows["replication"].to_numpy())
        return series.reindex(range(reps)).to_numpy(dtype=float)
