"""What the studies share: checks of counts, and running experiments with a monitor and interrupts."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sim.errors import Interrupted, UserError
from sim.model.size import check_replications, check_size
from sim.runner.backends import Backend
from sim.runner.experiment import Experiment, Failure, run_experiments
from sim.runner.progress import Bar, Monitor, Silent
from sim.scenario import LoadedScenario
from sim.store.lock import LOCK_FILE
from sim.store.manifest import read_manifest
from sim.studies.options import StudyOptions


def check_sizes(
    loaded: Sequence[LoadedScenario], max_trucks: int | None = None, replications: int | None = None
) -> None:
    """Refuse scenarios whose replications would be too large to run, or too many replications of them
    (see sim.model.size), before anything is written or started."""
    for ld in loaded:
        check_size(ld.scenario, max_trucks, str(ld.path))
        reps = ld.scenario.run.replications if replications is None else replications
        check_replications(ld.scenario, reps, max_trucks, str(ld.path))


def resume_hint(
    command: str, loaded: LoadedScenario, options: StudyOptions, folder: Path, extra: Sequence[str] = ()
) -> str:
    """The exact command that finishes a run cut short: the scenario, every ``--set``, the seed and the
    replications as given, then ``--out FOLDER --resume`` (a hint that leaves out a ``--set`` would be
    refused, since the resumed scenario must be the same)."""
    words = ["bordersim", command, str(loaded.path), *extra]
    for assignment in options.overrides:
        words += ["--set", assignment]
    if options.seed is not None:
        words += ["--seed", str(options.seed)]
    if options.replications is not None:
        words += ["--replications", str(options.replications)]
    words += ["--out", str(folder), "--resume"]
    return "Run the missing ones with: " + shlex.join(words)


def rerun_hint(argv: Sequence[str], folder: Path) -> str:
    """The command that finishes a study cut short: the command as typed, with ``--out FOLDER`` added
    when it named no folder (a study named by the time it started would otherwise start afresh in a
    new folder); from Python (no command), the ``out=`` to give."""
    words = list(argv[1:])
    if not words:
        return f"Run the same study again with out={str(folder)!r}: finished replications are reused."
    named = ("--out", "--label")
    if not any(w in named or w.startswith(tuple(f"{n}=" for n in named)) for w in words):
        words += ["--out", str(folder)]
    return "Run it again to reuse the finished replications: " + shlex.join(["bordersim", *words])


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
        on_disk=getattr(monitor, "disk", None),  # the estimate stated before anything runs
    )


def refuse_other_study(folder: Path, kind: str, settings: dict[str, object]) -> None:
    """Refuse to write a study into a folder that holds another study: a reused ``--label`` with other
    settings would overwrite the first study's table and manifest, and a folder of other files (no
    manifest) is the user's own. The same study again is welcome (its finished points are reused)."""
    earlier = read_manifest(folder)
    if earlier is None:
        others = sorted(p.name for p in folder.iterdir() if p.name != LOCK_FILE) if folder.is_dir() else []
        if others:  # the user's own folder, or a run's tables: never written into
            raise UserError.single(
                str(folder),
                "--out",
                f"already holds files that are not a {kind} study's ({', '.join(others[:3])}"
                f"{', ...' if len(others) > 3 else ''}): choose another --out or --label",
            )
        return
    differs = [k for k, v in settings.items() if earlier.get(k) != v]
    if earlier.get("kind") != kind or differs:
        what = earlier.get("kind", "another study")
        which = ", ".join(f"{k} {earlier.get(k)!r}" for k in differs) or f"kind {what!r}"
        raise UserError.single(
            str(folder),
            "--label",
            f"holds a {what} study with other settings ({which}): choose another --label or --out",
        )
