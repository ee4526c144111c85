"""``calibrate`` and ``validate-history``: fitting the model to reported figures, and checking it."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sim.commands.options import Parents, backend, command_line
from sim.errors import UserError

if TYPE_CHECKING:
    from sim.runner.backends import Backend
    from sim.scenario import LoadedScenario


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``calibrate`` and ``validate-history``."""
    cal = sub.add_parser(
        "calibrate",
        parents=[p.seed, p.parallel, p.overrides, p.root],
        help="fit the scenario's free parameters to the reported figures (or the arrival scale to a value)",
    )
    cal.add_argument("scenario", type=Path)
    cal.add_argument(
        "--target-usd",
        type=float,
        help="cleared value to reach, e.g. 4.27e9 (required without free parameters; with them it replaces "
        "the reported annual value)",
    )
    cal.add_argument("--tolerance", type=float, default=0.01, help="relative error allowed (default 0.01)")
    cal.add_argument(
        "--replications", type=int, help="replications per evaluation (default 4; 2 with free parameters)"
    )
    cal.add_argument(
        "--out", type=Path, help="calibrated scenario file (default: <scenario>_calibrated.yaml)"
    )
    cal.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    fit = cal.add_argument_group("fitting free parameters to reported figures")
    fit.add_argument(
        "--free",
        action="append",
        default=[],
        metavar="KEY=LOW..HIGH",
        help="a free parameter and its bounds (repeatable; adds to the scenario's calibration.free)",
    )
    fit.add_argument(
        "--reported", type=Path, help="reported figures (YAML; default: data/reported_2021.yaml)"
    )
    fit.add_argument(
        "--max-evaluations", type=int, default=40, help="simulations the fit may run (default 40)"
    )
    fit.add_argument(
        "--diff-step",
        type=float,
        default=0.05,
        help="finite-difference step, as a share of each parameter's bounds (default 0.05)",
    )
    fit.add_argument(
        "--final-replications",
        type=int,
        default=4,
        help="replications of the final fit table (default 4, at least --replications)",
    )
    fit.add_argument(
        "--scale-only",
        action="store_true",
        help="ignore the scenario's free parameters: only the arrival scale, to --target-usd (brentq)",
    )
    cal.set_defaults(handler=cmd_calibrate)

    hist = sub.add_parser(
        "validate-history",
        parents=[p.seed, p.parallel, p.root, p.output, p.overrides],
        help="compare a run of the 2021 scenario (and the winter) with reported figures, or any "
        "scenario with observed trucks waiting (--observed)",
        description=VALIDATE_HISTORY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hist.add_argument(
        "scenario", type=Path, help="the calibrated 2021 scenario; with --observed, the scenario observed"
    )
    hist.add_argument("--winter", type=Path, help="the winter 2021-22 scenario (its backlog is reported)")
    hist.add_argument(
        "--reported", type=Path, help="reported figures (YAML; default: data/reported_2021.yaml)"
    )
    hist.add_argument(
        "--observed",
        type=Path,
        metavar="FILE.csv",
        help="observed trucks waiting (columns date, gate, direction, value): compare SCENARIO with them "
        "instead of the reported figures",
    )
    hist.add_argument(
        "--at",
        default="12:00",
        metavar="HH:MM",
        help="with --observed: the local time of day each date's simulated value is read at (default 12:00)",
    )
    hist.add_argument("--replications", type=int, help="replications (default: the scenario's, at least 2)")
    hist.add_argument("--out", type=Path, help="folder for the tables (default: results/history-<scenario>)")
    hist.set_defaults(handler=cmd_validate_history)


VALIDATE_HISTORY_DESCRIPTION = """\
Without --observed: run the calibrated 2021 scenario (and, with --winter, the winter 2021-22) and
compare them with the reported figures of data/reported_2021.yaml.

With --observed FILE.csv: run (or reuse) SCENARIO's replications and compare them with your own
observations of trucks waiting, one per line:

    date,gate,direction,value
    2021-06-14,huu_nghi,export,90
    2021-06-14,all,all,300

date is YYYY-MM-DD inside the run; gate is a gate of the scenario (its key or its name) or 'all';
direction is export, import or all; value is trucks waiting, a number at least 0 (an optional
'source' column is kept). The daily value compared is the number of trucks waiting (arrived at the
gate area and not yet crossed, turned back or diverted: before the yard, outside it and in it) at
--at (default 12:00) local time of that date, read from the exact backlog series; per row the mean
over replications with its 95% t-interval, the observed value and the ratio simulated / observed,
then the root mean square of ln(ratio) and how many observations fall inside the interval (and
inside the 95% prediction interval of one day's value, the fairer test of a single count). Writes
observed.csv, observed.md and plots/backlog.png (the observed points drawn) under
results/history-<scenario>/.
"""


def parse_free(items: list[str]) -> dict[str, tuple[float, float]]:
    """``--free KEY=LOW..HIGH`` options as bounds by key; a UserError names a malformed one."""
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


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the free parameters to the reported figures, or (without any) find the arrival scale that
    meets the target cleared value; write the calibrated scenario."""
    from sim.scenario import load_scenario
    from sim.scenario.size import check_size
    from sim.studies.calibrate import SCALE_LIMITS, scaled

    if args.target_usd is not None and (not math.isfinite(args.target_usd) or args.target_usd <= 0):
        raise UserError.single(None, "--target-usd", f"must be a positive number (got {args.target_usd})")
    if not 0 < args.tolerance < 1:
        raise UserError.single(None, "--tolerance", f"must be between 0 and 1 (got {args.tolerance})")
    if args.replications is not None and args.replications < 1:
        raise UserError.single(None, "--replications", f"must be at least 1 (got {args.replications})")
    extra = parse_free(args.free)
    loaded = load_scenario(args.scenario, args.overrides)
    if args.scale_only and extra:
        raise UserError.single(None, "--scale-only", "fits the arrival scale only: drop --free, or drop this")
    fitting = not args.scale_only and (bool(extra) or loaded.scenario.calibration is not None)
    if not fitting and args.target_usd is None:
        raise UserError.single(
            str(args.scenario),
            "--target-usd",
            "is required when the scenario marks no free parameters (a 'calibration: {free: ...}' section) "
            "and no --free is given",
        )
    runner = backend(args)
    seed = loaded.scenario.run.seed if args.seed is None else args.seed
    target = args.out or args.scenario.with_name(f"{args.scenario.stem}_calibrated.yaml")
    if target.exists() and not args.force:
        raise UserError.single(
            str(target), "--out", "already exists; add --force to overwrite it, or choose another --out"
        )
    check_size(scaled(loaded.scenario, SCALE_LIMITS[1]), None, str(args.scenario))
    typed = sys.argv[1:]
    command = "bordersim " + " ".join(shlex.quote(a) for a in typed) if typed else "bordersim calibrate"
    if fitting:
        return _fit(args, loaded, extra, seed, runner, target, command)
    return _scale_only(args, loaded, seed, runner, target, command)


def _fit(
    args: argparse.Namespace,
    loaded: LoadedScenario,
    extra: dict[str, tuple[float, float]],
    seed: int,
    runner: Backend,
    target: Path,
    command: str,
) -> int:
    """The fit of free parameters to the reported figures (sim/studies/fit.py)."""
    from sim.present import terminal
    from sim.store.atomic import write_text_atomic
    from sim.studies.fit import (
        Fit,
        Point,
        calibrated_file,
        fit,
        free_parameters,
        parameter_lines,
        table_lines,
    )
    from sim.studies.history import DEFAULT_REPORTED

    reps = args.replications or 2
    if args.max_evaluations < 1:
        raise UserError.single(None, "--max-evaluations", f"must be at least 1 (got {args.max_evaluations})")
    if not 0 < args.diff_step <= 0.5:
        raise UserError.single(None, "--diff-step", f"must be in (0, 0.5] (got {args.diff_step})")
    if args.final_replications < max(2, reps):
        raise UserError.single(
            None,
            "--final-replications",
            f"must be at least 2 and --replications ({reps}) (got {args.final_replications})",
        )
    free, _ = free_parameters(loaded, extra)
    terminal.say(
        f"fitting {len(free.keys)} free parameters of {loaded.scenario.name} to the reported figures: "
        f"{reps} replications per evaluation, at most {args.max_evaluations} evaluations, "
        f"{runner.describe()}",
        err=True,
    )

    def report(p: Point, f: Fit) -> None:
        worst = int(abs(p.residuals).argmax())
        row = f.rows[worst]
        values = ", ".join(f"{k}={v:.5g}" for k, v in zip(f.keys, p.values, strict=True))
        terminal.say(
            f"  {p.number:3d} {p.purpose:8s} {values}: cost {p.cost:.3f} (largest residual "
            f"{p.residuals[worst]:+.2f}, {row.get('id') or row['label']}) {p.seconds:.0f} s",
            err=True,
        )

    result = fit(
        loaded,
        extra_free=extra,
        reported=args.reported or DEFAULT_REPORTED,
        replications=reps,
        final_replications=args.final_replications,
        root_seed=seed,
        backend=runner,
        max_evaluations=args.max_evaluations,
        diff_step=args.diff_step,
        target_usd=args.target_usd,
        tolerance=args.tolerance,
        root=args.results_root,
        argv=command_line(),
        report=report,
    )
    write_text_atomic(target, calibrated_file(loaded, target, result, free, command))
    for line in parameter_lines(result):
        terminal.say(line)
    terminal.say(f"annual value: {result.annual}")
    for warning in (
        result.ident.warnings() if result.ident else ["no Jacobian computed: raise --max-evaluations"]
    ):
        terminal.warning(f"not identified: {warning}")
    terminal.say(f"fit table ({result.final_replications} replications, 95% CI):")
    for line in table_lines(result.table):
        terminal.say(line)
    missed = [r["figure"] for _, r in result.table.iterrows() if not r["within_range"]]
    if missed:
        terminal.note(f"outside its reported range: {'; '.join(missed)}")
    terminal.say(
        f"{len(result.points)} evaluations in {result.seconds / 60:.1f} min ({result.stopped}); "
        f"wrote {target} and {result.folder}"
    )
    return 0


def _scale_only(
    args: argparse.Namespace, loaded: LoadedScenario, seed: int, runner: Backend, target: Path, command: str
) -> int:
    """The one-parameter calibration: the arrival scale that meets --target-usd (brentq)."""
    from sim.present import terminal
    from sim.store.atomic import write_text_atomic
    from sim.studies.calibrate import Evaluation, calibrate, calibrated_yaml

    args.replications = args.replications or 4
    terminal.say(
        f"calibrating {loaded.scenario.name}: target USD {args.target_usd:,.0f}, "
        f"{args.replications} replications per evaluation, {runner.describe()}",
        err=True,
    )

    def report(e: Evaluation, tgt: float) -> None:
        terminal.say(
            f"  scale {e.scale:.6f}: cleared USD {e.mean:,.0f} +- {e.half_width():,.0f} "
            f"({e.mean / tgt - 1:+.3%})",
            err=True,
        )

    cal = calibrate(loaded.scenario, args.target_usd, args.tolerance, args.replications, seed, runner, report)
    write_text_atomic(target, calibrated_yaml(loaded, target, cal, command))
    final = cal.final
    spread = final.half_width() / args.target_usd
    if spread > args.tolerance:
        terminal.note(
            f"the 95% interval of the cleared value (+- {spread:.1%} of the target) is wider "
            f"than the tolerance ({args.tolerance:.1%}): the scale is pinned down on these seeds only; "
            "more replications would narrow it"
        )
    terminal.say(
        f"scale {cal.scale:.6f}: cleared USD {final.mean:,.0f} +- {final.half_width():,.0f} (95% CI), "
        f"error {cal.error:+.3%} after {len(cal.evaluations)} evaluations; wrote {target}"
    )
    return 0


def cmd_validate_history(args: argparse.Namespace) -> int:
    """Run the 2021 scenario (and the winter) and print reported against simulated figures; with
    ``--observed``, run the scenario and print simulated against the observed trucks waiting."""
    from sim.present import terminal
    from sim.studies.history import DEFAULT_REPORTED, validate_history

    if args.observed is not None:
        if args.scenario.is_dir():  # an uncertainty folder: the observations against its band
            from sim.commands.uncertainty import validate_band

            return validate_band(args)
        return _validate_observed(args)
    with terminal.ProgressBars() as bars:
        result = validate_history(
            args.scenario,
            overrides=args.overrides,
            winter=args.winter,
            reported=args.reported or DEFAULT_REPORTED,
            replications=args.replications,
            seed=args.seed,
            out=args.out,
            backend=backend(args),
            root=args.results_root,
            monitor=bars,
            argv=command_line(),
        )
    if args.fmt in ("csv", "json"):  # one table of data, with a scenario column
        terminal.print_history(result.table, "", args.fmt)
    for scenario, reps, df in result.tables if args.fmt not in ("csv", "json") else []:
        title = f"{scenario.name}: reported vs simulated ({reps} replications, 95% CI)"
        terminal.print_history(df, title, args.fmt)
    terminal.say(f"wrote {result.folder / 'history.csv'} and history.md", err=True)
    return 0


def _validate_observed(args: argparse.Namespace) -> int:
    """``validate-history --observed``: the comparison table, its summary error and the backlog figure."""
    import matplotlib.pyplot as plt

    from sim.analysis.observed import parse_hour
    from sim.present import terminal
    from sim.present.plots import PLOTS_DIR, style
    from sim.present.plots.backlog import backlog_with_observed
    from sim.store.reader import Study
    from sim.studies.history import OBSERVED_MARKDOWN, OBSERVED_TABLE, validate_observed

    for option, value in (("--winter", args.winter), ("--reported", args.reported)):
        if value is not None:
            raise UserError.single(
                None,
                option,
                "compares with the reported figures, --observed with your observations: give one of them "
                "(run the command twice for both)",
            )
    at_hour = parse_hour(args.at)
    with terminal.ProgressBars() as bars:
        result = validate_observed(
            args.scenario,
            args.observed,
            at_hour=at_hour,
            overrides=args.overrides,
            replications=args.replications,
            seed=args.seed,
            out=args.out,
            backend=backend(args),
            root=args.results_root,
            monitor=bars,
            argv=command_line(),
        )
    if result.failures:
        terminal.report_failures(
            result.failures, [result.experiment], "Run the same command again to run only the missing ones."
        )
        return 1
    assert result.table is not None and result.error is not None and result.run is not None
    for text in result.notes or []:
        terminal.note(text)
    terminal.print_observed(result.table, result.error.as_dict(), result.title, args.fmt)
    if args.fmt in ("csv", "json"):  # the summary error is not part of the tidy rows: say it beside them
        e = result.error
        terminal.say(
            f"RMS of ln(simulated / observed) {e.rms_log_ratio:.3f} over {e.compared} observations; "
            f"{e.inside} of {e.observations} inside the simulated mean's 95% interval, "
            f"{e.inside_prediction} inside the 95% prediction interval of one day",
            err=True,
        )
    study = Study(result.run.folder, [result.run], "run", result.run.manifest)
    with plt.rc_context(style.RC):
        figures = backlog_with_observed(
            study, result.folder / PLOTS_DIR, str(result.run.folder), result.observed, at_hour=at_hour
        )
    terminal.say(
        f"wrote {result.folder / OBSERVED_TABLE}, {OBSERVED_MARKDOWN} and "
        + ", ".join(str(f) for w in figures for f in w.files)
        + f" (replications in {result.run.folder})",
        err=True,
    )
    return 0
