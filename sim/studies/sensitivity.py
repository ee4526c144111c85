"""Which assumptions does the answer depend on? (``bordersim sensitivity``)

Every number a scenario file marks ``# assumption:`` (read by :func:`sim.scenario.sources.assumptions`;
an anchor used through aliases is one assumption, set everywhere it is used; a one-line distribution is
one assumption whose numbers move together) is varied over a range: the one written beside it
(``range 0.2-0.4``), else ±``spread`` (25%) of its value. Integers stay integers (at least one step away),
shares stay within [0, 1]; a zero has no relative range and is left out.

- ``oat`` (default): one at a time, each assumption at its low and at its high end, the others at their
  values; every point has the same root seed, so replication k of every point meets the same trucks and
  each effect is a paired difference from the base with its own 95% interval. Assumptions are ranked by
  the swing |metric(high) - metric(low)|: the tornado chart.
- ``morris``: SALib's Morris elementary effects, all assumptions varied together along random
  trajectories (``trajectories`` x (k + 1) points): cheaper per assumption when there are many, and it
  sees interactions (sigma); ranked by mu* (the mean absolute elementary effect).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.decision import MetricRef, parse_metric_ref
from sim.analysis.stats import t_half_width
from sim.errors import UserError
from sim.model.size import check_size, check_work
from sim.runner.experiment import Failure
from sim.scenario.sources import Assumption, assumptions
from sim.store.layout import SENSITIVITY_TABLE
from sim.store.outputs import StudyFolder
from sim.studies.common import refuse_other_study, rerun_hint
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions, load_source
from sim.studies.points import Point, PointFailed, Points
from sim.studies.registry import Replications, Setting, Study

METHODS = ("oat", "morris")


@dataclass(frozen=True)
class Factor:
    """An assumption and the range the study moves it over (as a multiple of its values, or the range
    written beside it)."""

    assumption: Assumption
    low: float  # the factor's value at the low end: a multiplier of every number, or the written value
    high: float
    written: bool  # the range was written beside the value (then low/high are values, not multipliers)

    @property
    def name(self) -> str:
        """The varied assumption's name."""
        return self.assumption.name

    def settings(self, level: float) -> dict[str, Any]:
        """``--set`` values putting the assumption at ``level`` in [0, 1] of its range."""
        a = self.assumption
        at = self.low + level * (self.high - self.low)
        out: dict[str, Any] = {}
        for path in a.paths:
            for leaf, value in zip(a.fields, a.values, strict=True):
                new = at if self.written else value * at
                out[".".join((*path, *leaf))] = _typed(a, leaf, value, new)
        return out

    def range_text(self) -> str:
        """The range the assumption is varied over, as printed in the ranking."""
        a = self.assumption
        if self.written or len(a.values) == 1:
            lo, hi = self.settings(0.0), self.settings(1.0)
            first = next(iter(lo))
            return f"{lo[first]:g} .. {hi[first]:g} (now {a.values[0]:g})"
        return f"x{self.low:g} .. x{self.high:g} of each number"


def _typed(a: Assumption, leaf: tuple[str, ...], old: float, new: float) -> float | int:
    """Integers stay integers at least one step from the value; shares stay in [0, 1]."""
    key = ".".join((*a.paths[0], *leaf))
    if float(old).is_integer() and (leaf == () or leaf == ("capacity",) or leaf == ("servers",)):
        step = round(new)
        if step == old:
            step = int(old) + (1 if new > old else -1)
        return max(1, int(step)) if old >= 1 else int(step)
    if 0 <= old <= 1 and (".flags." in f".{key}." or key.endswith(("share", "fraction"))):
        return float(min(1.0, max(0.0, new)))
    return float(new)


def factors(files: Sequence[Path], spread: float, only: Sequence[str] = ()) -> list[Factor]:
    """The assumptions of the scenario files to vary, each with its range (written, or ±spread)."""
    out = []
    for a in assumptions(files):
        if only and not any(text in ".".join(p) for p in a.paths for text in only):
            continue
        if a.range is not None:
            out.append(Factor(a, a.range[0], a.range[1], True))
        elif any(v != 0 for v in a.values):
            out.append(Factor(a, 1 - spread, 1 + spread, False))
    return out


@dataclass
class SensitivityResult:
    """The assumptions ranked by how much they move the metric, as a table and rows to print."""

    folder: Path
    scenario: str
    metric: MetricRef
    method: str
    table: pd.DataFrame | None = None
    replications: int = 0
    trajectories: int = 0  # Morris only
    points: int = 0  # Morris only: points per trajectory
    base_mean: float = math.nan
    failures: list[Failure] = field(default_factory=list)
    resume_hint: str = "Run the same command again: finished points and replications are reused."


DEFAULT_REPLICATIONS = 3


def sensitivity(
    source: ScenarioSource,
    options: StudyOptions = DEFAULTS,
    *,
    metric: str = "mean_clearance_h",
    method: str = "oat",
    spread: float = 0.25,
    only: Sequence[str] = (),
    trajectories: int = 4,
) -> SensitivityResult:
    """Rank the scenario's assumptions by their effect on ``metric`` (see the module docstring);
    ``options.replications`` is per point (default 3)."""
    ref = parse_metric_ref(metric, "--metric")
    options.check_replications()
    replications = options.replications or DEFAULT_REPLICATIONS
    if method not in METHODS:
        raise UserError.single(None, "--method", f"choose from {', '.join(METHODS)}")
    if not (0 < spread < 1):
        raise UserError.single(None, "--spread", f"must be between 0 and 1 (got {spread})")
    if method == "morris" and trajectories < 2:
        raise UserError.single(None, "--trajectories", "Morris needs at least 2")
    base = load_source(source, options.overrides)
    overrides, argv = base.overrides, options.argv
    found = factors(base.files, spread, only)
    if not found:
        raise UserError.single(
            str(base.path),
            "",
            "no '# assumption' number to vary" + (f" matching {list(only)}" if only else ""),
        )
    # the work, checked before anything is sampled or written (SALib would build 10^8 trajectories first);
    # one replication too large is said first: it is what the user must change
    check_size(base.scenario, options.max_trucks, str(base.path))
    planned = 1 + 2 * len(found) if method == "oat" else trajectories * (len(found) + 1)
    check_work(
        base.scenario,
        planned * replications,
        "--trajectories" if method == "morris" else "--replications",
        f"{planned:,} points x {replications} replications",
        options.max_trucks,
        str(base.path),
    )
    root_seed = options.root_seed(base.scenario)
    outputs = StudyFolder.for_study(
        options.root, base.scenario.name, "sensitivity", label=options.label, out=options.out
    )
    folder = outputs.folder
    settings = {"metric": str(ref), "method": method, "only": list(only)}
    refuse_other_study(folder, "sensitivity", settings)
    result = SensitivityResult(folder, base.scenario.name, ref, method, replications=replications)
    result.resume_hint = rerun_hint(argv, folder)
    with Points.for_study(base, folder, options, "sensitivity", settings) as points:
        for f in found:  # every setting loads (is valid) before anything runs
            points.get(f.settings(0.0))
            points.get(f.settings(1.0))
        try:
            if method == "oat":
                _one_at_a_time(points, found, ref, replications, result)
            else:
                _morris(points, found, ref, replications, trajectories, root_seed, result)
        except PointFailed as exc:
            result.failures = exc.failures
            return result
        outputs.write_csv(SENSITIVITY_TABLE, result.table)
        outputs.write_manifest(
            base,
            argv=argv,
            overrides=list(overrides),
            metric=str(ref),
            method=method,
            spread=spread,
            only=list(only),
            replications=replications,
            trajectories=trajectories if method == "morris" else None,
            root_seed=root_seed,
            points=len(points.points),
            ranking=result.table["assumption"].tolist(),
        )
    return result


def _one_at_a_time(
    points: Points, found: list[Factor], ref: MetricRef, reps: int, result: SensitivityResult
) -> None:
    base = points.get({})
    ends = [(f, points.get(f.settings(0.0)), points.get(f.settings(1.0))) for f in found]
    points.run([base, *(p for _, lo, hi in ends for p in (lo, hi))], reps, "one assumption at a time")
    b = points.values(base, ref, reps)
    result.base_mean = float(np.nanmean(b))
    rows = []
    for f, lo, hi in ends:
        dl, dh = points.values(lo, ref, reps) - b, points.values(hi, ref, reps) - b
        swing = points.values(hi, ref, reps) - points.values(lo, ref, reps)
        rows.append(
            {
                "assumption": f.name,
                "file": f"{f.assumption.file.name}:{f.assumption.line}",
                "comment": f.assumption.comment,
                "range": f.range_text(),
                "low_point": lo.index,
                "high_point": hi.index,
                "low_diff": _mean(dl),
                "low_half_width": _half(dl),
                "high_diff": _mean(dh),
                "high_half_width": _half(dh),
                "swing": abs(_mean(swing)),
                "swing_half_width": _half(swing),
            }
        )
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    result.table = table


def _morris(
    points: Points,
    found: list[Factor],
    ref: MetricRef,
    reps: int,
    trajectories: int,
    seed: int,
    result: SensitivityResult,
) -> None:
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = {"num_vars": len(found), "names": [f.name for f in found], "bounds": [[0.0, 1.0]] * len(found)}
    levels = sample.sample(problem, trajectories, num_levels=4, seed=seed)
    chosen: list[Point] = []
    for row in levels:
        settings: dict[str, Any] = {}
        for f, level in zip(found, row, strict=True):
            settings |= f.settings(float(level))
        chosen.append(points.get(settings))
    points.run(chosen, reps, "Morris trajectories")
    y = np.array([np.nanmean(points.values(p, ref, reps)) for p in chosen])
    base = points.get({})
    points.run([base], reps, "base")
    result.base_mean = float(np.nanmean(points.values(base, ref, reps)))
    res = analyze.analyze(problem, levels, y, num_levels=4, seed=seed)
    table = pd.DataFrame(
        {
            "assumption": [f.name for f in found],
            "file": [f"{f.assumption.file.name}:{f.assumption.line}" for f in found],
            "comment": [f.assumption.comment for f in found],
            "range": [f.range_text() for f in found],
            "mu_star": np.asarray(res["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
            "mu": np.asarray(res["mu"], dtype=float),
            "sigma": np.asarray(res["sigma"], dtype=float),
        }
    )
    table = table.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    result.table = table
    result.trajectories = trajectories
    result.points = len(found) + 1


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else math.nan


def _half(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return t_half_width(x) if len(x) else math.nan


STUDY = Study(
    name="sensitivity",
    help="which '# assumption:' values of the scenario files move a metric the most (tornado chart)",
    order=70,
    function=sensitivity,
    source=Setting("source", "path", "scenario YAML file", flag="", metavar="scenario"),
    settings=(
        Setting(
            "metric", "text", "the metric whose change ranks the assumptions", metavar="METRIC[@GATE/DIR]"
        ),
        Setting(
            "method",
            "text",
            "oat: one at a time, low and high; morris: SALib's Morris elementary effects",
            choices=METHODS,
        ),
        Setting("spread", "float", "relative range when none is written", minimum=0.0, maximum=1.0),
        Setting("only", "texts", "only keys containing TEXT (repeatable)", metavar="TEXT"),
        Setting("trajectories", "int", "Morris trajectories", minimum=2),
    ),
    shared=("seed", "parallel", "overrides", "root", "out", "label", "max_trucks"),
    replications=Replications(DEFAULT_REPLICATIONS, per="replications per point"),
    summary_of=lambda result: result.table,
)
