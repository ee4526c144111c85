"""Which policy holds up across every plausible input set? (``bordersim robust``, issue 31)

``compare`` ranks policies at one point, the files' own (central) values. This study runs the base and
every policy over the SAME ``samples`` input sets, drawn (a Latin hypercube or a scrambled Sobol
sequence, as ``uncertainty`` draws them) over the union of the base's ``uncertain:`` ranges and each
policy file's own ones: an input a policy shares with the base (its file extends the base's section) takes
the same value in both; a policy's own input (its compliance, the room at another gate) is drawn in the
same sets and set in that policy only. Every point of every scenario runs replications 0..R-1 from one
root seed, so the same input set meets the same random numbers in every policy: each difference is
paired, input set by input set. Points keep only their metrics (:class:`~sim.studies.points.Points`,
resumable, in parallel), one ``policies/<name>/points/point-NNNN`` folder each; point 0 of every scenario
is its central point (the file as written).

The numbers (:mod:`sim.analysis.robust`), per headline metric: the band of each policy's paired
difference from the base, P(best) with a bootstrap interval, expected and worst regret, the share meeting
``--target``, and the ranking by minimax regret beside the ranking at the central values; for the top
policy (and each ``--explain``), the box of inputs where it loses or misses the target; and the value of
knowing each input. The first metric is the decision measure. Until the planner's net cost to the
province (issue 29) lands, it is ``total_cost_usd`` (border waiting + holding upstream + spoiled value):
:data:`DECISION_METRIC` is the one place to change.

Seam (issue 31, item 4): where an ``assimilate`` folder exists, the input sets could be drawn from its
posterior instead of the prior ranges (``draw_sets``) and start from its state; that issue has not landed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.decision import good_direction, parse_metric_ref
from sim.analysis.metrics import not_modelled
from sim.analysis.robust import ROBUST_RULE, discover, regret, robustness, value_of_information
from sim.errors import UserError
from sim.model.size import check_work, disk_bytes
from sim.scenario import LoadedScenario
from sim.scenario.uncertain import Inputs
from sim.store import layout
from sim.store.manifest import read_manifest
from sim.store.outputs import StudyFolder
from sim.store.space import check_space
from sim.store.tables import read_csv
from sim.studies.common import refuse_other_study, rerun_hint
from sim.studies.compare import display_names
from sim.studies.optimise import Target, parse_target
from sim.studies.options import ScenarioSource, StudyOptions, load_source
from sim.studies.points import Point, PointFailed, Points
from sim.studies.registry import Replications, Setting, Study
from sim.studies.robust_result import KIND, RobustResult
from sim.studies.uncertainty import METHODS, draw

DECISION_METRIC = "net_cost_usd"  # issue 29: the net cost to the province (sim/analysis/net_cost.py)
HEADLINE = (DECISION_METRIC, "spoiled_trucks", "waiting_cost_usd", "total_delay_days")
DEFAULT_REPLICATIONS = 2


def _as_number(value: Any) -> float:
    """An input's value as a number (a date as its day number)."""
    return float(value.toordinal()) if isinstance(value, date) else float(value)


def union_inputs(loaded: Sequence[LoadedScenario]) -> tuple[list[str], list[Inputs]]:
    """The names of every uncertain input of the base and the policies (the base's first, then each
    policy's own, in file order) and each scenario's own :class:`Inputs`."""
    own = [Inputs(ld.scenario) for ld in loaded]
    names: list[str] = []
    for inputs in own:
        names += [n for n in inputs.names if n not in names]
    return names, own


def draw_sets(method: str, samples: int, dimensions: int, seed: int) -> np.ndarray:
    """The input sets as points of the unit cube, drawn from the inputs' prior ranges."""
    return draw(method, samples, dimensions, seed)


POSTERIOR_STREAM = 31  # the posterior draws' own stream of the root seed (never the cube's)


def read_twin(folder: str | Path) -> pd.DataFrame:
    """The final particles of an ``assimilate`` folder (its particles table); a UserError naming the
    folder and what is missing otherwise."""
    folder = Path(folder)
    manifest = read_manifest(folder) if folder.is_dir() else None
    if not manifest or manifest.get("kind") != "assimilate":
        raise UserError.single(
            str(folder), "--twin", "not an assimilate folder (bordersim assimilate writes one)"
        )
    path = folder / layout.PARTICLES_TABLE
    if not path.is_file():
        raise UserError.single(
            str(folder),
            "--twin",
            f"has no {layout.PARTICLES_TABLE}: run the assimilation again with this version",
        )
    table = read_csv(path)
    weights = pd.to_numeric(table.get("weight"), errors="coerce") if "weight" in table else None
    if weights is None or not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise UserError.single(str(path), "weight", "every particle needs a weight >= 0, not all 0")
    return table


def posterior_sets(
    cube: np.ndarray, names: Sequence[str], particles: pd.DataFrame, seed: int
) -> tuple[np.ndarray, list[str]]:
    """The input sets with every input the twin learned drawn from its posterior: each set takes the
    points (in the unit cube) of one particle, drawn with probability its weight; the other inputs (the
    policies' own, and any the twin did not learn) keep their prior draws. Returns the sets and the
    names of the inputs drawn from the posterior."""
    learned = [n for n in names if f"u:{n}" in particles]
    if not learned:
        return cube, []
    weights = particles["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, POSTERIOR_STREAM]))
    picked = rng.choice(len(weights), size=len(cube), p=weights / weights.sum())
    out = cube.copy()
    for name in learned:
        out[:, list(names).index(name)] = particles[f"u:{name}"].to_numpy(dtype=float)[picked]
    return np.clip(out, 0.0, 1.0), learned


def _check(method: str, samples: int, policies: Sequence[ScenarioSource]) -> None:
    if not policies:
        raise UserError.single(None, "POLICY", "name at least one policy file to compare with the base")
    if method not in METHODS:
        raise UserError.single(None, "--method", f"choose from {', '.join(METHODS)} (got {method!r})")
    if samples < 4:
        raise UserError.single(None, "--samples", f"a band needs at least 4 input sets (got {samples})")
    if method == "sobol" and samples & (samples - 1):
        raise UserError.single(None, "--samples", f"a Sobol sequence needs a power of 2 (got {samples})")


def robust(
    base: ScenarioSource,
    policies: Sequence[ScenarioSource],
    options: StudyOptions | None = None,
    *,
    samples: int = 16,
    method: str = "lhs",
    target: str | None = None,
    metric: Sequence[str] = (),
    explain: Sequence[str] = (),
    twin: str | None = None,
    **option_kwargs: Any,
) -> RobustResult:
    """Run the base and each policy over the same input sets with common random numbers and write the
    robust comparison (see the module docstring). Mistakes raise UserError before anything runs."""
    options = options or StudyOptions(**option_kwargs)
    _check(method, samples, policies)
    refs = [parse_metric_ref(m, "--metric") for m in (metric or HEADLINE)]
    goal: Target | None = parse_target(target) if target else None
    loaded = [load_source(p, options.overrides) for p in (base, *policies)]
    names = display_names(loaded, [ld.path for ld in loaded])
    # a metric the base cannot produce (no cost rates, no perishables) is not modelled, never a 0 to rank
    lacking = not_modelled(loaded[0].scenario)
    asked = [r for r in [*(refs if metric else []), *([goal.ref] if goal else [])] if r.metric in lacking]
    if asked:
        raise UserError.single(
            str(loaded[0].path),
            "--metric" if metric else "--target",
            f"{asked[0].metric} is not modelled in {names[0]}",
        )
    unmodelled = [str(r) for r in refs if r.metric in lacking]
    refs = [r for r in refs if r.metric not in lacking]
    if goal is not None and str(goal.ref) not in [str(r) for r in refs]:
        refs.append(goal.ref)
    unknown = [e for e in explain if e not in names]
    if unknown:
        raise UserError.single(None, "--explain", f"{unknown[0]!r} is not one of {', '.join(names)}")
    s = loaded[0].scenario
    if not s.uncertain:
        raise UserError.single(
            str(loaded[0].path),
            "uncertain",
            "the base has no 'uncertain:' section: give its unknown "
            "inputs a range there (README: Uncertainty)",
        )
    all_inputs, own = union_inputs(loaded)
    particles = read_twin(twin) if twin else None
    if particles is not None and not [n for n in all_inputs if f"u:{n}" in particles]:
        raise UserError.single(
            str(twin),
            "--twin",
            f"the twin learned none of the uncertain inputs of {names[0]} or its policies",
        )
    reps = options.replications or DEFAULT_REPLICATIONS
    runs = (samples + 1) * reps * len(loaded)
    what = f"{len(loaded)} scenarios x ({samples:,} input sets + the central one) x {reps} replications"
    for ld in loaded:
        check_work(ld.scenario, runs, "--samples", what, options.max_trucks, str(ld.path))
    study = StudyFolder.for_study(options.root, s.name, KIND, label=options.label, out=options.out)
    check_space(study.folder, disk_bytes(s, runs, keep_tables=False, folders=runs // reps), "--samples")
    root_seed = options.root_seed(s)
    cube = draw_sets(method, samples, len(all_inputs), root_seed)
    learned: list[str] = []
    if particles is not None:
        cube, learned = posterior_sets(cube, all_inputs, particles, root_seed)
    settings = {"method": method, "samples": samples, "root_seed": root_seed, "policies": names}
    if twin:  # another twin, another study: never mixed with sets drawn from the prior
        settings["twin"] = str(Path(twin).absolute())
    refuse_other_study(study.folder, KIND, settings)
    result = RobustResult(
        study.folder, s.name, names, method, samples, reps, all_inputs, [str(r) for r in refs], target
    )
    result.not_modelled = unmodelled
    result.twin, result.learned = settings.get("twin"), learned
    result.resume_hint = rerun_hint(options.argv, study.folder)
    chosen: list[list[Point]] = []  # per scenario: the central point, then each input set's
    stacks = [
        Points.for_study(ld, study.folder / "policies" / name, options)
        for ld, name in zip(loaded, names, strict=True)
    ]
    for points, inputs in zip(stacks, own, strict=True):
        columns = [all_inputs.index(n) for n in inputs.names]
        chosen.append([points.get({})] + [points.get(inputs.settings(u[columns])) for u in cube])
    try:
        for points, name, mine in zip(stacks, names, chosen, strict=True):
            points.run(mine, reps, f"{name}: {samples} input sets + central")
    except PointFailed as exc:
        result.failures = exc.failures
        return result
    finally:
        for points in stacks:
            points.__exit__()
    values = _values(chosen, names, refs, reps)  # metric, policy, set (0 = central), value
    shown = _shown_inputs(cube, all_inputs, own)
    tables = analyse(values, shown, names, refs, goal, list(explain), root_seed)
    with study.open():
        study.write_csv(layout.ROBUST_TABLE, tables["robust"])
        study.write_csv(layout.ROBUST_SETS, _sets_table(shown, values))
        study.write_csv(layout.ROBUST_BOXES, tables["boxes"])
        study.write_csv(layout.ROBUST_VOI, tables["voi"])
        study.write_manifest(
            loaded[0],
            argv=options.argv,
            overrides=list(loaded[0].overrides),
            replications=reps,
            inputs=all_inputs,
            metrics=[str(r) for r in refs],
            target=target,
            rule=ROBUST_RULE,
            not_modelled=unmodelled,
            learned=learned,
            scenario_files=[str(ld.path) for ld in loaded],
            **settings,
        )
    return result


def _values(chosen: list[list[Point]], names: list[str], refs: list, reps: int) -> pd.DataFrame:
    """Each metric's mean over the replications of every point: metric, policy, set (0: central; k: the
    k-th input set), value."""
    rows = []
    for name, points in zip(names, chosen, strict=True):
        for k, point in enumerate(points):
            m = point.experiment.metrics()
            m = m[m["replication"] < reps]
            for ref in refs:
                v = ref.rows(m)["value"].mean()
                rows.append({"metric": str(ref), "policy": name, "set": k, "value": float(v)})
    return pd.DataFrame(rows)


def _shown_inputs(cube: np.ndarray, names: list[str], own: list[Inputs]) -> pd.DataFrame:
    """Each input set's value of every input as set (the first scenario that has the input shows it);
    one row a set, indexed 1..N as in the values."""
    rows = []
    for u in cube:
        row: dict[str, Any] = {}
        for inputs in own:
            columns = [names.index(n) for n in inputs.names]
            for name, value in zip(inputs.names, inputs.values(u[columns]), strict=True):
                row.setdefault(name, value)
        rows.append(row)
    return pd.DataFrame(rows, columns=names, index=pd.RangeIndex(1, len(cube) + 1, name="set"))


def _sets_table(shown: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One row a set (0: the central values): its inputs and every policy's metric (``METRIC:POLICY``)."""
    wide = values.assign(column=values["metric"] + ":" + values["policy"]).pivot(
        index="set", columns="column", values="value"
    )
    return shown.reindex(wide.index).join(wide).reset_index()


def analyse(
    values: pd.DataFrame,
    shown: pd.DataFrame,
    names: list[str],
    refs: list,
    goal: Target | None,
    explain: list[str],
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The robust tables from the values (metric, policy, set, value; set 0 the central point) and the
    inputs of each set: ``robust`` (per metric and policy), ``boxes`` and ``voi`` (the first metric)."""
    frames = []
    numeric = shown.apply(lambda col: col.map(_as_number)).astype(float)
    varied = numeric.loc[:, numeric.nunique() > 1]
    decision = None
    for ref in refs:
        rows = values[values["metric"] == str(ref)]
        wide = rows.pivot(index="set", columns="policy", values="value")[names]
        central, sets = wide.loc[0], wide.drop(index=0).dropna(axis=1, how="all")
        if sets.empty or sets.isna().all(axis=None):
            continue
        better = good_direction(ref.metric) or -1
        aim = (goal.op, goal.value) if goal is not None and str(goal.ref) == str(ref) else None
        table = robustness(sets, names[0], better, central, aim, seed)
        frames.append(table.assign(metric=str(ref), better="lower" if better < 0 else "higher"))
        if decision is None:
            decision = (ref, sets, better, table)
    robust_table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if decision is None:
        return {"robust": robust_table, "boxes": pd.DataFrame(), "voi": pd.DataFrame()}
    ref, sets, better, table = decision
    top = str(table.iloc[0]["policy"])
    r = regret(sets, better)
    x = varied.loc[sets.index]
    boxes = []
    goal_wide = None
    if goal is not None:
        goal_rows = values[values["metric"] == str(goal.ref)]
        goal_wide = goal_rows.pivot(index="set", columns="policy", values="value").loc[sets.index]
    for policy in dict.fromkeys([top, *explain]):
        if goal is not None and goal_wide is not None:
            got = goal_wide[policy]
            met = (got <= goal.value) if goal.op == "<=" else (got >= goal.value)
            boxes += _box_rows(policy, "misses the target", x, ~met.to_numpy(), r, shown)
        boxes += _box_rows(policy, "loses", x, (r[policy] > 0).to_numpy(), r, shown)
    voi = value_of_information(x, r, top).assign(metric=str(ref), chosen=top)
    return {"robust": robust_table, "boxes": pd.DataFrame(boxes), "voi": voi}


def _box_rows(
    policy: str, why: str, x: pd.DataFrame, failed: np.ndarray, r: pd.DataFrame, shown: pd.DataFrame
) -> list[dict[str, Any]]:
    """The box where ``policy`` fails, one row a limit (or one row with no limit), with the policy it
    loses to most often inside the box."""
    box = discover(x, failed)
    inside = np.ones(len(x), dtype=bool)
    for limit in box.limits:
        col = x[limit.input].to_numpy()
        inside &= col < limit.value if limit.op == "<" else col >= limit.value
    winners = r[inside & failed].idxmin(axis=1)
    against = str(winners.mode().iloc[0]) if len(winners) else ""
    common = {
        "policy": policy,
        "fails": why,
        "against": against if why == "loses" else "",
        "coverage": box.coverage,
        "density": box.density,
        "sets_in_box": box.sets,
        "failing_sets": box.failures,
        "sets": len(x),
    }
    dated = {c for c in shown.columns if len(shown[c]) and isinstance(shown[c].iloc[0], date)}
    if not box.limits:
        return [common | {"input": "", "op": "", "value": np.nan, "value_text": ""}]
    out = []
    for limit in box.limits:
        text = f"{limit.value:.4g}"
        if limit.input in dated:
            text = date.fromordinal(int(np.ceil(limit.value))).isoformat()
        out.append(common | {"input": limit.input, "op": limit.op, "value": limit.value, "value_text": text})
    return out


STUDY = Study(
    name="robust",
    help="run the base and policies over the same input sets drawn from their 'uncertain:' ranges "
    "(common inputs and random numbers): P(best), regret, the robust ranking and where each one fails",
    order=85,
    function=robust,
    source=Setting(
        "base", "path", "the base scenario (with an 'uncertain:' section)", flag="", metavar="base"
    ),
    settings=(
        Setting("policies", "paths", "policy scenarios", flag="", positional=True, page=False),
        Setting("samples", "int", "input sets to draw", minimum=4),
        Setting(
            "method",
            "text",
            "lhs: Latin hypercube; sobol: scrambled Sobol sequence (samples a power of 2)",
            choices=METHODS,
        ),
        Setting(
            "target",
            "text",
            "a target to satisfy, e.g. 'spoiled_trucks<=3000': the share of input sets meeting it",
            metavar="METRIC[@GATE/DIR]<=V",
        ),
        Setting(
            "metric",
            "texts",
            "headline metrics (repeatable; the first is the decision measure; default: "
            f"{', '.join(HEADLINE)})",
            metavar="METRIC[@GATE[/DIR]]",
        ),
        Setting("explain", "texts", "also find where this policy fails (repeatable)", metavar="POLICY"),
        Setting(
            "twin",
            "path",
            "an assimilate folder: draw the inputs it learned from its posterior particles instead of "
            "their prior ranges (decide now, on what we know now; the policies' own inputs keep their "
            "ranges)",
            metavar="FOLDER",
        ),
    ),
    shared=("seed", "parallel", "overrides", "root", "format", "out", "label", "max_trucks"),
    replications=Replications(DEFAULT_REPLICATIONS, per="replications per input set and policy"),
)
