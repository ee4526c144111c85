"""The compare study: policies against a base under common random numbers, with paired differences.

Every scenario runs with the same root seed and replications 0..R-1, so replication k of each meets the
same trucks with the same draws; a scenario already run with the same resolved scenario, seed and model
code is reused, not rerun; a scenario given twice runs once.

With ``swing``, each policy also runs with each of its own uncertain assumptions (``uncertain:`` keys the
base has not) at the low and the high end of its range, one at a time, with the same random numbers:
the decision then gives, beside each policy's effect, how far it moves over those ranges
(:mod:`sim.analysis.swing`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.compare import comparison
from sim.analysis.decision import (
    DEFAULT_OBJECTIVE,
    Decision,
    Effect,
    MetricRef,
    classify,
    decide,
    good_direction,
    parse_metric_ref,
    parse_min_effect,
)
from sim.analysis.metrics import groups, not_modelled
from sim.analysis.swing import HIGH, LOW, Variant, swing_table
from sim.errors import UserError
from sim.runner.experiment import REUSE, Experiment, Failure, plan
from sim.scenario import LoadedScenario
from sim.scenario.loader import default_name
from sim.scenario.uncertain import Inputs, override
from sim.store.layout import (
    COMPARISON,
    COMPARISON_MARKDOWN,
    SWING_TABLE,
    compare_folder,
    crn_folder,
    finished_run,
    remove_figures,
)
from sim.store.lock import folder_lock
from sim.store.manifest import comparison_manifest, scenario_digest, write_manifest
from sim.store.outputs import StudyFolder
from sim.studies.common import (
    check_sizes,
    interrupt_hint,
    run_with_monitor,
)
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions, load_source
from sim.studies.registry import Replications, Setting, Study

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
    decision: Decision | None = None
    precision: dict[str, Any] | None = None  # the sequential procedure's record (--precision)
    swings: pd.DataFrame | None = None  # with swing: each variant's paired differences (sim.analysis.swing)
    swing_experiments: list[Experiment] = field(default_factory=list)  # with swing: the variants' runs


@dataclass(frozen=True)
class SwingRun:
    """A policy with one of its own assumptions at one end of its range, and the scenario that sets it."""

    policy: str
    input: str
    end: str
    value: str
    loaded: LoadedScenario


def swing_runs(loaded: Sequence[LoadedScenario], names: Sequence[str]) -> list[SwingRun]:
    """Each policy's own uncertain assumptions (those the base does not have) at the low and at the high
    end of their ranges, one at a time: the scenarios ``compare --swing`` runs beside the policies."""
    shared = set(Inputs(loaded[0].scenario).names)
    runs = []
    for ld, name in zip(loaded[1:], names[1:], strict=True):
        for item in Inputs(ld.scenario).items:
            if item.name in shared:
                continue
            for end, u in ((LOW, 0.0), (HIGH, 1.0)):
                sets = [override(key, value) for key, value in item.assignments(u).items()]
                runs.append(SwingRun(name, item.name, end, str(item.shown(u)), load_source(ld, sets)))
    return runs


def swing_scenarios(
    base: ScenarioSource, policies: Sequence[ScenarioSource], overrides: Sequence[str] = ()
) -> list[SwingRun]:
    """The swing runs ``compare --swing`` adds for these files, before anything runs: the page counts
    them in a job's size and progress (UserError when a file does not load)."""
    loaded = [load_source(p, tuple(overrides)) for p in (base, *policies)]
    return swing_runs(loaded, display_names(loaded, [ld.path for ld in loaded]))


def _swing_folder(root: Path, run: SwingRun, root_seed: int) -> Path:
    """Where a swing run's replications go: the policy's own common-random-numbers folders, told apart
    by the scenario's digest (reused when the same swing is asked for again)."""
    return crn_folder(root, run.loaded.scenario.name, root_seed, scenario_digest(run.loaded.scenario))


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
    if DEFAULT_OBJECTIVE in not_modelled(loaded[0].scenario):
        return notes  # nothing is priced: the net cost is not the measure, nor its policy costs
    costless = [name for name, ld in zip(names[1:], loaded[1:], strict=True) if ld.scenario.cost is None]
    costed = any(ld.scenario.cost is not None for ld in loaded)
    if costless and costed:
        one = len(costless) == 1
        notes.append(
            f"{', '.join(costless)} state{'s' if one else ''} no cost of {'its' if one else 'their'} own "
            "('cost:' in the policy file, with its source): the net cost to the province counts 0 for "
            f"{'it' if one else 'them'}, while the other policies' own costs are counted"
        )
    elif costless:
        notes.append(
            "no policy states a cost of its own ('cost:' in the policy file, with its source): the net cost "
            "to the province leaves out what the policies themselves cost"
        )
    return notes


def relative_half_widths(
    comp: pd.DataFrame, objective: MetricRef, of: str = "difference"
) -> dict[str, float]:
    """Per policy, the half-width of the objective's paired difference divided by the difference
    (``of="difference"``), or each scenario's half-width of the objective divided by its mean
    (``of="objective"``). Infinite where the ratio is undefined (no interval, a zero mean)."""
    rows = objective.rows(comp)
    out: dict[str, float] = {}
    for _, r in rows.iterrows():
        if of == "difference":
            if r["role"] == "base":
                continue
            num, den = float(r["diff_half_width"]), abs(float(r["diff"]))
            if num == 0 and den == 0:  # identical in every replication: nothing left to learn
                out[r["scenario"]] = 0.0
                continue
        else:
            num, den = float(r["half_width"]), abs(float(r["mean"]))
        out[r["scenario"]] = num / den if math.isfinite(num) and den > 0 else math.inf
    return out


def _settled(comp: pd.DataFrame, objective: MetricRef, thresholds: dict) -> set[str]:
    """Policies whose whole interval already lies inside the relevance band: the answer ("less than what
    you consider relevant") will not change with more replications, even if the relative half-width of a
    near-zero difference never gets small."""
    threshold = thresholds.get(objective.metric)
    if threshold is None:
        return set()
    out = set()
    for _, r in objective.rows(comp).iterrows():
        if r["role"] == "base":
            continue
        base = objective.rows(comp)
        base_mean = float(base[base["role"] == "base"]["mean"].iloc[0])
        limit = threshold.absolute(objective.metric, base_mean)
        if classify(r, good_direction(objective.metric), limit) is Effect.NEGLIGIBLE:
            out.add(r["scenario"])
    return out


def next_replications(current: int, ratios: dict[str, float], target: float, most: int) -> int:
    """The next batch's total: enough for the worst policy if its standard deviation holds
    (half-width ~ 1/sqrt(n)), at least two more, at most double, within ``most``."""
    worst = max((r for r in ratios.values() if r > target), default=target)
    needed = current * (worst / target) ** 2 if math.isfinite(worst) else 2 * current
    return int(min(most, 2 * current, max(current + 2, math.ceil(needed))))


def compare_policies(
    base: ScenarioSource,
    policies: Sequence[ScenarioSource],
    options: StudyOptions = DEFAULTS,
    *,
    objective: str = DEFAULT_OBJECTIVE,
    min_effect: Sequence[str] = (),
    precision: float | None = None,
    precision_of: str = "difference",
    max_replications: int = 100,
    swing: bool = False,
) -> ComparisonResult:
    """Run (or reuse) the base and each policy, then write and return their paired comparison and its
    decision summary on ``objective`` (``METRIC[@GATE[/DIRECTION]]``) with the relevance thresholds
    ``min_effect`` (``METRIC=VALUE[%]``).

    With ``precision``, a sequential procedure: run ``replications``, then add replications in batches
    (every scenario the same ones: common random numbers throughout) until the relative half-width of the
    objective's paired difference (``precision_of="difference"``; or of the objective itself,
    ``"objective"``) is at most ``precision`` for every policy, or ``max_replications`` is reached.

    With ``swing``, each policy's own uncertain assumptions are then run at each end of their ranges (see
    the module's docstring), at the comparison's final number of replications.
    """
    options.check_replications(least=2)
    replications = options.replications or DEFAULT_REPLICATIONS
    target = parse_metric_ref(objective, "--objective")
    thresholds = parse_min_effect(min_effect)
    if precision is not None:
        if not (math.isfinite(precision) and 0 < precision < 1):
            raise UserError.single(
                None, "--precision", f"must be between 0 and 1, e.g. 0.05 (got {precision})"
            )
        if max_replications < replications:
            raise UserError.single(
                None,
                "--max-replications",
                f"must be at least --replications ({replications}; got {max_replications})",
            )
        if precision_of not in ("difference", "objective"):
            raise UserError.single(None, "--precision-of", "must be 'difference' or 'objective'")
    backend = options.resolved_backend()
    loaded = [load_source(p, options.overrides) for p in (base, *policies)]
    names = display_names(loaded, [ld.path for ld in loaded])
    swung = swing_runs(loaded, names) if swing else []
    check_sizes([*loaded, *(r.loaded for r in swung)], options.max_trucks, replications)
    known = {(g, d) for g, d in groups(loaded[0].scenario)}
    if (target.gate, target.direction) not in known:
        raise UserError.single(
            None,
            "--objective",
            f"{loaded[0].scenario.name} has no group {target.gate}/{target.direction}; groups are "
            + ", ".join(sorted(f"{g}/{d}" for g, d in known)),
        )
    root_seed = options.root_seed(loaded[0].scenario)
    root, monitor, argv = options.root, options.monitor, options.argv

    experiments: list[Experiment] = []
    which: list[int] = []  # the experiment of each name (a scenario given twice runs once)
    by_digest: dict[str, int] = {}
    for ld in loaded:
        digest = scenario_digest(ld.scenario)
        if digest not in by_digest:
            # a sequential comparison adds replications: only to the folders compare itself owns
            folder = (
                None if precision else finished_run(root, ld.scenario.name, digest, root_seed, replications)
            )
            folder = folder or crn_folder(root, ld.scenario.name, root_seed, digest)
            by_digest[digest] = len(experiments)
            experiments.append(Experiment(ld, folder, root_seed, replications))
        which.append(by_digest[digest])
    for exp in experiments:
        plan(exp, REUSE)
    folder = options.out or compare_folder(root, names)

    bars = [(names[which.index(i)], [i]) for i in range(len(experiments))]
    result = ComparisonResult(
        folder, names, replications, root_seed, None, experiments, [], _notes(names, loaded)
    )
    unmodelled = {name: not_modelled(ld.scenario) for name, ld in zip(names, loaded, strict=True)}
    batches: list[dict[str, Any]] = []
    with ExitStack() as locks:  # one comparison at a time writes into this folder
        locked: list[bool] = []

        def lock() -> None:
            if not locked:
                locks.enter_context(folder_lock(folder))
                locked.append(True)

        while True:
            for exp in experiments:
                exp.replications = result.replications
            with interrupt_hint(RERUN_HINT):
                result.failures = run_with_monitor(experiments, backend, bars, monitor, argv, on_start=lock)
            if result.failures:
                return result
            per_rep = {name: experiments[i].metrics() for name, i in zip(names, which, strict=True)}
            result.table = comparison(per_rep, names[0], unmodelled=unmodelled)
            if precision is None:
                break
            ratios = relative_half_widths(result.table, target, precision_of)
            settled = _settled(result.table, target, thresholds)
            open_ = {k: v for k, v in ratios.items() if v > precision and k not in settled}
            batches.append(
                {
                    "replications": result.replications,
                    "relative_half_width": {
                        k: (None if math.isinf(v) else round(v, 6)) for k, v in ratios.items()
                    },
                    "inside_relevance_band": sorted(settled),
                }
            )
            if not open_ or result.replications >= max_replications:
                result.precision = {
                    "target": precision,
                    "of": precision_of,
                    "objective": str(target),
                    "max_replications": max_replications,
                    "met": not open_,
                    "replications": result.replications,
                    "batches": batches,
                }
                break
            result.replications = next_replications(result.replications, open_, precision, max_replications)
            for exp in experiments:
                exp.replications = result.replications
                plan(exp, REUSE)
        if swung:
            runs = [
                Experiment(r.loaded, _swing_folder(root, r, root_seed), root_seed, result.replications)
                for r in swung
            ]
            for exp in runs:
                plan(exp, REUSE)
            result.swing_experiments = runs
            swing_bars = [(f"{r.policy} with {r.input} {r.end}", [k]) for k, r in enumerate(swung)]
            with interrupt_hint(RERUN_HINT):
                result.failures = run_with_monitor(runs, backend, swing_bars, monitor, argv, on_start=lock)
            if result.failures:
                return result
            variants = [
                Variant(r.policy, r.input, r.end, r.value, exp.metrics())
                for r, exp in zip(swung, runs, strict=True)
            ]
            result.swings = swing_table(names[0], experiments[which[0]].metrics(), variants, unmodelled)
        rate = loaded[0].scenario.exchange_rate  # the base's: VND beside USD where it states one
        result.decision = decide(result.table, target, thresholds, swings=result.swings, rate=rate)
        lock()
        _write(
            result,
            loaded,
            which,
            argv,
            {"objective": str(target), "min_effect": list(min_effect), "swing": bool(swung)},
        )
    return result


def _write(
    result: ComparisonResult,
    loaded: list[LoadedScenario],
    which: list[int],
    argv: Sequence[str],
    decision: dict[str, Any],
) -> None:
    """Write the comparison table, its decision summary and its manifest (the figures of an earlier
    comparison removed)."""
    # the words come from present (a stated exception in tests/test_layers.py until the study registry
    # renders comparison.md after the study)
    from sim.present.comparison_text import markdown
    from sim.present.decision_text import as_markdown

    folder, names, experiments = result.folder, result.names, result.experiments
    replications, root_seed = result.replications, result.root_seed
    out = StudyFolder("comparison", folder)
    remove_figures(folder)
    out.write_csv(COMPARISON, result.table)
    if result.swings is not None:
        out.write_csv(SWING_TABLE, result.swings)
    else:  # a swing of an earlier comparison in this folder is not this one's
        (folder / SWING_TABLE).unlink(missing_ok=True)
    assert result.decision is not None and result.table is not None
    out.write_text(
        COMPARISON_MARKDOWN,
        as_markdown(result.decision) + "\n\n" + markdown(result.table, names, replications, root_seed),
    )
    manifest = comparison_manifest(
        names,
        loaded,
        [experiments[i].folder for i in which],
        root_seed=root_seed,
        replications=replications,
        argv=list(argv),
    )
    manifest["decision"] = decision
    if result.precision is not None:
        manifest["precision"] = result.precision
    write_manifest(folder, manifest)


STUDY = Study(
    name="compare",
    help="compare policies with a base scenario (common random numbers)",
    order=20,
    function=compare_policies,
    source=Setting("base", "path", "the base scenario", flag="", metavar="base"),
    settings=(
        Setting(
            "policies",
            "paths",
            "policy scenarios compared with the base",
            flag="",
            positional=True,
            page=False,
        ),
        Setting(
            "objective",
            "text",
            f"what to rank the policies on (default: {DEFAULT_OBJECTIVE} of the province), "
            "e.g. p95_clearance_h@huu_nghi/export",
            metavar="METRIC[@GATE[/DIR]]",
        ),
        Setting(
            "min_effect",
            "texts",
            "the smallest change that matters, in the printed unit or as a percentage of the base, "
            "e.g. mean_clearance_h=0.5 or cleared_value_usd=2% (repeatable, one per metric)",
            metavar="METRIC=VALUE[%]",
        ),
        Setting(
            "precision",
            "float",
            "add replications in batches until the objective's paired difference has a 95% half-width "
            "at most REL times its size (e.g. 0.05), for every policy",
            metavar="REL",
            minimum=0.0,
        ),
        Setting(
            "precision_of",
            "text",
            "what --precision applies to: the paired difference (default) or the objective itself",
            choices=("difference", "objective"),
        ),
        Setting("max_replications", "int", "the most --precision may run", minimum=2),
        Setting(
            "swing",
            "flag",
            "also run each policy with each of its own uncertain assumptions at the low and the high end of "
            "its range (one at a time, same random numbers) and give the effect's swing beside it",
        ),
    ),
    shared=("seed", "parallel", "overrides", "root", "format", "out", "max_trucks"),
    replications=Replications(DEFAULT_REPLICATIONS, least=2, per="replications of each scenario"),
    summary_of=lambda result: result.table,
)
