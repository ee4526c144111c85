"""The one loop that hands tasks to workers and collects their outcomes.

Experiments (run, compare, sweep) and reducing studies (calibration, history) all go through
:func:`run_tasks`, so every replication anywhere gets the same treatment: the same backends, a failure
reported by replication and seed instead of an exception that discards the others, a dead worker turned
into a failed replication, and Ctrl-C honoured at once (outstanding work dropped, the interrupt re-raised
after the caller has recorded what finished).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Executor, Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from sim.model.records import Tables
from sim.runner.backends import Backend, executor
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


def _submit(ex: Executor, task: Task) -> Future[Outcome]:
    """Submit a task; a pool that broke (a worker died) gives a failed future, reported like the rest."""
    try:
        return ex.submit(run_task, task)
    except BrokenProcessPool as exc:
        future: Future[Outcome] = Future()
        future.set_exception(exc)
        return future


def run_tasks(
    tasks: Sequence[Task],
    backend: Backend,
    on_outcome: Callable[[int, Outcome], None],
    on_start: Callable[[], None] | None = None,
) -> None:
    """Run ``tasks`` on ``backend``; ``on_outcome(k, outcome)`` as task k ends, in completion order.

    ``on_start()`` is called once the workers are reachable, before any task is submitted (callers write
    nothing before a backend is known to work). An interrupt stops the workers and is re-raised.
    """
    with executor(backend, len(tasks)) as ex:
        if on_start is not None:
            on_start()
        futures = {_submit(ex, task): k for k, task in enumerate(tasks)}
        for future in as_completed(futures):
            k = futures[future]
            on_outcome(k, _outcome(future, tasks[k].replication))


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
