"""Experiments: replications of one or more scenarios, run in parallel into resumable run folders.

Replication k of every scenario uses the k-th seed spawned from ``SeedSequence(root seed)``, so two
policies run with the same root seed are compared under common random numbers, and a replication's result
depends only on (scenario, root seed, k): not on how many workers ran it, in what order, or on which run
of a resumed experiment. That is what lets ``--jobs``, Dask and ``--resume`` give identical tables.

Each replication is one task for a worker (:func:`run_task`): it runs the model, computes the
replication's metrics and writes its files into the run folder (or, for a remote Dask cluster that may not
share our disk, sends them back to be written here). The parent only collects outcomes, keeps the
manifest up to date after every replication, and reports failures by replication and seed; a failed
replication never discards the others.

Test hook: the environment variable ``BORDERSIM_TEST_FAIL_REPLICATION`` (comma-separated replication
numbers) makes those replications raise in the worker, so tests can interrupt an experiment through the
real process pool. It is read by the parent and passed inside the task, so it reaches workers however they
were started. It is not meant for users.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Executor, Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from sim.analysis.metrics import ALL, replication_metrics
from sim.analysis.stats import summarize
from sim.errors import UserError
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.model.records import Tables
from sim.runner.backends import Backend, executor
from sim.scenario import LoadedScenario, Scenario, load_scenario, resolved_yaml
from sim.store.tables import (
    METRICS,
    TABLES,
    done_replications,
    read_manifest,
    read_table,
    versions,
    write_bytes_atomic,
    write_json_atomic,
    write_replication,
)

FAIL_ENV = "BORDERSIM_TEST_FAIL_REPLICATION"

NEW, RESUME, REUSE = "new", "resume", "reuse"  # what to do with a run folder that may exist


# --------------------------------------------------------------------------------------------------
# One replication, in a worker
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one replication (picklable: the scenario is a frozen pydantic model)."""

    scenario: Scenario
    root_seed: int
    replication: int
    folder: str | None  # absolute path to write into; None: send the files back instead
    keep_tables: bool  # write every table, or only the metrics
    fail: bool = False  # test hook (see the module docstring)


@dataclass
class Outcome:
    """What a worker sends back: small by default (metrics and timings), the tables only if asked."""

    replication: int
    seconds: float = 0.0
    trucks: int = 0
    counts: dict[str, float] = field(default_factory=dict)  # arrived, cleared, still inside (province)
    metrics: pd.DataFrame | None = None
    tables: Tables | None = None
    error: str | None = None
    details: str | None = None  # the worker's traceback, saved for whoever debugs it
    worker: str = ""


def run_task(task: Task) -> Outcome:
    """Run one replication, compute its metrics and store them.

    Never raises: an exception comes back as data naming the replication, so that it reaches the parent
    whole (not every exception pickles) and the other replications carry on.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        if task.fail:
            raise RuntimeError(f"replication {task.replication} fails on purpose ({FAIL_ENV} test hook)")
        tables = run_replication(task.scenario, replication_seed(task.root_seed, task.replication))
        metrics = replication_metrics(tables, task.scenario)
        kept = tables if task.keep_tables else None
        if task.folder is not None:
            write_replication(Path(task.folder), task.replication, kept, metrics)
        return Outcome(
            task.replication,
            time.perf_counter() - t0,
            len(tables.trucks),
            province_counts(metrics),
            metrics if task.folder is None else None,
            kept if task.folder is None else None,
            worker=worker,
        )
    except Exception as exc:
        return Outcome(
            task.replication,
            time.perf_counter() - t0,
            error=f"{type(exc).__name__}: {exc}",
            details=traceback.format_exc(),
            worker=worker,
        )


# --------------------------------------------------------------------------------------------------
# Experiments and their run folders
# --------------------------------------------------------------------------------------------------
def seed_record(root_seed: int, replication: int) -> dict[str, object]:
    seq = replication_seed(root_seed, replication)
    return {"replication": replication, "entropy": seq.entropy, "spawn_key": list(seq.spawn_key)}


def seed_text(root_seed: int, replication: int) -> str:
    seq = replication_seed(root_seed, replication)
    return f"SeedSequence(entropy={seq.entropy}, spawn_key={tuple(seq.spawn_key)})"


@dataclass
class Failure:
    """A replication that did not finish: where, which seed, and what went wrong."""

    scenario: str
    folder: Path
    replication: int
    root_seed: int
    seed: str
    error: str
    details: Path | None


@dataclass
class Experiment:
    """R replications of one scenario into one run folder; ``about`` adds entries to its manifest."""

    loaded: LoadedScenario
    folder: Path
    root_seed: int
    replications: int
    keep_tables: bool = True
    about: dict[str, Any] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    info: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed: dict[int, Failure] = field(default_factory=dict)
    previous: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).absolute()  # workers may not share our working directory

    @property
    def scenario(self) -> Scenario:
        return self.loaded.scenario

    @property
    def missing(self) -> list[int]:
        return [r for r in range(self.replications) if r not in self.done]

    @property
    def complete(self) -> bool:
        return not self.missing

    def metrics(self) -> pd.DataFrame:
        """Per-replication metrics of replications 0..R-1 that are done (tidy)."""
        reps = [r for r in range(self.replications) if r in self.done]
        return read_table(self.folder, METRICS, reps)


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Dotted paths where two plain data trees differ (to say why a resume is refused)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in dict.fromkeys([*a, *b]):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if a == b else [f"{path} (saved: {a!r}, now: {b!r})"]


def plan(exp: Experiment, mode: str) -> None:
    """Check ``exp``'s folder against ``mode`` and find the replications already done. Reads only.

    ``new``: the folder must not exist. ``resume``: it must exist. ``reuse``: either. An existing folder
    must hold the same resolved scenario, root seed and kind of output, or resuming is refused: results
    of two different experiments must never mix.
    """
    folder = exp.folder
    if not folder.exists():
        if mode == RESUME:
            raise UserError.single(None, "--resume", f"nothing to resume: '{folder}' does not exist")
        return
    if mode == NEW:
        raise UserError.single(
            None,
            "--out",
            f"'{folder}' already exists; choose another --out or --label, or add --resume to finish it",
        )
    manifest = read_manifest(folder)
    if manifest is None or not (folder / "scenario.yaml").is_file():
        raise UserError.single(None, "--resume", f"'{folder}' is not a run folder (no manifest or scenario)")
    saved = load_scenario(folder / "scenario.yaml").scenario
    if saved != exp.scenario:
        diffs = _differences(saved.model_dump(mode="json"), exp.scenario.model_dump(mode="json"))
        raise UserError.single(
            None,
            "--resume",
            f"the scenario differs from the one '{folder}' was run with: {'; '.join(diffs[:3])}"
            + (f" and {len(diffs) - 3} more" if len(diffs) > 3 else "")
            + "; run it into a new folder instead",
        )
    if manifest.get("root_seed") != exp.root_seed:
        raise UserError.single(
            None,
            "--seed",
            f"'{folder}' was run with root seed {manifest.get('root_seed')}, not {exp.root_seed}; "
            "resume it with that seed or run into a new folder",
        )
    if manifest.get("keep_tables", True) != exp.keep_tables:
        kept = "every table" if manifest.get("keep_tables", True) else "metrics only"
        raise UserError.single(None, "--resume", f"'{folder}' keeps {kept}; resume it the same way")
    exp.previous = manifest
    exp.done = done_replications(folder)
    known = manifest.get("replication_info", {})
    # a replication finished just before a hard stop has files but no manifest entry yet
    exp.info = {r: known.get(str(r)) or {"trucks": _trucks_in_files(exp, r)} for r in exp.done}


def _open(exp: Experiment, run: dict[str, Any]) -> None:
    exp.folder.mkdir(parents=True, exist_ok=True)
    for stale in exp.folder.glob("*/.rep-*.tmp"):  # files a stopped worker was writing
        stale.unlink(missing_ok=True)
    if not (exp.folder / "scenario.yaml").exists():
        write_bytes_atomic(exp.folder / "scenario.yaml", resolved_yaml(exp.loaded).encode("utf-8"))
    _write_manifest(exp, run)


def _trucks_in_files(exp: Experiment, rep: int) -> int | None:
    """Truck count of a replication finished before its manifest entry was written (a hard kill)."""
    path = exp.folder / "trucks" / f"rep-{rep:04d}.parquet"
    return pq.read_metadata(path).num_rows if path.is_file() else None


def _write_manifest(exp: Experiment, run: dict[str, Any]) -> None:
    s = exp.scenario
    previous = exp.previous or {}
    info = {r: exp.info[r] for r in sorted(exp.done) if r in exp.info}
    reps = range(exp.replications)
    manifest = {
        "scenario": s.name,
        "scenario_files": [str(f) for f in exp.loaded.files],
        "overrides": list(exp.loaded.overrides),
        "scenario_sha256": scenario_digest(s),
        "model_sha256": model_digest(),
        **exp.about,
        "root_seed": exp.root_seed,
        "replications": exp.replications,
        "complete": exp.complete,
        "done": sorted(exp.done),
        "missing": exp.missing,
        "failed": [
            {"replication": f.replication, "seed": f.seed, "error": f.error, "details": str(f.details)}
            for f in exp.failed.values()
        ],
        "keep_tables": exp.keep_tables,
        "tables": [*TABLES, METRICS] if exp.keep_tables else [METRICS],
        "seeds": [seed_record(exp.root_seed, r) for r in reps],
        "versions": versions(),
        "command": run["command"],
        "started": previous.get("started", run["started"]),
        "finished": _now(),
        "runs": [*previous.get("runs", []), run],
        "replication_seconds": [(info.get(r) or {}).get("seconds") for r in reps],
        "trucks_simulated": sum((info.get(r) or {}).get("trucks") or 0 for r in reps),
        "counts": [{"replication": r, **info[r].get("counts", {})} for r in reps if r in info],
        "replication_info": {str(r): v for r, v in info.items()},
        "time_unit": s.run.time_unit,
        "calendar_start": s.run.start.isoformat(),
    }
    write_json_atomic(exp.folder / "manifest.json", manifest)


def _now() -> str:
    return datetime.now().astimezone().isoformat()


MODEL_SOURCES = ("model", "scenario")


@functools.cache
def model_digest() -> str:
    """A fingerprint of the code that turns a scenario and a seed into records.

    Saved results are reused only when both the scenario and this fingerprint match: after a change to
    the model, old replications would otherwise be mixed with new ones, numbers that look right but are not.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for name in MODEL_SOURCES:
        path = root / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def scenario_digest(scenario: Scenario) -> str:
    """A fingerprint of the resolved scenario: equal digests, equal scenarios."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------
def _failing_replications() -> set[int]:
    raw = os.environ.get(FAIL_ENV, "").strip()
    return {int(x) for x in raw.split(",") if x.strip()} if raw else set()


def _outcome(future: Future[Outcome], replication: int) -> Outcome:
    """The outcome of a future, with a lost worker turned into a failure of its replication."""
    try:
        return future.result()
    except BrokenProcessPool:
        return Outcome(replication, error="its worker process died (killed, or out of memory?)")
    except CancelledError:
        return Outcome(replication, error="cancelled")
    except Exception as exc:  # a worker lost by Dask, an unpicklable result, ...
        return Outcome(replication, error=f"{type(exc).__name__}: {exc}", details=traceback.format_exc())


def _record(exp: Experiment, outcome: Outcome) -> None:
    rep = outcome.replication
    errors = exp.folder / "errors" / f"rep-{rep:04d}.txt"
    if outcome.error is not None:
        details = None
        if outcome.details:
            write_bytes_atomic(errors, outcome.details.encode("utf-8"))
            details = errors
        exp.failed[rep] = Failure(
            exp.scenario.name,
            exp.folder,
            rep,
            exp.root_seed,
            seed_text(exp.root_seed, rep),
            outcome.error,
            details,
        )
        return
    if outcome.metrics is not None:  # the worker could not write into our folder
        write_replication(exp.folder, rep, outcome.tables, outcome.metrics)
    errors.unlink(missing_ok=True)
    exp.failed.pop(rep, None)
    exp.done.add(rep)
    exp.info[rep] = {
        "seconds": round(outcome.seconds, 4),
        "trucks": outcome.trucks,
        "counts": outcome.counts,
        "worker": outcome.worker,
    }


def _finish(exp: Experiment, run: dict[str, Any]) -> None:
    run["finished"] = _now()
    _write_manifest(exp, run)
    errors = exp.folder / "errors"
    if errors.is_dir() and not any(errors.iterdir()):
        errors.rmdir()
    if exp.complete:
        summary = summarize(exp.metrics())
        write_bytes_atomic(exp.folder / "summary.csv", summary.to_csv(index=False).encode("utf-8"))


def _submit(ex: Executor, task: Task) -> Future[Outcome]:
    """Submit a task; a pool that broke (a worker died) gives a failed future, reported like the rest."""
    try:
        return ex.submit(run_task, task)
    except BrokenProcessPool as exc:
        future: Future[Outcome] = Future()
        future.set_exception(exc)
        return future


def run_experiments(
    experiments: Sequence[Experiment],
    backend: Backend,
    argv: Sequence[str] = (),
    on_done: Callable[[int], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> list[Failure]:
    """Run every missing replication of ``experiments`` (already :func:`plan`\\ ned) on ``backend``.

    Replication-major order (replication 0 of every experiment first) so that an interrupted comparison
    still has complete pairs. ``on_start()`` is called once the workers are reachable, before anything is
    written; ``on_done(i)`` as each replication of experiment ``i`` ends.
    Returns the failures; finished replications are kept whatever happens, and an interrupt
    (KeyboardInterrupt) is re-raised after the manifests say what is done.
    """
    fail = _failing_replications()
    tasks = [
        (i, rep)
        for rep in range(max((e.replications for e in experiments), default=0))
        for i, e in enumerate(experiments)
        if rep < e.replications and rep not in e.done
    ]
    if not tasks:
        if on_start is not None:
            on_start()
        for exp in experiments:  # resumed after its last replication had finished: say it is complete
            if exp.previous is not None and not exp.previous.get("complete"):
                _finish(exp, {"command": list(argv), "started": _now(), "replications_run": 0})
        return []
    active = sorted({i for i, _ in tasks})
    run: dict[str, Any] = {
        "command": list(argv),
        "started": _now(),
        "backend": backend.describe(),
        "replications_run": len(tasks),
    }
    with executor(backend, len(tasks)) as ex:
        if on_start is not None:
            on_start()
        for i in active:
            _open(experiments[i], run)
        futures: dict[Future[Outcome], tuple[int, int]] = {}
        for i, rep in tasks:
            exp = experiments[i]
            task = Task(
                exp.scenario,
                exp.root_seed,
                rep,
                str(exp.folder) if backend.shared_filesystem else None,
                exp.keep_tables,
                rep in fail,
            )
            futures[_submit(ex, task)] = (i, rep)
        try:
            for future in as_completed(futures):
                i, rep = futures[future]
                _record(experiments[i], _outcome(future, rep))
                _write_manifest(experiments[i], run)
                if on_done is not None:
                    on_done(i)
        except BaseException:
            run["interrupted"] = True
            for i in active:
                _write_manifest(experiments[i], run)
            raise
    for i in active:
        _finish(experiments[i], run)
    return [f for e in experiments for f in e.failed.values()]


def province_counts(metrics: pd.DataFrame) -> dict[str, float]:
    """Trucks arrived, cleared and still inside (all gates, after the warm-up) of one replication."""
    m = metrics[(metrics["gate"] == ALL) & (metrics["direction"] == ALL)].set_index("metric")["value"]
    return {k: float(m[k]) for k in ("arrived", "cleared", "still_inside") if k in m}
