"""The calibration study: fit a scenario to the reported figures and write the calibrated scenario file.

Two methods behind one entry point, :func:`calibrate_scenario`:

- with free parameters (the scenario's ``calibration:`` section, or ``free``), a bounded least-squares fit
  of them to the reported figures (:mod:`sim.studies.fit`);
- without (or with ``scale_only``), the arrival scale at which the simulated cleared value meets
  ``target_usd`` (:mod:`sim.studies.calibrate`, brentq).

Every check of the study's own settings is here, so the command line and the Python API refuse the same
things with the same words; the calibrated file is written here too, through the one writer
(:mod:`sim.scenario.writer`), never over an existing file without ``options.force``.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError
from sim.model.size import check_size
from sim.scenario import LoadedScenario
from sim.store.atomic import write_text_atomic
from sim.store.outputs import refuse_existing
from sim.studies.calibrate import SCALE_LIMITS, Calibration, Evaluation, calibrate, calibrated_yaml, scaled
from sim.studies.fit import Fit, Point, calibrated_file, fit, free_parameters
from sim.studies.history import DEFAULT_REPORTED
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions, load_source
from sim.studies.registry import Replications, Setting, Study

Step = Callable[[str], None]  # receives one line per evaluation (the command prints it; the API need not)


@dataclass
class CalibrationResult:
    """A finished calibration: the file written, the method, and what it found.

    ``fit`` is set for a fit of free parameters (its table, parameters and study folder), ``scale`` for
    the arrival scale alone."""

    scenario: str
    file: Path
    method: str  # "fit" or "scale"
    fit: Fit | None = None
    scale: Calibration | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path | None:
        """The fit's study folder (fit table, evaluations, manifest); None for a scale-only calibration."""
        return self.fit.folder if self.fit is not None else None

    @property
    def summary(self) -> pd.DataFrame:
        """The fit table (figure, reported, range, simulated with its interval), or the evaluations."""
        if self.fit is not None and self.fit.table is not None:
            return self.fit.table
        assert self.scale is not None
        return pd.DataFrame(
            [
                {
                    "scale": e.scale,
                    "cleared_usd": e.mean,
                    "half_width": e.half_width(),
                    "error": e.mean / self.scale.target - 1,
                }
                for e in self.scale.evaluations
            ]
        )


def parse_free(items: list[str] | tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """``KEY=LOW..HIGH`` strings as bounds by key; a UserError names a malformed one."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        key, sep, rng = item.partition("=")
        low, dots, high = rng.partition("..")
        try:
            bounds = (float(low), float(high))
        except ValueError:
            bounds = None
        if not sep or not dots or not key.strip() or bounds is None:
            raise UserError.single(
                None, f"--free {item[:80]}", "write KEY=LOW..HIGH, e.g. demand.scale=0.8..1.2"
            )
        if not all(math.isfinite(b) for b in bounds) or not bounds[0] < bounds[1]:
            raise UserError.single(
                None, f"--free {key.strip()}", f"bounds must be finite with LOW < HIGH (got {rng})"
            )
        out[key.strip()] = bounds
    return out


def calibrated_path(loaded: LoadedScenario, out: Path | None) -> Path:
    """Where the calibrated file goes: ``out``, or ``<scenario>_calibrated.yaml`` beside the scenario."""
    return Path(out) if out is not None else loaded.path.with_name(f"{loaded.path.stem}_calibrated.yaml")


def _command(argv: tuple[str, ...]) -> str:
    """The command that made the file, for its header."""
    typed = list(argv[1:]) if argv else []
    return "bordersim " + " ".join(shlex.quote(a) for a in typed) if typed else "bordersim calibrate"


def calibrate_scenario(
    source: ScenarioSource,
    options: StudyOptions = DEFAULTS,
    *,
    target_usd: float | None = None,
    tolerance: float = 0.01,
    free: Mapping[str, tuple[float, float]] | list[str] | tuple[str, ...] = (),
    reported: Path | None = None,
    max_evaluations: int = 40,
    diff_step: float = 0.05,
    final_replications: int = 4,
    scale_only: bool = False,
    on_step: Step | None = None,
) -> CalibrationResult:
    """Calibrate ``source`` and write ``<scenario>_calibrated.yaml`` (or ``options.out``).

    ``options.replications`` is per evaluation (default 2 for a fit, 4 for the scale); ``free`` adds free
    parameters (``{"demand.scale": (0.8, 1.2)}`` or ``KEY=LOW..HIGH`` strings)."""
    if target_usd is not None and (not math.isfinite(target_usd) or target_usd <= 0):
        raise UserError.single(None, "--target-usd", f"must be a positive number (got {target_usd})")
    if not 0 < tolerance < 1:
        raise UserError.single(None, "--tolerance", f"must be between 0 and 1 (got {tolerance})")
    options.check_replications()
    extra = dict(free) if isinstance(free, Mapping) else parse_free(list(free))
    loaded = load_source(source, options.overrides)
    if scale_only and extra:
        raise UserError.single(None, "--scale-only", "fits the arrival scale only: drop --free, or drop this")
    fitting = not scale_only and (bool(extra) or loaded.scenario.calibration is not None)
    if not fitting and target_usd is None:
        raise UserError.single(
            str(loaded.path),
            "--target-usd",
            "is required when the scenario marks no free parameters (a 'calibration: {free: ...}' section) "
            "and no --free is given",
        )
    target = refuse_existing(calibrated_path(loaded, options.out), options.force)
    check_size(scaled(loaded.scenario, SCALE_LIMITS[1]), options.max_trucks, str(loaded.path))
    step = on_step or (lambda line: None)
    if fitting:
        return _fit(loaded, options, extra, target, step, target_usd, tolerance, reported,
                    max_evaluations, diff_step, final_replications)  # fmt: skip
    return _scale(loaded, options, target, step, target_usd, tolerance)  # type: ignore[arg-type]


def _fit(
    loaded: LoadedScenario,
    options: StudyOptions,
    extra: dict[str, tuple[float, float]],
    target: Path,
    step: Step,
    target_usd: float | None,
    tolerance: float,
    reported: Path | None,
    max_evaluations: int,
    diff_step: float,
    final_replications: int,
) -> CalibrationResult:
    """The fit of free parameters to the reported figures (sim/studies/fit.py)."""
    reps = options.replications or 2
    if max_evaluations < 1:
        raise UserError.single(None, "--max-evaluations", f"must be at least 1 (got {max_evaluations})")
    if not 0 < diff_step <= 0.5:
        raise UserError.single(None, "--diff-step", f"must be in (0, 0.5] (got {diff_step})")
    if final_replications < max(2, reps):
        raise UserError.single(
            None,
            "--final-replications",
            f"must be at least 2 and --replications ({reps}) (got {final_replications})",
        )
    free, _ = free_parameters(loaded, extra)
    backend = options.resolved_backend()
    step(
        f"fitting {len(free.keys)} free parameters of {loaded.scenario.name} to the reported figures: "
        f"{reps} replications per evaluation, at most {max_evaluations} evaluations, {backend.describe()}"
    )

    def report(p: Point, f: Fit) -> None:
        worst = int(abs(p.residuals).argmax())
        row = f.rows[worst]
        values = ", ".join(f"{k}={v:.5g}" for k, v in zip(f.keys, p.values, strict=True))
        step(
            f"  {p.number:3d} {p.purpose:8s} {values}: cost {p.cost:.3f} (largest residual "
            f"{p.residuals[worst]:+.2f}, {row.get('id') or row['label']}) {p.seconds:.0f} s"
        )

    result = fit(
        loaded,
        extra_free=extra,
        reported=reported or DEFAULT_REPORTED,
        replications=reps,
        final_replications=final_replications,
        root_seed=options.root_seed(loaded.scenario),
        backend=backend,
        max_evaluations=max_evaluations,
        diff_step=diff_step,
        target_usd=target_usd,
        tolerance=tolerance,
        root=options.root,
        argv=options.argv,
        report=report,
    )
    write_text_atomic(target, calibrated_file(loaded, target, result, free, _command(options.argv)))
    return CalibrationResult(loaded.scenario.name, target, "fit", fit=result)


def _scale(
    loaded: LoadedScenario,
    options: StudyOptions,
    target: Path,
    step: Step,
    target_usd: float,
    tolerance: float,
) -> CalibrationResult:
    """The one-parameter calibration: the arrival scale that meets ``target_usd`` (brentq)."""
    reps = options.replications or 4
    backend = options.resolved_backend()
    step(
        f"calibrating {loaded.scenario.name}: target USD {target_usd:,.0f}, "
        f"{reps} replications per evaluation, {backend.describe()}"
    )

    def report(e: Evaluation, tgt: float) -> None:
        step(
            f"  scale {e.scale:.6f}: cleared USD {e.mean:,.0f} +- {e.half_width():,.0f} "
            f"({e.mean / tgt - 1:+.3%})"
        )

    seed = options.root_seed(loaded.scenario)
    cal = calibrate(loaded.scenario, target_usd, tolerance, reps, seed, backend, report)
    write_text_atomic(target, calibrated_yaml(loaded, target, cal, _command(options.argv)))
    result = CalibrationResult(loaded.scenario.name, target, "scale", scale=cal)
    spread = cal.final.half_width() / target_usd
    if spread > tolerance:
        result.notes.append(
            f"the 95% interval of the cleared value (+- {spread:.1%} of the target) is wider "
            f"than the tolerance ({tolerance:.1%}): the scale is pinned down on these seeds only; "
            "more replications would narrow it"
        )
    return result


def describe(result: CalibrationResult) -> dict[str, Any]:
    """The calibration's headline in data: method, file, and the fitted values or the scale."""
    if result.fit is not None:
        return {
            "method": "fit",
            "file": str(result.file),
            "folder": str(result.folder),
            "fitted": dict(zip(result.fit.keys, result.fit.fitted, strict=True)),
        }
    assert result.scale is not None
    return {"method": "scale", "file": str(result.file), "scale": result.scale.scale}


FIT = "fitting free parameters to reported figures"

STUDY = Study(
    name="calibrate",
    help="fit the scenario's free parameters to the reported figures (or the arrival scale to a value)",
    order=40,
    function=calibrate_scenario,
    source=Setting("source", "path", "scenario YAML file", flag="", metavar="scenario"),
    settings=(
        Setting(
            "target_usd",
            "float",
            "cleared value to reach, e.g. 4.27e9 (required without free parameters; with them it replaces "
            "the reported annual value)",
        ),
        Setting("tolerance", "float", "relative error allowed", minimum=0.0, maximum=1.0),
        Setting(
            "free",
            "texts",
            "a free parameter and its bounds (repeatable; adds to the scenario's calibration.free)",
            metavar="KEY=LOW..HIGH",
            group=FIT,
        ),
        Setting("reported", "path", "reported figures (YAML; default: data/reported_2021.yaml)", group=FIT),
        Setting("max_evaluations", "int", "simulations the fit may run", minimum=1, group=FIT),
        Setting(
            "diff_step",
            "float",
            "finite-difference step, as a share of each parameter's bounds",
            minimum=0.0,
            maximum=1.0,
            group=FIT,
        ),
        Setting(
            "final_replications",
            "int",
            "replications of the final fit table (at least --replications)",
            minimum=2,
            group=FIT,
        ),
        Setting(
            "scale_only",
            "flag",
            "ignore the scenario's free parameters: only the arrival scale, to --target-usd (brentq)",
            group=FIT,
        ),
    ),
    shared=("seed", "parallel", "overrides", "root", "out", "force"),
    replications=Replications(None, per="replications per evaluation", rule="4; 2 with free parameters"),
    callbacks=("on_step",),
)
