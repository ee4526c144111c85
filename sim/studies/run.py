"""The run study: R replications of one scenario into a run folder, summarised with 95% intervals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.metrics import summary_of
from sim.analysis.stability import mark_unstable
from sim.errors import UserError
from sim.model.size import estimate
from sim.runner.experiment import NEW, RESUME, Experiment, Failure, plan
from sim.scenario import LoadedScenario, Scenario
from sim.store.layout import run_folder
from sim.studies.common import check_sizes, interrupt_hint, resume_hint, run_with_monitor
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions, load_source
from sim.studies.registry import Replications, Setting, Study


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


def run_scenario(source: ScenarioSource, options: StudyOptions = DEFAULTS) -> RunResult:
    """Run replications of ``source`` into ``options.out`` (default ``<root>/<scenario>/<label or time>``).

    Replication k uses the k-th seed of ``SeedSequence(seed)``; with ``options.resume`` only the
    replications missing from the folder run. Mistakes raise :class:`UserError` before anything is written.
    """
    loaded = load_source(source, options.overrides)
    s = loaded.scenario
    options.check_replications()
    check_sizes([loaded], options.max_trucks, options.replications)
    backend = options.resolved_backend()
    if options.resume and options.out is None and options.label is None:
        raise UserError.single(None, "--resume", "needs --label or --out naming the run folder to finish")
    folder = options.out or run_folder(options.root, s.name, options.label)
    exp = Experiment(loaded, folder, options.root_seed(s), options.replications_for(s))
    plan(exp, RESUME if options.resume else NEW, saved_replications=options.replications is None)
    hint = resume_hint("run", loaded, options, folder)
    with interrupt_hint(hint):
        failures = run_with_monitor([exp], backend, [(s.name, [0])], options.monitor, options.argv)
    summary = None if failures else exp.summary
    if summary is None and not failures:  # resumed after its last replication: nothing ran, nothing summed
        summary = mark_unstable(summary_of(exp.metrics(), s))
    return RunResult(folder, s, exp.replications, exp, failures, summary, hint)


def expected_trucks(loaded: LoadedScenario) -> float:
    """The trucks a replication of ``loaded`` is expected to hold (its arrival rates over its horizon),
    for the page's estimate of a job's size."""
    return estimate(loaded.scenario).trucks


STUDY = Study(
    name="run",
    help="run replications of a scenario and write their results",
    order=10,
    function=run_scenario,
    source=Setting("source", "path", "scenario YAML file", flag="", metavar="scenario"),
    shared=("seed", "parallel", "overrides", "root", "format", "out", "label", "resume", "max_trucks"),
    replications=Replications(None, per="number of replications"),
)
