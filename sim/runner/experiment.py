"""Experiments: replications of one or more scenarios, run in parallel into resumable run folders.

Replication k of every scenario uses the k-th seed spawned from ``SeedSequence(root seed)``, so two
policies run with the same root seed are compared under common random numbers, and ``--jobs``, Dask and
``--resume`` give identical tables. Each replication is one :class:`~sim.runner.tasks.Task`; the parent
collects outcomes, keeps the manifest up to date after every replication, and reports failures by
replication and seed; a failed replication never discards the others.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from sim.analysis.metrics import summary_of
from sim.analysis.stability import mark_unstable
from sim.errors import UserError
from sim.model.size import disk_bytes
from sim.runner.backends import Backend
from sim.runner.pool import Failure, run_tasks
from sim.runner.tasks import FAIL_ENV, Deriver, Outcome, Task, failing_replications
from sim.scenario import LoadedScenario, Scenario, load_scenario
from sim.scenario.loader import resolved_files
from sim.store.atomic import store_errors, write_bytes_atomic, write_csv_atomic, write_text_atomic
from sim.store.layout import SCENARIO_FILE, SUMMARY
from sim.store.lock import folder_lock
from sim.store.manifest import now, read_manifest, run_manifest, seed_text, write_manifest
from sim.store.space import check_space
from sim.store.tables import (
    METRICS,
    TABLES,
    damaged_files,
    done_replications,
    read_table,
    remove_partial_files,
    table_file,
    write_replication,
)

__all__ = ["FAIL_ENV", "NEW", "RESUME", "REUSE", "Experiment", "Failure", "plan", "run_experiments"]

NEW, RESUME, REUSE = "new", "resume", "reuse"  # what to do with a run folder that may exist
MANIFEST_EVERY = 1.0  # seconds between rewrites of a manifest while replications finish


@dataclass
class Experiment:
    """R replications of one scenario into one run folder; ``about`` adds entries to its manifest."""

    loaded: LoadedScenario
    folder: Path
    root_seed: int
    replications: int
    keep_tables: bool = True
    derive: Deriver | None = None  # small tables each replication derives in its worker (kept always)
    about: dict[str, Any] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    info: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed: dict[int, Failure] = field(default_factory=dict)
    previous: dict[str, Any] | None = None
    fresh: bool = False  # the folder does not exist yet: this experiment creates it
    damaged: dict[int, list[Path]] = field(default_factory=dict)  # done once, but a file is not whole
    summary: pd.DataFrame | None = None  # across replications, computed once when the last one finishes

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).absolute()  # workers may not share our working directory

    @property
    def scenario(self) -> Scenario:
        """The validated scenario being run."""
        return self.loaded.scenario

    @property
    def missing(self) -> list[int]:
        """Replications not finished yet."""
        return [r for r in range(self.replications) if r not in self.done]

    @property
    def complete(self) -> bool:
        """Whether every replication finished."""
        return not self.missing

    @property
    def finished(self) -> int:
        """Replications 0..R-1 that are done."""
        return len([r for r in self.done if r < self.replications])

    @property
    def kept(self) -> list[str]:
        """The tables each replication writes into the folder, the metrics last."""
        derived = list(self.derive.names) if self.derive is not None else []
        return [*(TABLES if self.keep_tables else ()), *derived, METRICS]

    def trucks(self) -> int:
        """Trucks simulated over replications 0..R-1 (as the workers reported them)."""
        return sum((self.info.get(r) or {}).get("trucks") or 0 for r in range(self.replications))

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


def plan(exp: Experiment, mode: str, saved_replications: bool = False) -> None:
    """Check ``exp``'s folder against ``mode`` and find the replications already done. Reads only.

    ``new``: the folder must not exist. ``resume``: it must exist. ``reuse``: either. An existing folder
    must hold the same resolved scenario, root seed and kind of output, or resuming is refused: results
    of two different experiments must never mix. With ``saved_replications`` (a resume that names no
    count) the experiment runs to the count its folder was started with.
    """
    folder = exp.folder
    if not folder.exists():
        if mode == RESUME:
            raise UserError.single(None, "--resume", f"nothing to resume: '{folder}' does not exist")
        exp.fresh = True
        return
    exp.fresh = False  # planned again after a batch made it (more replications of the same experiment)
    if not folder.is_dir():
        raise UserError.single(str(folder), "--out", "is a file, not a results folder")
    if mode == NEW:
        raise UserError.single(
            None,
            "--out",
            f"'{folder}' already exists; choose another --out or --label, or add --resume to finish it",
        )
    manifest = read_manifest(folder)
    if manifest is None or not (folder / SCENARIO_FILE).is_file():
        raise UserError.single(None, "--resume", f"'{folder}' is not a run folder (no manifest or scenario)")
    saved = load_scenario(folder / SCENARIO_FILE).scenario
    if saved.model_dump(mode="json") != exp.scenario.model_dump(mode="json"):
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
    saved_derived = sorted(set(manifest.get("tables") or ()) - {*TABLES, METRICS})
    if saved_derived != sorted(exp.derive.names if exp.derive is not None else ()):
        kept = ", ".join(saved_derived) or "no derived tables"
        raise UserError.single(None, "--resume", f"'{folder}' keeps {kept}; run into a new folder instead")
    exp.previous = manifest
    if saved_replications and "replications" in manifest:
        exp.replications = int(manifest["replications"])
    exp.done = done_replications(folder)
    # a replication whose files were cut short (a full disk, a copy interrupted) is not done: rerun it
    names = exp.kept
    for rep in sorted(exp.done):
        bad = damaged_files(folder, rep, names)
        if bad:
            exp.damaged[rep] = bad
            exp.done.discard(rep)
    known = manifest.get("replication_info", {})
    # a replication finished just before a hard stop has files but no manifest entry yet
    exp.info = {r: known.get(str(r)) or {"trucks": _trucks_in_files(exp, r)} for r in exp.done}


def _trucks_in_files(exp: Experiment, rep: int) -> int | None:
    """Truck count of a replication finished before its manifest entry was written (a hard kill)."""
    path = table_file(exp.folder, "trucks", rep)
    return pq.read_metadata(path).num_rows if path.is_file() else None


def _write_manifest(exp: Experiment, run: dict[str, Any]) -> None:
    failed = [
        {"replication": f.replication, "seed": f.seed, "error": f.error, "details": str(f.details)}
        for f in exp.failed.values()
    ]
    info = {r: exp.info[r] for r in sorted(exp.done) if r in exp.info}
    manifest = run_manifest(
        exp.loaded,
        root_seed=exp.root_seed,
        replications=exp.replications,
        done=exp.done,
        failed=failed,
        keep_tables=exp.keep_tables,
        tables=exp.kept,
        info=info,
        run=run,
        previous=exp.previous,
        about=exp.about,
    )
    write_manifest(exp.folder, manifest)


def _open(exp: Experiment, run: dict[str, Any], locks: ExitStack) -> None:
    """Create or open the folder, lock it (one writer at a time), and write the scenario and manifest."""
    locks.enter_context(folder_lock(exp.folder, fresh=exp.fresh))
    with store_errors(exp.folder):
        remove_partial_files(exp.folder)
        for rep in exp.damaged:  # no longer marked done, whatever happens to its rerun
            table_file(exp.folder, METRICS, rep).unlink(missing_ok=True)
    if not (exp.folder / SCENARIO_FILE).exists():
        for name, text in resolved_files(exp.loaded).items():  # the state's rows beside it, if any
            if name != SCENARIO_FILE:
                write_text_atomic(exp.folder / name, text)
        write_text_atomic(exp.folder / SCENARIO_FILE, resolved_files(exp.loaded)[SCENARIO_FILE])
    _write_manifest(exp, run)


def _record(exp: Experiment, outcome: Outcome) -> None:
    outcome.raise_problems()  # a full disk in a worker: the command stops with the path and reason
    rep = outcome.replication
    errors = exp.folder / "errors" / f"rep-{rep:04d}.txt"
    if outcome.failed:
        details = None
        if outcome.details:
            write_bytes_atomic(errors, outcome.details.encode("utf-8"))
            details = str(errors)
        seed = seed_text(exp.root_seed, rep)
        exp.failed[rep] = Failure(exp.scenario.name, rep, exp.root_seed, seed, outcome.error or "", details)
        return
    if outcome.metrics is not None:  # the worker could not write into our folder
        write_replication(exp.folder, rep, outcome.tables, outcome.metrics, outcome.derived)
    with store_errors(errors):
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
    run["finished"] = now()
    _write_manifest(exp, run)
    errors = exp.folder / "errors"
    if errors.is_dir() and not any(errors.iterdir()):
        with store_errors(errors):
            errors.rmdir()
    if exp.complete:
        exp.summary = mark_unstable(summary_of(exp.metrics(), exp.scenario))
        write_csv_atomic(exp.folder / SUMMARY, exp.summary)


def run_experiments(
    experiments: Sequence[Experiment],
    backend: Backend,
    argv: Sequence[str] = (),
    on_done: Callable[[int], None] | None = None,
    on_start: Callable[[], None] | None = None,
    on_running: Callable[[int, float], None] | None = None,
    on_disk: Callable[[float, int | None], None] | None = None,
) -> list[Failure]:
    """Run every missing replication of ``experiments`` (already :func:`plan`\\ ned) on ``backend``.

    Replication-major order (replication 0 of every experiment first) so that an interrupted comparison
    still has complete pairs. ``on_start()`` is called once the workers are reachable, before anything is
    written; ``on_done(i)`` as each replication of experiment ``i`` ends; ``on_running(i, x)`` as its
    running replications report progress (``x``: how many replications' worth of them is done);
    ``on_disk(bytes, free)`` once with the disk estimate of the missing replications and the free space
    (a study that would not fit is refused here, before a worker starts: :mod:`sim.store.space`).
    Returns the failures; finished replications are kept whatever happens, and an interrupt
    (KeyboardInterrupt) is re-raised after the manifests say what is done.
    """
    fail = failing_replications()
    pairs = [
        (i, rep)
        for rep in range(max((e.replications for e in experiments), default=0))
        for i, e in enumerate(experiments)
        if rep < e.replications and rep not in e.done
    ]
    if not pairs:
        if on_start is not None:
            on_start()
        for exp in experiments:  # resumed after its last replication had finished: say it is complete
            if exp.previous is not None and not exp.previous.get("complete"):
                with folder_lock(exp.folder):
                    _finish(exp, {"command": list(argv), "started": now(), "replications_run": 0})
        return []
    active = sorted({i for i, _ in pairs})
    need = sum(
        disk_bytes(
            experiments[i].scenario,
            sum(1 for j, _ in pairs if j == i),
            experiments[i].keep_tables,
            folders=1 if experiments[i].fresh else 0,
        )
        for i in active
    )
    free = check_space(experiments[active[0]].folder, need)  # refused before a worker starts
    if on_disk is not None:
        on_disk(need, free)
    run: dict[str, Any] = {
        "command": list(argv),
        "started": now(),
        "backend": backend.describe(),
        "replications_run": len(pairs),
    }
    tasks = [
        Task(
            experiments[i].scenario,
            experiments[i].root_seed,
            rep,
            str(experiments[i].folder) if backend.shared_filesystem else None,
            experiments[i].keep_tables,
            experiments[i].derive,
            fail=rep in fail,
        )
        for i, rep in pairs
    ]

    opened: list[int] = []  # experiments whose folder this command has locked and may write into
    locks = ExitStack()

    def started() -> None:
        if on_start is not None:
            on_start()
        for i in active:
            _open(experiments[i], run, locks)
            opened.append(i)

    running: dict[int, float] = {}  # task -> fraction of its horizon simulated, while it runs

    def report_running(i: int) -> None:
        if on_running is not None:
            on_running(i, sum(f for k, f in running.items() if pairs[k][0] == i))

    def progressed(k: int, fraction: float) -> None:
        running[k] = fraction
        report_running(pairs[k][0])

    written: dict[int, float] = {}  # when each experiment's manifest was last written

    def collect(k: int, outcome: Outcome) -> None:
        i = pairs[k][0]
        _record(experiments[i], outcome)
        # at most once a MANIFEST_EVERY seconds (a manifest is O(R), so one per replication would make an
        # experiment quadratic in R); the end and an interrupt always write it, and a resume after a hard
        # stop finds finished replications from their files
        if outcome.failed or time.monotonic() - written.get(i, -math.inf) >= MANIFEST_EVERY:
            _write_manifest(experiments[i], run)
            written[i] = time.monotonic()
        running.pop(k, None)
        if on_done is not None:
            on_done(i)
        report_running(i)  # after the count went up: a monitor clips the brief overlap at its total

    with locks:
        try:
            run_tasks(
                tasks, backend, collect, on_start=started, on_progress=progressed if on_running else None
            )
        except BaseException:
            run["interrupted"] = True
            for i in opened:
                # the pool is stopped by now: a worker ended mid-write may have left a temporary file
                # beside the tables; take it away (a later --resume would too), then say what is done
                with suppress(OSError):
                    remove_partial_files(experiments[i].folder)
                with suppress(UserError):  # a full disk must not hide the interrupt
                    _write_manifest(experiments[i], run)
            raise
        for i in active:
            _finish(experiments[i], run)
    return [f for e in experiments for f in e.failed.values()]
