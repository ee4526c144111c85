"""The cheapest configuration that meets a service target (``bordersim optimise``).

Decision variables are integer scenario values (dotted keys, each with a range and a cost per unit), the
target a metric of one group with a bound (``p95_clearance_h@huu_nghi/export<=12``). A point *meets* the
target when the whole 95% interval of the metric's mean over its replications is on the right side of the
bound: a point that only meets it on average half the time is not "meeting" it.

The method is greedy marginal allocation with paired tests, sound under noise and common random numbers:

1. start at every variable's lower bound;
2. while the point does not meet the target, evaluate each one-unit increase (every point with the same
   root seed, so replication k of each meets the same trucks) and take the one with the largest
   improvement of the target metric per unit of cost, among the increases whose paired 95% interval shows
   an improvement (if none does, the largest estimate);
3. once the target is met, try to remove one unit of each variable, dearest first, and keep any removal
   that still meets it (greedy steps can overshoot);
4. final check: the chosen point is run again with more replications (the same ones plus new ones); if it
   no longer meets the target, the search carries on from there with that many replications everywhere.

Every evaluated point is a run folder under ``<study>/points/`` (see :mod:`sim.studies.points`), listed in
``evaluations.csv``; the manifest records the variables, costs, target, method and every step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.analysis.decision import MetricRef, parse_metric_ref
from sim.analysis.stats import t_half_width
from sim.errors import UserError
from sim.runner.experiment import Failure
from sim.store.layout import EVALUATIONS
from sim.store.outputs import StudyFolder
from sim.studies.common import refuse_other_study, rerun_hint
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions, load_source
from sim.studies.points import Point, PointFailed, Points
from sim.studies.registry import Replications, Setting, Study

METHOD = (
    "greedy marginal allocation: from the lower bounds, add the unit with the largest paired improvement "
    "of the target metric per unit cost (common random numbers) until the 95% interval meets the target; "
    "then remove units that are not needed; final check of the chosen point with more replications"
)
MAX_EVALUATIONS = 400


@dataclass(frozen=True)
class Variable:
    """An integer scenario value the search may set: its dotted key, range and cost per unit."""

    key: str
    low: int
    high: int
    cost: float = 1.0
    step: int = 1  # the search moves this many units at a time (coarser for large ranges)


@dataclass(frozen=True)
class Target:
    """``METRIC[@GATE/DIR] <= VALUE`` (or ``>=``)."""

    ref: MetricRef
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.ref} {self.op} {self.value:g}"

    def met_by(self, low: float, high: float) -> bool:
        """Whether a 95% interval [low, high] of the metric's mean lies on the right side of the bound."""
        return bool(high <= self.value) if self.op == "<=" else bool(low >= self.value)

    def improvement(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Per replication, how much better ``after`` is than ``before`` (positive: better)."""
        return before - after if self.op == "<=" else after - before


def parse_target(text: str, option: str = "--target") -> Target:
    """``METRIC[@GATE/DIR]<=VALUE`` (or ``>=``): the service target an optimisation must meet."""
    match = re.fullmatch(r"\s*([^<>=\s]+)\s*(<=|>=)\s*([-+0-9.eE]+)\s*", str(text))
    if not match:
        raise UserError.single(
            None, option, f"'{text}' is not METRIC[@GATE/DIR]<=VALUE or >=VALUE, e.g. p95_clearance_h<=12"
        )
    try:
        value = float(match.group(3))
    except ValueError:
        raise UserError.single(None, option, f"'{match.group(3)}' is not a number") from None
    if not math.isfinite(value):
        raise UserError.single(None, option, f"the bound must be a finite number (got {match.group(3)})")
    return Target(parse_metric_ref(match.group(1), option), match.group(2), value)


def parse_variables(specs: Sequence[str], costs: Sequence[str]) -> list[Variable]:
    """``--var KEY=LOW..HIGH[:STEP]`` (integers) and ``--cost KEY=C`` (default 1 a unit)."""
    price: dict[str, float] = {}
    for spec in costs:
        key, sep, value = (x.strip() for x in spec.partition("="))
        try:
            price[key] = float(value)
        except ValueError:
            price[key] = math.nan
        if not sep or not key or not math.isfinite(price[key]) or price[key] <= 0:
            raise UserError.single(None, "--cost", f"'{spec}' is not KEY=COST with a cost > 0")
    out = []
    for spec in specs:
        key, sep, value = (x.strip() for x in spec.partition("="))
        match = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)(?:\s*:\s*(\d+))?", value)
        if not sep or not key or not match:
            raise UserError.single(
                None, "--var", f"'{spec}' is not KEY=LOW..HIGH with integers, e.g. a.b=2..10"
            )
        low, high, step = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
        if low > high:
            raise UserError.single(None, "--var", f"'{spec}': LOW is above HIGH")
        if step < 1 or (high - low) % step:
            raise UserError.single(None, "--var", f"'{spec}': STEP must be >= 1 and divide HIGH - LOW")
        if any(v.key == key for v in out):
            raise UserError.single(None, "--var", f"'{key}' is given twice")
        out.append(Variable(key, low, high, price.pop(key, 1.0), step))
    if not out:
        raise UserError.single(None, "--var", "give at least one decision variable: --var KEY=LOW..HIGH")
    if price:
        raise UserError.single(None, "--cost", f"no --var for {', '.join(price)}")
    return out


def read_study_file(path: Path) -> dict[str, Any]:
    """A small YAML study file: ``variables: {KEY: {range: [LOW, HIGH], cost: C}}``, ``target: '...'``,
    and optionally ``replications`` and ``final_replications``. Returned as command-line style specs."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError.single(str(path), "", f"cannot read the study file: {exc}") from None
    except yaml.YAMLError as exc:
        raise UserError.single(str(path), "", f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("variables"), dict):
        raise UserError.single(
            str(path), "variables", "a mapping KEY: {range: [LOW, HIGH], cost: C} is needed"
        )
    unknown = set(data) - {"variables", "target", "replications", "final_replications"}
    if unknown:
        raise UserError.single(str(path), sorted(unknown)[0], "unknown field")
    specs, costs = [], []
    for key, spec in data["variables"].items():
        rng = spec.get("range") if isinstance(spec, dict) else None
        if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(v, int) for v in rng)):
            raise UserError.single(str(path), f"variables.{key}.range", "must be [LOW, HIGH] (integers)")
        specs.append(f"{key}={rng[0]}..{rng[1]}")
        if "cost" in spec:
            costs.append(f"{key}={spec['cost']}")
    return {
        "variables": specs,
        "costs": costs,
        "target": data.get("target"),
        "replications": data.get("replications"),
        "final_replications": data.get("final_replications"),
    }


@dataclass
class OptimiseResult:
    """The chosen configuration, its cost and the target metric's interval, and every evaluated point."""

    folder: Path
    scenario: str
    variables: list[Variable]
    target: Target
    chosen: dict[str, int] | None = None
    cost: float = math.nan
    mean: float = math.nan
    half_width: float = math.nan
    replications: int = 0
    met: bool = False
    feasible: bool = True
    evaluations: pd.DataFrame | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    resume_hint: str = "Run the same command again: finished points and replications are reused."


def _cost(x: Mapping[str, int], variables: Sequence[Variable]) -> float:
    return float(sum(v.cost * x[v.key] for v in variables))


DEFAULT_REPLICATIONS = 5
DEFAULT_FINAL_REPLICATIONS = 20


def optimise(
    source: ScenarioSource,
    variables: Sequence[Variable] | Sequence[str] = (),
    target: Target | str | None = None,
    options: StudyOptions = DEFAULTS,
    *,
    costs: Sequence[str] = (),
    final_replications: int | None = None,
    study: Path | None = None,
) -> OptimiseResult:
    """Find the cheapest point of the integer grid that meets ``target`` (see the module docstring).

    ``variables`` and ``target`` may be given as the command line writes them (``KEY=LOW..HIGH[:STEP]``,
    ``'METRIC[@GATE/DIR]<=V'``, costs as ``KEY=C``), or in a ``study`` file (:func:`read_study_file`),
    whose variables the given ones add to; ``options.replications`` is per point (default 5, or the
    file's), ``final_replications`` the final check's (default 20, or the file's)."""
    if study is not None:
        spec = read_study_file(Path(study))
        variables = [*spec["variables"], *variables]  # type: ignore[list-item]
        costs = [*spec["costs"], *costs]
        target = target or spec.get("target")
        if options.replications is None and spec.get("replications"):
            options = options.replace(replications=int(spec["replications"]))
        final_replications = final_replications or spec.get("final_replications")
    final_replications = final_replications or DEFAULT_FINAL_REPLICATIONS
    if not target:
        raise UserError.single(None, "--target", "give a target, e.g. 'p95_clearance_h@huu_nghi/export<=12'")
    if isinstance(target, str):
        target = parse_target(target)
    if variables and isinstance(variables[0], str):
        variables = parse_variables(list(variables), list(costs))  # type: ignore[arg-type]
    variables = list(variables)  # type: ignore[arg-type]
    options.check_replications(least=2)
    replications = options.replications or DEFAULT_REPLICATIONS
    if final_replications < replications:
        raise UserError.single(
            None, "--final-replications", f"must be at least --replications ({replications})"
        )
    base = load_source(source, options.overrides)
    overrides, argv = base.overrides, options.argv
    root_seed = options.root_seed(base.scenario)
    outputs = StudyFolder.for_study(
        options.root, base.scenario.name, "optimise", label=options.label, out=options.out
    )
    folder = outputs.folder
    settings = {"target": str(target), "variables": _variables_record(variables)}
    refuse_other_study(folder, "optimise", settings)
    result = OptimiseResult(folder, base.scenario.name, list(variables), target)
    result.resume_hint = rerun_hint(argv, folder)
    with Points.for_study(base, folder, options, "optimise", settings) as points:
        lows = {v.key: v.low for v in variables}
        points.get(lows)  # every setting is checked (loads) before anything runs
        points.get({v.key: v.high for v in variables})
        try:
            _search(points, result, lows, replications, final_replications)
        except PointFailed as exc:
            result.failures = exc.failures
        result.evaluations = _evaluations(points, result)
        if result.evaluations is not None:
            outputs.write_csv(EVALUATIONS, result.evaluations)
        if folder.exists():
            outputs.write_manifest(base, argv=argv, **_manifest_fields(result, overrides, root_seed))
    return result


def _interval(points: Points, p: Point, target: Target, reps: int) -> tuple[float, float, float, float]:
    x = points.values(p, target.ref, reps)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean, half = float(x.mean()), t_half_width(x)
    return mean, half, mean - half, mean + half


def _meets(points: Points, p: Point, target: Target, reps: int) -> bool:
    _, _, low, high = _interval(points, p, target, reps)
    return math.isfinite(low) and target.met_by(low, high)


def _search(points: Points, result: OptimiseResult, start: dict[str, int], reps: int, final: int) -> None:
    target, variables = result.target, result.variables
    x = dict(start)
    while True:
        x = _climb(points, result, x, reps)
        if x is None:  # every variable at its upper bound and the target still not met
            result.feasible = False
            top = {v.key: v.high for v in variables}
            _record(points, result, top, reps, met=False)
            return
        x = _prune(points, result, x, reps)
        chosen = points.get(x)
        points.run([chosen], final, "final check")
        result.steps.append(
            {"step": "final check", "point": chosen.index, "settings": x, "replications": final}
        )
        if _meets(points, chosen, target, final) or reps >= final:
            _record(points, result, x, final, met=_meets(points, chosen, target, final))
            return
        reps = final  # the chosen point fails with more replications: search on with that many


def _climb(points: Points, result: OptimiseResult, x: dict[str, int], reps: int) -> dict[str, int] | None:
    target, variables = result.target, result.variables
    while len(points.points) < MAX_EVALUATIONS:
        here = points.get(x)
        points.run([here], reps, "current point")
        if _meets(points, here, target, reps):
            return x
        moves = [v for v in variables if x[v.key] < v.high]
        if not moves:
            return None
        nexts = {v.key: points.get(x | {v.key: x[v.key] + v.step}) for v in moves}
        points.run(list(nexts.values()), reps, "one more unit of each variable")
        before = points.values(here, target.ref, reps)
        options = []
        for v in moves:
            gain = target.improvement(before, points.values(nexts[v.key], target.ref, reps))
            gain = gain[np.isfinite(gain)]
            mean = float(gain.mean()) if len(gain) else math.nan
            half = t_half_width(gain) if len(gain) else math.nan
            sure = math.isfinite(half) and mean - half > 0
            per_cost = mean / (v.cost * v.step) if math.isfinite(mean) else -math.inf
            options.append((sure, per_cost, v, mean, half))
        sure, _per_cost, v, mean, half = max(options, key=lambda o: (o[0], o[1]))
        result.steps.append(
            {
                "step": "add",
                "variable": v.key,
                "from": x[v.key],
                "to": x[v.key] + v.step,
                "improvement": round(mean, 6) if math.isfinite(mean) else None,
                "improvement_half_width": round(half, 6) if math.isfinite(half) else None,
                "paired_interval_excludes_0": sure,
            }
        )
        x = x | {v.key: x[v.key] + v.step}
    raise UserError.single(None, "--var", f"more than {MAX_EVALUATIONS} points evaluated: narrow the ranges")


def _prune(points: Points, result: OptimiseResult, x: dict[str, int], reps: int) -> dict[str, int]:
    target = result.target
    removed = True
    while removed:
        removed = False
        for v in sorted(result.variables, key=lambda v: -v.cost):
            if x[v.key] <= v.low:
                continue
            cand = x | {v.key: x[v.key] - v.step}
            p = points.get(cand)
            points.run([p], reps, "one unit less")
            if _meets(points, p, target, reps):
                result.steps.append(
                    {"step": "remove", "variable": v.key, "from": x[v.key], "to": cand[v.key]}
                )
                x, removed = cand, True
                break
    return x


def _record(points: Points, result: OptimiseResult, x: dict[str, int], reps: int, met: bool) -> None:
    p = points.get(x)
    result.chosen = dict(x)
    result.cost = _cost(x, result.variables)
    result.mean, result.half_width, _, _ = _interval(points, p, result.target, reps)
    result.replications = reps
    result.met = met


def _evaluations(points: Points, result: OptimiseResult) -> pd.DataFrame | None:
    rows = []
    for p in points.points:
        reps = p.experiment.finished
        if reps == 0:
            continue
        mean, half, low, high = _interval(points, p, result.target, reps)
        rows.append(
            {
                "point": p.index,
                **p.settings,
                "cost": _cost(p.settings, result.variables),
                "replications": reps,
                "target_metric": str(result.target.ref),
                "mean": mean,
                "half_width": half,
                "ci_low": low,
                "ci_high": high,
                "meets_target": math.isfinite(low) and result.target.met_by(low, high),
                "chosen": p.settings == result.chosen,
                "folder": str(p.experiment.folder),
            }
        )
    return pd.DataFrame(rows) if rows else None


def _variables_record(variables: Sequence[Variable]) -> list[dict[str, Any]]:
    return [{"key": v.key, "low": v.low, "high": v.high, "step": v.step, "cost": v.cost} for v in variables]


def _manifest_fields(result: OptimiseResult, overrides, root_seed: int) -> dict[str, Any]:
    """The optimisation's own manifest fields (the store adds the common frame and ``kind``)."""
    return {
        "overrides": list(overrides),
        "root_seed": root_seed,
        "variables": _variables_record(result.variables),
        "target": str(result.target),
        "method": METHOD,
        "chosen": result.chosen,
        "cost": result.cost,
        "target_mean": result.mean,
        "target_half_width": result.half_width,
        "replications": result.replications,
        "met": result.met,
        "feasible": result.feasible,
        "steps": result.steps,
        "evaluations": EVALUATIONS,
    }


STUDY = Study(
    name="optimise",
    help="the cheapest configuration of integer scenario values that meets a service target",
    order=60,
    function=optimise,
    source=Setting("source", "path", "scenario YAML file", flag="", metavar="scenario"),
    settings=(
        Setting(
            "variables",
            "texts",
            "a decision variable: an integer scenario value and its range, e.g. "
            "gates.huu_nghi.export.stages.customs.servers=4..16, or 40..70:5 to move 5 at a time "
            "(repeatable)",
            flag="--var",
            metavar="KEY=LOW..HIGH[:STEP]",
            positional=True,
        ),
        Setting(
            "target",
            "text",
            "the service target, e.g. 'p95_clearance_h@huu_nghi/export<=12' (or >= for more-is-better)",
            metavar="METRIC[@GATE/DIR]<=VALUE",
            positional=True,
        ),
        Setting(
            "costs", "texts", "cost of one unit of a variable (default 1)", flag="--cost", metavar="KEY=COST"
        ),
        Setting("study", "path", "a YAML study file with variables (range, cost) and target", page=False),
        Setting(
            "final_replications",
            "int",
            f"replications of the final check of the chosen point (default {DEFAULT_FINAL_REPLICATIONS}, "
            "or the study file's)",
            minimum=2,
        ),
    ),
    shared=("seed", "parallel", "overrides", "root", "out", "label", "max_trucks"),
    replications=Replications(
        DEFAULT_REPLICATIONS, least=2, per="replications per evaluated point", rule="5, or the study file's"
    ),
    summary_of=lambda result: result.evaluations,
)
