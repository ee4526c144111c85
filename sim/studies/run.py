"""The run study: R replications of one scenario into a run folder, summarised with 95% intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.metrics import summary_of
from sim.analysis.stability import mark_unstable
from sim.errors import UserError
from sim.runner.backends import Backend
from sim.runner.experiment import NEW, RESUME, Experiment, Failure, plan
from sim.runner.progress import Monitor
from sim.scenario import Scenario, load_scenario
from sim.store.layout import DEFAULT_ROOT, run_folder
from sim.studies.common import (
    backend_or_default,
    check_counts,
    check_sizes,
    interrupt_hint,
    run_with_monitor,
)


@dataclass
class RunResult:
    """A finished (or partly failed) run: where it is, its scenario and its summary across replications."""

    folder: Path
    scenario: Scenario
    replications: int
    experiment: Experiment
    failures: list[Failure]
    summary: pd.DataFrame | None  # None when replications failed
    resume_hint: str

    @property
    def trucks(self) -> int:
        """Trucks simulated over all replications."""
        return self.experiment.trucks()


def run_scenario(
    scenario: str | Path,
    *,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    replications: int | None = None,
    out: Path | None = None,
    label: str | None = None,
    resume: bool = False,
    backend: Backend | None = None,
    root: Path = DEFAULT_ROOT,
    monitor: Monitor | None = None,
    argv: Sequence[str] = (),
    max_trucks: int | None = None,
) -> RunResult:
    """Run replications of ``scenario`` into ``out`` (default ``<root>/<scenario>/<label or time>``).

    Replication k uses the k-th seed of ``SeedSequence(seed)``; with ``resume`` only the replications
    missing from the folder run. Mistakes raise :class:`UserError` before anything is written.
    """
    loaded = load_scenario(scenario, overrides)
    s = loaded.scenario
    check_counts(replications, seed)
    check_sizes([loaded], max_trucks)
    backend = backend_or_default(backend)
    if resume and out is None and label is None:
        raise UserError.single(None, "--resume", "needs --label or --out naming the run folder to finish")
    root_seed = s.run.seed if seed is None else seed
    folder = out or run_folder(root, s.name, label)
    exp = Experiment(loaded, folder, root_seed, replications or s.run.replications)
    plan(exp, RESUME if resume else NEW)
    if resume and replications is None and exp.previous:
        exp.replications = int(exp.previous.get("replications", exp.replications))
    hint = f"Run the missing ones with the same command plus --out {folder} --resume."
    with interrupt_hint(hint):
        failures = run_with_monitor([exp], backend, [(s.name, [0])], monitor, argv)
    summary = None if failures else mark_unstable(summary_of(exp.metrics(), s))
    return RunResult(folder, s, exp.replications, exp, failures, summary, hint)
