"""Calibration to every reported figure at once: the free parameters a scenario marks (with bounds)
fitted by bounded least squares to the rows of the reported figures' file, weighted by their ranges.

Method (``bordersim calibrate`` when the scenario has a ``calibration.free`` section or ``--free``):

- **Residuals**: one per reported row, the simulated mean over R replications minus the reported value,
  scaled so that the edge of the reported range is 1 (:mod:`sim.analysis.fit`).
- **Common random numbers**: every evaluation runs replications 0..R-1 of the same root seed, through
  the runner. The residuals are then a deterministic function of the parameters, so finite differences
  see the parameters' effect, not the noise between seeds.
- **Optimiser**: ``scipy.optimize.least_squares`` (trust region reflective, bounded) on the parameters
  scaled to their bounds (0 at LOW, 1 at HIGH). The Jacobian is a forward difference of ``diff_step`` of
  the bounds (default 5%): a step must move a figure by more than the step function of a finite
  simulation does (a truck more or less), and 5% of a sensible bound moves yearly figures by hundreds of
  trucks. Every simulation counts against ``max_evaluations`` (the Jacobian's too); at the budget the
  best point evaluated is kept and the table says the fit stopped there.
- **The annual value**: the fit treats it as one row (its range is the 1% tolerance, so it weighs as
  much as any other figure at its edge). If the best point still misses it by more than the tolerance,
  a final ``brentq`` on the arrival scale (:func:`sim.studies.calibrate.calibrate`, the other parameters
  fixed) brings it within; the fit table is of that final scenario.
- **Identifiability**: from the Jacobian at the best point (:class:`sim.analysis.fit.Identifiability`).
- **The fit table** is computed on ``final_replications`` replications (the first R are the fit's) and
  written with a manifest under ``results/<scenario>/calibrate-<time>/``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import optimize

from sim.analysis.fit import Identifiability, fit_table, held_back_by, identifiability, residuals
from sim.analysis.history import history_values, outside_reason
from sim.errors import UserError
from sim.runner.backends import Backend
from sim.runner.pool import reduce_replications
from sim.scenario import LoadedScenario
from sim.scenario.free import FreeKeyError, FreeParameters, Path_
from sim.scenario.schema import Scenario
from sim.scenario.writer import calibrated_scenario_text
from sim.store.layout import DEFAULT_ROOT, EVALUATIONS, FIT_MARKDOWN, FIT_TABLE, JACOBIAN
from sim.store.manifest import calibration_manifest, write_manifest
from sim.store.outputs import StudyFolder
from sim.studies.calibrate import calibrate, scaled
from sim.studies.history import load_reported

DIFF_STEP = 0.05
MAX_EVALUATIONS = 40


@dataclass
class Point:
    """One evaluated parameter vector: its values, the rows' per-replication values and residuals."""

    number: int
    values: list[float]  # natural units, one per free key
    scaled: np.ndarray  # in [0, 1] of the bounds
    per_replication: np.ndarray  # replications x rows
    residuals: np.ndarray
    purpose: str  # "step" (asked by the optimiser) or "jacobian"
    seconds: float

    @property
    def cost(self) -> float:
        """Half the sum of squared residuals (what least squares minimises)."""
        return 0.5 * float(np.sum(self.residuals**2))


@dataclass
class Fit:
    """What the fit did and found."""

    keys: list[str]
    bounds: list[tuple[float, float]]
    start: list[float]
    rows: list[dict[str, Any]]
    replications: int
    final_replications: int
    root_seed: int
    diff_step: float
    max_evaluations: int
    points: list[Point] = field(default_factory=list)
    best: Point | None = None
    jacobian: np.ndarray | None = None
    jacobian_at: Point | None = None
    ident: Identifiability | None = None
    stopped: str = ""
    scale_factor: float = 1.0  # the final brentq's factor on the arrival scale (1: not needed)
    annual: str = ""  # what was done about the annual value, in words
    table: pd.DataFrame | None = None
    scenario: Scenario | None = None  # the calibrated scenario
    doc: dict[str, Any] | None = None  # its document (for the calibrated file)
    seconds: float = 0.0
    folder: Path | None = None

    @property
    def fitted(self) -> list[float]:
        """The best point's parameter values."""
        assert self.best is not None
        return self.best.values


class _Budget(Exception):
    """The evaluation budget is spent: least squares stops and the best point is kept."""


def fit_rows(reported: Path, section: str, ids: Sequence[str] | None, where: str) -> list[dict[str, Any]]:
    """The reported figures to fit: the named ``ids`` (or every row with a reported number), each with a
    usable ``range``; a UserError names the file and field of any problem."""
    rows = load_reported(reported, section)
    indexed = list(enumerate(rows))
    if ids is None:
        chosen = [(i, r) for i, r in indexed if r.get("reported") is not None]
    else:
        by_id = {r.get("id"): (i, r) for i, r in indexed if r.get("id")}
        chosen = []
        for k, ident in enumerate(ids):
            if ident not in by_id:
                known = ", ".join(sorted(str(i) for i in by_id)) or "none has an id"
                raise UserError.single(
                    where,
                    f"calibration.rows.{k}",
                    f"'{ident}' is not the id of a figure in section '{section}' of {reported} ({known})",
                )
            chosen.append(by_id[ident])
    if not chosen:
        raise UserError.single(str(reported), section, "has no reported figure to fit")
    out = []
    for i, row in chosen:
        value = row.get("reported")
        rng = row.get("range")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise UserError.single(str(reported), f"{section}.{i}.reported", "a figure to fit needs a number")
        ok = (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in rng)
        )
        if not ok or not rng[0] <= value <= rng[1] or not rng[0] < rng[1]:
            raise UserError.single(
                str(reported),
                f"{section}.{i}.range",
                f"a figure to fit needs 'range: [LOW, HIGH]' with LOW <= reported ({value}) <= HIGH and "
                f"LOW < HIGH (got {rng!r})",
            )
        out.append({**row, "range": (float(rng[0]), float(rng[1])), "index": i})
    return out


def annual_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The row of the whole run's cleared value (USD M), if the fit has one."""
    for row in rows:
        if row["metric"] == {"kind": "cleared_value_musd"}:
            return row
    return None


def _section_file(loaded: LoadedScenario) -> str:
    """The file of the extends chain that writes the ``calibration`` section (for error messages)."""
    for path in loaded.files:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and "calibration" in data:
            return str(path)
    return str(loaded.path)


def free_parameters(
    loaded: LoadedScenario, extra: dict[str, tuple[float, float]]
) -> tuple[FreeParameters, dict[str, tuple[float, float]]]:
    """The scenario's free keys (its ``calibration.free``, then ``--free``, which wins) and their bounds;
    a UserError names the key (and the file that writes it) that names nothing movable."""
    spec = loaded.scenario.calibration
    bounds = dict(spec.free) if spec is not None else {}
    for key in bounds:
        if key in extra:
            continue
        try:
            FreeParameters(loaded.scenario, [key])
        except FreeKeyError as exc:
            raise UserError.single(_section_file(loaded), f"calibration.free.{key}", str(exc)) from None
    for key in extra:
        try:
            FreeParameters(loaded.scenario, [key])
        except FreeKeyError as exc:
            raise UserError.single(None, f"--free {key}", str(exc)) from None
    bounds.update(extra)
    try:
        return FreeParameters(loaded.scenario, list(bounds)), bounds
    except FreeKeyError as exc:
        raise UserError.single(_section_file(loaded), "calibration.free", str(exc)) from None


def fit(
    loaded: LoadedScenario,
    *,
    extra_free: dict[str, tuple[float, float]],
    reported: Path,
    replications: int,
    final_replications: int,
    root_seed: int,
    backend: Backend,
    max_evaluations: int = MAX_EVALUATIONS,
    diff_step: float = DIFF_STEP,
    target_usd: float | None = None,
    tolerance: float = 0.01,
    root: Path = DEFAULT_ROOT,
    argv: Sequence[str] = (),
    report: Callable[[Point, Fit], None] = lambda p, f: None,
) -> Fit:
    """Fit the free parameters to the reported figures (module docstring), write the fit table with a
    manifest, and return the fit with the calibrated scenario (not yet written as a file)."""
    began = time.monotonic()
    scenario = loaded.scenario
    free, bounds = free_parameters(loaded, extra_free)
    spec = scenario.calibration
    section = spec.section if spec is not None else "year_2021"
    rows = fit_rows(reported, section, spec.rows if spec is not None else None, _section_file(loaded))
    for row in rows:
        why = outside_reason(scenario, row["metric"])
        if why:
            raise UserError.single(
                str(reported), f"{section}.{row['index']}", f"'{row['label']}' cannot be fitted here: {why}"
            )
    keys = free.keys
    lo = np.array([bounds[k][0] for k in keys])
    hi = np.array([bounds[k][1] for k in keys])
    start = np.array(free.start())
    result = Fit(
        keys,
        [bounds[k] for k in keys],
        list(start),
        rows,
        replications,
        final_replications,
        root_seed,
        diff_step,
        max_evaluations,
    )
    metrics = [r["metric"] for r in rows]
    reduce = functools.partial(history_values, metrics=metrics)
    cache: dict[tuple[float, ...], Point] = {}
    jacobians: dict[tuple[float, ...], np.ndarray] = {}

    def natural(u: np.ndarray) -> list[float]:
        return [float(v) for v in lo + np.clip(u, 0.0, 1.0) * (hi - lo)]

    def moved(values: list[float]) -> Scenario:
        try:
            return free.apply(values)
        except (FreeKeyError, ValueError) as exc:
            raise UserError.single(str(loaded.path), "calibration.free", f"at {values}: {exc}") from None

    def evaluate(u: np.ndarray, purpose: str) -> Point:
        key = tuple(np.round(u, 9))
        if key in cache:
            return cache[key]
        if len(result.points) >= max_evaluations:
            raise _Budget
        t0 = time.monotonic()
        values = natural(u)
        per = np.array(reduce_replications(moved(values), root_seed, replications, reduce, backend), float)
        point = Point(
            len(result.points) + 1,
            values,
            np.array(u, float),
            per,
            residuals(per.mean(axis=0), rows),
            purpose,
            time.monotonic() - t0,
        )
        cache[key] = point
        result.points.append(point)
        report(point, result)
        return point

    def fun(u: np.ndarray) -> np.ndarray:
        return evaluate(u, "step").residuals

    def jac(u: np.ndarray) -> np.ndarray:
        base = evaluate(u, "step")
        columns = []
        for j in range(len(keys)):
            h = diff_step if u[j] + diff_step <= 1.0 else -diff_step
            v = np.array(u, float)
            v[j] += h
            columns.append((evaluate(v, "jacobian").residuals - base.residuals) / h)
        matrix = np.column_stack(columns)
        jacobians[tuple(np.round(u, 9))] = matrix
        return matrix

    u0 = np.clip((start - lo) / (hi - lo), 0.0, 1.0)
    try:
        ls = optimize.least_squares(
            fun,
            u0,
            jac=jac,
            bounds=(0.0, 1.0),
            method="trf",
            x_scale=1.0,
            xtol=diff_step / 5,
            ftol=1e-3,
            gtol=1e-6,
            max_nfev=10 * max_evaluations,
        )
        result.stopped = f"least squares: {ls.message.rstrip('.')}"
    except _Budget:
        result.stopped = (
            f"evaluation budget spent ({max_evaluations} simulations of {replications} replications)"
        )
    steps = [p for p in result.points if p.purpose == "step"] or result.points
    result.best = min(steps, key=lambda p: p.cost)
    if jacobians:
        at = min(jacobians, key=lambda k: float(np.linalg.norm(np.array(k) - result.best.scaled)))
        result.jacobian = jacobians[at]
        result.jacobian_at = cache[at]
        result.ident = identifiability(result.jacobian, keys)
    final = moved(result.best.values)
    annual = annual_row(rows)
    target = target_usd if target_usd is not None else (annual["reported"] * 1e6 if annual else None)
    if target is None:
        result.annual = "no annual value among the fitted figures and no --target-usd: the scale is the fit's"
    else:
        at_best = (
            result.best.per_replication[:, rows.index(annual)].mean() * 1e6 if annual is not None else None
        )
        if at_best is not None and abs(at_best / target - 1) <= tolerance:
            result.annual = (
                f"met by the fit: cleared USD {at_best / 1e6:,.1f} M against {target / 1e6:,.1f} M "
                f"({at_best / target - 1:+.2%}, tolerance {tolerance:.0%}); no final scale step"
            )
        else:
            cal = calibrate(final, target, tolerance, replications, root_seed, backend)
            result.scale_factor = cal.scale
            final = scaled(final, cal.scale)
            result.annual = (
                f"final brentq on the arrival scale (the other parameters fixed): x{cal.scale:.6f} gives "
                f"cleared USD {cal.final.mean / 1e6:,.1f} M against {target / 1e6:,.1f} M ({cal.error:+.2%}) "
                f"in {len(cal.evaluations)} evaluations"
            )
    table_values = np.array(
        reduce_replications(final, root_seed, final_replications, reduce, backend), dtype=float
    )
    result.table = fit_table(table_values, rows)
    if result.jacobian is not None:
        names = [r.get("id") or r["label"] for r in rows]
        table_residuals = result.table["residual"].to_numpy()
        result.table["why_outside"] = held_back_by(
            result.jacobian, table_residuals, result.best.scaled, names, keys
        )
    result.scenario = final
    result.doc = free.applied_document(result.best.values)
    if result.scale_factor != 1.0 and "demand" in result.doc:
        result.doc["demand"]["scale"] = final.demand.scale if final.demand is not None else 1.0
    result.seconds = time.monotonic() - began
    result.folder = _write(result, loaded, free, reported, root, list(argv))
    return result


def _write(
    result: Fit, loaded: LoadedScenario, free: FreeParameters, reported: Path, root: Path, argv: list[str]
) -> Path:
    """The fit table, every evaluation and a manifest, each file written atomically."""
    outputs = StudyFolder.for_study(root, loaded.scenario.name, "calibrate")
    folder = outputs.folder
    assert result.table is not None
    outputs.write_csv(FIT_TABLE, result.table)
    # the words come from present (a stated exception in tests/test_layers.py until the study registry
    # renders fit.md after the study)
    from sim.present.fit_text import fit_markdown

    outputs.write_text(FIT_MARKDOWN, fit_markdown(result) + "\n")
    evals = pd.DataFrame(
        [
            {
                "evaluation": p.number,
                "purpose": p.purpose,
                **dict(zip(result.keys, p.values, strict=True)),
                "cost": p.cost,
                "seconds": p.seconds,
                **{
                    f"residual:{r.get('id') or r['label']}": v
                    for r, v in zip(result.rows, p.residuals, strict=True)
                },
            }
            for p in result.points
        ]
    )
    outputs.write_csv(EVALUATIONS, evals)
    if result.jacobian is not None:
        jac = pd.DataFrame(result.jacobian, columns=result.keys)
        jac.insert(0, "figure", [r.get("id") or r["label"] for r in result.rows])
        outputs.write_csv(JACOBIAN, jac)
    write_manifest(
        folder,
        calibration_manifest(
            loaded,
            reported,
            root_seed=result.root_seed,
            replications=result.replications,
            final_replications=result.final_replications,
            argv=argv,
            fit={
                "free": {
                    k: {"bounds": list(b), "start": s, "fitted": v}
                    for k, b, s, v in zip(
                        result.keys, result.bounds, result.start, result.fitted, strict=True
                    )
                },
                "method": "scipy.optimize.least_squares (trf, bounded), forward-difference Jacobian",
                "diff_step": result.diff_step,
                "evaluations": len(result.points),
                "max_evaluations": result.max_evaluations,
                "stopped": result.stopped,
                "annual_value": result.annual,
                "scale_factor": result.scale_factor,
                "identifiability": [i.as_dict() for i in result.ident.issues()] if result.ident else [],
                "seconds": round(result.seconds, 1),
            },
        ),
    )
    return folder


def calibrated_file(
    loaded: LoadedScenario, out: Path, result: Fit, free: FreeParameters, command: str
) -> str:
    """The calibrated scenario: extends the fitted one and sets what the fit moved, each value marked as
    fitted; the header says how (command, method, parameters, annual value, identifiability, table)."""
    from sim.present.fit_text import fit_header  # the words: see _write

    assert result.doc is not None
    header = fit_header(result, command)
    paths: list[Path_] = free.written_keys()
    if result.scale_factor != 1.0 and ("demand", "scale") not in paths and "demand" in result.doc:
        paths.append(("demand", "scale"))
    fitted: list[tuple[tuple[str | int, ...], Any]] = [(p, free.value_at(result.doc, p)) for p in paths]
    if result.scale_factor != 1.0 and result.scenario is not None:
        fitted += [(("arrivals", name, "rate"), arr.rate) for name, arr in result.scenario.arrivals.items()]
    return calibrated_scenario_text(
        loaded, out, header, fitted, seed=result.root_seed, replications=result.final_replications
    )
