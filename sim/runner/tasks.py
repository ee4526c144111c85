"""One replication, in a worker: the unit of work every study hands to the runner.

A task names a scenario, a root seed and a replication number; replication k always uses the k-th seed
spawned from ``SeedSequence(root seed)``, so its result depends only on (scenario, root seed, k): not on
how many workers ran it, in what order, or on which run of a resumed experiment.

What the worker does with the replication's tables is the task's choice:
- an experiment task computes the replication's metrics and writes tables and metrics into the run folder
  (or, for a remote Dask cluster that may not share our disk, sends them back to be written here);
- a reducing task (calibration, history) applies a small picklable function to the tables and sends back
  only its value.

Test hook: the parent sets ``fail`` on the replications named in the environment variable
``BORDERSIM_TEST_FAIL_REPLICATION`` (comma-separated), so tests can make a replication fail in a real
worker. It is not meant for users.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from sim.analysis.metrics import all_metrics
from sim.errors import Problem, UserError
from sim.groups import ALL
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.model.records import Tables
from sim.scenario import Scenario
from sim.store.tables import write_replication

FAIL_ENV = "BORDERSIM_TEST_FAIL_REPLICATION"
_progress: Any = None  # this worker's queue to the parent, set when the worker starts


def report_progress_to(queue: Any) -> None:
    """Make this worker report each replication's progress into ``queue`` (a multiprocessing queue)."""
    global _progress
    _progress = queue


def _reporter(task: Task) -> Callable[[float], None] | None:
    """A progress callback for the model: puts (task key, fraction of the horizon done) on the queue."""
    queue = _progress
    if queue is None or task.key is None:
        return None
    key, horizon = task.key, task.scenario.run.horizon

    def report(t: float) -> None:
        with contextlib.suppress(Exception):  # a progress report must never cost a replication
            queue.put_nowait((key, t / horizon))

    return report


Reducer = Callable[[Tables, Scenario], Any]


class Deriver(Protocol):
    """Small tables a worker derives from a replication's tables, written beside its metrics when the
    tables themselves are not kept (e.g. :class:`sim.analysis.daily_series.DailyWaiting`): a study of many
    runs keeps what it reads, not every event. ``names`` are the tables it returns, always the same."""

    names: tuple[str, ...]

    def __call__(self, tables: Tables, scenario: Scenario, /) -> dict[str, pd.DataFrame]: ...


@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one replication (picklable: the scenario is a frozen pydantic model)."""

    scenario: Scenario
    root_seed: int
    replication: int
    folder: str | None = None  # absolute path of the run folder to write into; None: send results back
    keep_tables: bool = True  # write every table, or only the metrics
    derive: Deriver | None = None  # small tables derived in the worker, written beside the metrics
    reduce: Reducer | None = None  # a reducing task: send back reduce(tables, scenario), write nothing
    fail: bool = False  # test hook (see the module docstring)
    key: int | None = None  # its number in the runner's list, for progress reports


@dataclass
class Outcome:
    """What a worker sends back: small by default (metrics counts and timings), tables only if asked."""

    replication: int
    seconds: float = 0.0
    trucks: int = 0
    counts: dict[str, float] = field(default_factory=dict)  # arrived, cleared, still inside (province)
    metrics: pd.DataFrame | None = None
    tables: Tables | None = None
    derived: dict[str, pd.DataFrame] | None = None  # the task's derived tables, when sent back
    value: Any = None  # a reducing task's result
    error: str | None = None
    details: str | None = None  # the worker's traceback, saved for whoever debugs it
    worker: str = ""
    problems: list[Problem] | None = None  # the user's to fix (a full or read-only disk), not a bug

    @property
    def failed(self) -> bool:
        """Whether the replication raised instead of finishing."""
        return self.error is not None

    def raise_problems(self) -> None:
        """Raise the worker's UserError in the command: a disk that refuses a replication's tables
        refuses the next ones too, so the command stops (exit 2, the path and the reason) instead of
        counting every replication as failed."""
        if self.problems:
            raise UserError(list(self.problems))


def run_task(task: Task) -> Outcome:
    """Run one replication and do what the task asks with its tables.

    Never raises: an exception comes back as data naming the replication, so that it reaches the parent
    whole (not every exception pickles) and the other replications carry on.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        if task.fail:
            raise RuntimeError(f"replication {task.replication} fails on purpose ({FAIL_ENV} test hook)")
        tables = run_replication(
            task.scenario, replication_seed(task.root_seed, task.replication), progress=_reporter(task)
        )
        if task.reduce is not None:
            value = task.reduce(tables, task.scenario)
            return Outcome(
                task.replication, time.perf_counter() - t0, len(tables.trucks), value=value, worker=worker
            )
        metrics = all_metrics(tables, task.scenario)  # with the lever metrics (issue 22)
        kept = tables if task.keep_tables else None
        derived = task.derive(tables, task.scenario) if task.derive is not None else None
        if task.folder is not None:
            write_replication(Path(task.folder), task.replication, kept, metrics, derived)
        back = task.folder is None
        return Outcome(
            task.replication,
            time.perf_counter() - t0,
            len(tables.trucks),
            province_counts(metrics),
            metrics if back else None,
            kept if back else None,
            derived if back else None,
            worker=worker,
        )
    except UserError as exc:
        return Outcome(task.replication, time.perf_counter() - t0, error=str(exc), problems=exc.problems)
    except Exception as exc:
        return Outcome(
            task.replication,
            time.perf_counter() - t0,
            error=f"{type(exc).__name__}: {exc}",
            details=traceback.format_exc(),
            worker=worker,
        )


def failing_replications() -> set[int]:
    """Replications the test hook asks to fail (see the module docstring)."""
    raw = os.environ.get(FAIL_ENV, "").strip()
    return {int(x) for x in raw.split(",") if x.strip()} if raw else set()


def province_counts(metrics: pd.DataFrame) -> dict[str, float]:
    """Trucks arrived, cleared and still inside (all gates, after the warm-up) of one replication."""
    m = metrics[(metrics["gate"] == ALL) & (metrics["direction"] == ALL)].set_index("metric")["value"]
    return {k: float(m[k]) for k in ("arrived", "cleared", "still_inside") if k in m}
