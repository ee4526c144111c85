"""Where replications run: local worker processes by default, a Dask cluster on request.

Both are driven through the same ``concurrent.futures.Executor`` interface (Dask's
``Client.get_executor()`` offers one), so the experiment runner has one code path and no scheduler of its
own. Dask is an optional extra (``pip install -e .[dask]``) and is imported only when asked for.

Local workers come from the ``forkserver`` start method where the platform has it (``spawn`` elsewhere):
unlike ``fork`` it is safe while the parent runs threads (the progress bar), and preloading the package in
the fork server keeps a worker's start-up to a fraction of a second. Workers ignore Ctrl-C: the parent
alone decides what an interrupt means (stop handing out work, stop the workers, keep what finished); a
SIGTERM to the parent means the same. Workers and the fork server end when the parent ends, even by
SIGKILL (:mod:`sim.runner.lifetime`).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from sim.errors import UserError
from sim.runner.lifetime import worker_started

LOCAL = "local"


@dataclass(frozen=True)
class Backend:
    """How to run replications: ``jobs`` local worker processes, or a Dask cluster.

    ``dask`` is None (local process pool), ``"local"`` (a Dask LocalCluster of ``jobs`` single-threaded
    worker processes) or a scheduler address such as ``tcp://scheduler:8786``.
    """

    jobs: int
    dask: str | None = None

    @property
    def shared_filesystem(self) -> bool:
        """Whether workers can write into the results folder themselves.

        True on this machine; a remote cluster's workers may not see our disk, so they send their tables
        back and the parent writes them.
        """
        return self.dask is None or self.dask == LOCAL

    def describe(self) -> str:
        """Where the replications run, in words (for progress and --verbose)."""
        if self.dask is None:
            return f"{self.jobs} local worker process(es)"
        if self.dask == LOCAL:
            return f"Dask LocalCluster of {self.jobs} worker(s)"
        return f"Dask cluster at {self.dask}"


def default_jobs() -> int:
    """Worker processes when none are asked for: one per core."""
    return os.cpu_count() or 1


def check_backend(jobs: int | None, dask: str | None) -> Backend:
    """Validate the command-line choice of backend (a mistake is a UserError, before anything runs)."""
    if jobs is not None and jobs < 1:
        raise UserError.single(None, "--jobs", f"must be at least 1 (got {jobs})")
    if dask is not None and dask != LOCAL and "://" not in dask:
        raise UserError.single(
            None, "--dask", f"expected 'local' or a scheduler address like tcp://host:8786 (got '{dask}')"
        )
    return Backend(jobs or default_jobs(), dask)


class Terminated(KeyboardInterrupt):
    """SIGTERM received: handled exactly like Ctrl-C (stop the workers, keep what finished)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread, so
    a ``kill`` keeps finished replications and says how to resume, as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start_worker(command_pid: int, progress: object | None, ready: object | None = None) -> None:
    """A local worker's initializer: :func:`worker_started` (ignore Ctrl-C, end with the command), then
    report progress into the parent's queue (if any), then say it is up (``ready``: an Event). A worker
    runs this only after it has imported the command's main module, so a pool that breaks before any
    worker is up broke at start-up (a script without a main guard), not from memory."""
    worker_started(command_pid)
    from sim.runner.tasks import report_progress_to

    report_progress_to(progress)
    if ready is not None:
        ready.set()  # type: ignore[attr-defined]


def workers_started(ex: Executor) -> bool | None:
    """Whether any worker of a local pool got through its start-up (None: not known, e.g. Dask)."""
    ready = getattr(ex, READY_ATTRIBUTE, None)
    return None if ready is None else bool(ready.is_set())


READY_ATTRIBUTE = "_bordersim_ready"


def progress_queue(backend: Backend) -> object | None:
    """A queue local workers can report progress into (None for Dask: its workers report only at the end)."""
    return _context().Queue() if backend.dask is None else None


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While a worker process starts, make the parent's ``__main__`` look like an interactive session.

    The spawn and forkserver start methods re-import the parent's main script in every worker (to find
    functions defined there). Ours run only this package's functions, so they never need it, and the
    re-import does harm: a script that calls ``sim.run(...)`` at top level, without an
    ``if __name__ == "__main__":`` guard, would run again in each worker and fail there, and
    ``python - <<EOF`` has no file to import at all. Hiding ``__file__`` and ``__spec__`` for the moment
    ``multiprocessing`` reads them (its ``spawn.get_preparation_data``) leaves the workers without the
    main module, as for a notebook or a REPL, whatever started the parent."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)
        if "__spec__" not in saved:
            del main.__spec__


class _ForkServerWorker(multiprocessing.context.ForkServerProcess):
    """A fork-server worker that starts without the parent's main module (see _main_module_hidden)."""

    @staticmethod
    def _Popen(process_obj):  # type: ignore[no-untyped-def]
        with _main_module_hidden():
            return multiprocessing.context.ForkServerProcess._Popen(process_obj)


class _SpawnWorker(multiprocessing.context.SpawnProcess):
    """A spawned worker that starts without the parent's main module (see _main_module_hidden)."""

    @staticmethod
    def _Popen(process_obj):  # type: ignore[no-untyped-def]
        with _main_module_hidden():
            return multiprocessing.context.SpawnProcess._Popen(process_obj)


class _ForkServerContext(multiprocessing.context.ForkServerContext):
    Process = _ForkServerWorker


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnWorker


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = _ForkServerContext()
        # sim.runner.lifetime makes the fork server die with this process (see there)
        ctx.set_forkserver_preload(["sim.runner.lifetime", "sim.runner.tasks"])
        if threading.current_thread() is threading.main_thread():
            # start it from the main thread: its death signal follows the thread that started it
            multiprocessing.forkserver.ensure_running()
        return ctx
    return _SpawnContext()


def _stop_local(pool: ProcessPoolExecutor) -> None:
    """Stop a local pool now: cancel queued work and end the running workers (an interrupt, to be
    honoured without waiting for long replications whose results nobody will collect)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Before 3.14 there is no public way; shutdown() forgets the processes, so take them first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


@contextmanager
def executor(backend: Backend, tasks: int, progress: object | None = None) -> Iterator[Executor]:
    """An executor for ``tasks`` replications; on leaving with an exception, outstanding work is dropped.

    ``progress`` (from :func:`progress_queue`) is handed to local workers for their progress reports."""
    if backend.dask is None:
        context = _context()
        ready = context.Event()
        pool = ProcessPoolExecutor(
            max_workers=max(1, min(backend.jobs, tasks)),
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(), progress, ready),
        )
        setattr(pool, READY_ATTRIBUTE, ready)
        with sigterm_as_interrupt():
            try:
                yield pool
            except BaseException:
                _stop_local(pool)
                raise
            pool.shutdown(wait=True)
        return
    with sigterm_as_interrupt(), _dask_client(backend) as client:
        dask_executor = client.get_executor(pure=False)  # pure=False: equal arguments still run again
        try:
            yield dask_executor
        except BaseException:
            dask_executor.shutdown(wait=False)
            raise
        dask_executor.shutdown(wait=True)


@contextmanager
def _dask_client(backend: Backend) -> Iterator[object]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError.single(
            None, "--dask", "Dask is not installed; install the optional extra: pip install -e '.[dask]'"
        ) from None
    if backend.dask == LOCAL:
        with _main_module_hidden():  # Dask's nannies spawn their workers like ours (see there)
            cluster = LocalCluster(
                n_workers=backend.jobs,
                threads_per_worker=1,  # SimPy holds the GIL: parallelism comes from processes
                processes=True,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,  # a failed replication is reported once, by us
            )
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(backend.dask, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UserError.single(
            None, "--dask", f"cannot reach the Dask scheduler at {backend.dask}: {exc}"
        ) from None
    with client:
        yield client
