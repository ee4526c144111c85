"""What the studies share: checks of counts, and running experiments with a monitor and interrupts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sim.errors import Interrupted, UserError
from sim.runner.backends import Backend, check_backend
from sim.runner.experiment import Experiment, Failure, run_experiments
from sim.runner.progress import Bar, Monitor, Silent
from sim.scenario import LoadedScenario
from sim.scenario.size import check_size


def check_counts(replications: int | None, seed: int | None, least: int = 1) -> None:
    """Refuse a replication count below ``least`` or a negative seed (a UserError naming the option)."""
    if replications is not None and replications < least:
        why = " (a confidence interval needs two)" if least == 2 else ""
        raise UserError.single(None, "--replications", f"must be at least {least}{why} (got {replications})")
    if seed is not None and seed < 0:
        raise UserError.single(None, "--seed", f"must be a non-negative integer (got {seed})")


def check_sizes(loaded: Sequence[LoadedScenario], max_trucks: int | None = None) -> None:
    """Refuse scenarios whose replications would be too large to run (see sim.scenario.size)."""
    for ld in loaded:
        check_size(ld.scenario, max_trucks, str(ld.path))


def backend_or_default(backend: Backend | None) -> Backend:
    """The backend asked for, or local worker processes on every core."""
    return backend if backend is not None else check_backend(None, None)


@contextmanager
def interrupt_hint(hint: str) -> Iterator[None]:
    """Turn Ctrl-C into :class:`Interrupted` carrying what the user should do next."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: finished replications are kept. {hint}") from None


def run_with_monitor(
    experiments: Sequence[Experiment],
    backend: Backend,
    bars: Sequence[tuple[str, Sequence[int]]],
    monitor: Monitor | None,
    argv: Sequence[str],
    on_start: Callable[[], None] | None = None,
) -> list[Failure]:
    """Run the experiments; ``bars`` gives each progress bar's title and the experiments it counts."""
    monitor = monitor or Silent()
    owner: dict[int, int] = {}
    described = []
    for k, (title, members) in enumerate(bars):
        total = sum(experiments[i].replications for i in members)
        done = sum(experiments[i].finished for i in members)
        described.append(Bar(title, total, done))
        owner.update({i: k for i in members})
    monitor.begin(described)
    running = [0.0] * len(experiments)  # replications' worth of running work done, per experiment
    show_running = getattr(monitor, "running", None)  # a monitor may count finished replications only

    def on_running(i: int, replications: float) -> None:
        running[i] = replications
        bar = owner[i]
        show_running(bar, sum(running[j] for j in bars[bar][1]))  # type: ignore[misc]

    return run_experiments(
        experiments,
        backend,
        argv=argv,
        on_done=lambda i: monitor.advance(owner[i]),
        on_start=on_start,
        on_running=on_running if show_running is not None else None,
    )
