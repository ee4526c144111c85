"""The compare study: policies against a base under common random numbers, with paired differences.

Every scenario runs with the same root seed and replications 0..R-1, so replication k of each meets the
same trucks with the same draws; a scenario already run with the same resolved scenario, seed and model
code is reused, not rerun; a scenario given twice runs once.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.analysis.compare import comparison, markdown
from sim.runner.backends import Backend
from sim.runner.experiment import REUSE, Experiment, Failure, plan
from sim.runner.progress import Monitor
from sim.scenario import LoadedScenario, load_scenario
from sim.scenario.loader import default_name
from sim.store.atomic import write_csv_atomic, write_text_atomic
from sim.store.layout import (
    COMPARISON,
    DEFAULT_ROOT,
    compare_folder,
    crn_folder,
    finished_run,
    remove_figures,
)
from sim.store.lock import folder_lock
from sim.store.manifest import comparison_manifest, scenario_digest, write_manifest
from sim.studies.common import (
    backend_or_default,
    check_counts,
    check_sizes,
    interrupt_hint,
    run_with_monitor,
)

DEFAULT_REPLICATIONS = 10
RERUN_HINT = "Run the same command again to run only the missing replications."


@dataclass
class ComparisonResult:
    """A comparison: the scenarios' names (base first), the tidy comparison table and where it is."""

    folder: Path
    names: list[str]
    replications: int
    root_seed: int
    table: pd.DataFrame | None  # None when replications failed
    experiments: list[Experiment]
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things the user should know about the inputs
    resume_hint: str = RERUN_HINT


def display_names(loaded: Sequence[LoadedScenario], paths: Sequence[Path]) -> list[str]:
    """Scenario names, or file names where two scenarios share a name; '-2', '-3' for repeats."""
    names = [ld.scenario.name for ld in loaded]
    if len(set(names)) < len(names):
        names = [default_name(Path(p)) for p in paths]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def _notes(names: list[str], loaded: list[LoadedScenario]) -> list[str]:
    base_file = loaded[0].files[0]
    notes = []
    for name, ld in zip(names[1:], loaded[1:], strict=True):
        if base_file not in ld.files:  # a difference would then mix the policy with everything else
            chain = " -> ".join(f.name for f in ld.files)
            notes.append(
                f"{name} does not extend {base_file.name} ({chain}): its differences from the base include "
                "whatever else differs between the two files"
            )
    return notes


def compare_policies(
    base: str | Path,
    policies: Sequence[str | Path],
    *,
    overrides: Sequence[str] = (),
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    out: Path | None = None,
    backend: Backend | None = None,
    root: Path = DEFAULT_ROOT,
    monitor: Monitor | None = None,
    argv: Sequence[str] = (),
    max_trucks: int | None = None,
) -> ComparisonResult:
    """Run (or reuse) the base and each policy, then write and return their paired comparison."""
    check_counts(replications, seed, least=2)
    backend = backend_or_default(backend)
    paths = [Path(base), *map(Path, policies)]
    loaded = [load_scenario(p, overrides) for p in paths]
    check_sizes(loaded, max_trucks)
    names = display_names(loaded, paths)
    root_seed = loaded[0].scenario.run.seed if seed is None else seed

    experiments: list[Experiment] = []
    which: list[int] = []  # the experiment of each name (a scenario given twice runs once)
    by_digest: dict[str, int] = {}
    for ld in loaded:
        digest = scenario_digest(ld.scenario)
        if digest not in by_digest:
            folder = finished_run(root, ld.scenario.name, digest, root_seed, replications)
            folder = folder or crn_folder(root, ld.scenario.name, root_seed, digest)
            by_digest[digest] = len(experiments)
            experiments.append(Experiment(ld, folder, root_seed, replications))
        which.append(by_digest[digest])
    for exp in experiments:
        plan(exp, REUSE)
    folder = out or compare_folder(root, names)

    bars = [(names[which.index(i)], [i]) for i in range(len(experiments))]
    with ExitStack() as locks:  # one comparison at a time writes into this folder
        with interrupt_hint(RERUN_HINT):
            failures = run_with_monitor(
                experiments,
                backend,
                bars,
                monitor,
                argv,
                on_start=lambda: locks.enter_context(folder_lock(folder)),
            )
        result = ComparisonResult(
            folder, names, replications, root_seed, None, experiments, failures, _notes(names, loaded)
        )
        if not failures:
            _write(result, loaded, which, argv)
    return result


def _write(result: ComparisonResult, loaded: list[LoadedScenario], which: list[int], argv: Sequence[str]):
    """Write the comparison table and its manifest (the figures of an earlier comparison removed)."""
    folder, names, experiments = result.folder, result.names, result.experiments
    replications, root_seed = result.replications, result.root_seed
    per_rep = {name: experiments[i].metrics() for name, i in zip(names, which, strict=True)}
    result.table = comparison(per_rep, names[0])
    remove_figures(folder)
    write_csv_atomic(folder / COMPARISON, result.table)
    write_text_atomic(folder / "comparison.md", markdown(result.table, names, replications, root_seed))
    write_manifest(
        folder,
        comparison_manifest(
            names,
            loaded,
            [experiments[i].folder for i in which],
            root_seed=root_seed,
            replications=replications,
            argv=list(argv),
        ),
    )
