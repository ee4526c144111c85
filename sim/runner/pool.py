"""The one loop that hands tasks to workers and collects their outcomes.

Experiments (run, compare, sweep) and reducing studies (calibration, history) all go through
:func:`run_tasks`, so every replication anywhere gets the same treatment: the same backends, a failure
reported by replication and seed instead of an exception that discards the others, a dead worker turned
into a failed replication, and Ctrl-C honoured at once (outstanding work dropped, the interrupt re-raised
after the caller has recorded what finished).
"""

from __future__ import annotations

import dataclasses
import queue as queues
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass

from sim.model.records import Tables
from sim.runner.backends import Backend, executor, progress_queue, workers_started
from sim.runner.tasks import Outcome, Reducer, Task, failing_replications, run_task
from sim.scenario import Scenario
from sim.store.manifest import seed_text


@dataclass
class Failure:
    """A replication that did not finish: where, which seed, and what went wrong."""

    scenario: str
    replication: int
    root_seed: int
    seed: str
    error: str
    details: str | None = None  # a path to the saved worker traceback, or the traceback itself


class ReplicationsFailed(Exception):
    """Some replications of a reducing study failed; the study cannot give its answer without them."""

    def __init__(self, failures: Sequence[Failure]):
        super().__init__(f"{len(failures)} replication(s) failed")
        self.failures = list(failures)


DIED_RUNNING = "its worker process died (killed, or out of memory?)"
DIED_STARTING = (
    "the worker processes stopped while starting, before any replication ran (no replication failed): "
    "the worker's own error is printed above"
)


def _outcome(future: Future[Outcome], replication: int, started: bool | None = None) -> Outcome:
    """The outcome of a future, with a lost worker turned into a failure of its replication: blamed on
    the start-up when no worker ever got through it (``started`` False), else on the worker's death."""
    try:
        return future.result()
    except BrokenProcessPool:
        return Outcome(replication, error=DIED_STARTING if started is False else DIED_RUNNING)
    except CancelledError:
        return Outcome(replication, error="cancelled")
    except Exception as exc:  # a worker lost by Dask, an unpicklable result, ...
        return Outcome(replication, error=f"{type(exc).__name__}: {exc}", details=traceback.format_exc())


def _submit(ex: Executor, task: Task) -> Future[Outcome]:
    """Submit a task; a pool that broke (a worker died) gives a failed future, reported like the rest."""
    try:
        return ex.submit(run_task, task)
    except BrokenProcessPool as exc:
        future: Future[Outcome] = Future()
        future.set_exception(exc)
        return future


PROGRESS_POLL_S = 0.5  # how often the parent looks at the workers' progress reports


def run_tasks(
    tasks: Sequence[Task],
    backend: Backend,
    on_outcome: Callable[[int, Outcome], None],
    on_start: Callable[[], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    pool: Executor | None = None,
) -> None:
    """Run ``tasks`` on ``backend``; ``on_outcome(k, outcome)`` as task k ends, in completion order.

    ``on_start()`` is called once the workers are reachable, before any task is submitted (callers write
    nothing before a backend is known to work). ``on_progress(k, fraction)`` is called as a running task
    reports how much of its horizon it has simulated (local workers only). An interrupt stops the workers
    and is re-raised. ``pool`` (an open :func:`~sim.runner.backends.executor`) runs them on workers kept
    between calls: a study that runs many small batches in turn (``assimilate``'s segments) starts its
    workers once, not once a batch.
    """
    reports = progress_queue(backend) if on_progress is not None and pool is None else None
    with nullcontext(pool) if pool is not None else executor(backend, len(tasks), reports) as ex:
        if on_start is not None:
            on_start()
        futures = {_submit(ex, dataclasses.replace(task, key=k)): k for k, task in enumerate(tasks)}
        pending = set(futures)
        finished: set[int] = set()
        while pending:
            done, pending = wait(pending, timeout=PROGRESS_POLL_S, return_when=FIRST_COMPLETED)
            finished.update(futures[f] for f in done)
            _drain(reports, on_progress, finished)
            for future in done:
                k = futures[future]
                on_outcome(k, _outcome(future, tasks[k].replication, workers_started(ex)))


def _drain(
    reports: object | None, on_progress: Callable[[int, float], None] | None, finished: set[int]
) -> None:
    """Pass on the latest progress report of each running task (a finished task's are stale)."""
    if reports is None or on_progress is None:
        return
    latest: dict[int, float] = {}
    while True:
        try:
            k, fraction = reports.get_nowait()  # type: ignore[attr-defined]
        except (queues.Empty, OSError, ValueError):
            break
        latest[k] = fraction
    for k, fraction in latest.items():
        if k not in finished:
            on_progress(k, fraction)


def reduce_replications(
    scenario: Scenario,
    root_seed: int,
    replications: int,
    reduce: Callable[[Tables, Scenario], object],
    backend: Backend,
    on_done: Callable[[], None] | None = None,
) -> list[object]:
    """``reduce(tables, scenario)`` of replications 0..R-1 of ``scenario``, in replication order.

    Raises :class:`ReplicationsFailed` naming every replication that failed (after the others finished).
    """
    fail = failing_replications()
    tasks = [Task(scenario, root_seed, r, reduce=reduce, fail=r in fail) for r in range(replications)]
    values: list[object] = [None] * replications
    failures: list[Failure] = []

    def collect(k: int, outcome: Outcome) -> None:
        outcome.raise_problems()
        if outcome.failed:
            failures.append(
                Failure(
                    scenario.name, k, root_seed, seed_text(root_seed, k), outcome.error or "", outcome.details
                )
            )
        else:
            values[k] = outcome.value
        if on_done is not None:
            on_done()

    run_tasks(tasks, backend, collect)
    if failures:
        raise ReplicationsFailed(sorted(failures, key=lambda f: f.replication))
    return values


__all__ = ["Failure", "Reducer", "ReplicationsFailed", "reduce_replications", "run_tasks"]
