"""``calibrate`` and ``validate-history``: fitting the model to reported figures, and checking it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sim.commands.options import Parents, study_options
from sim.errors import UserError

if TYPE_CHECKING:
    pass


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


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the free parameters to the reported figures, or (without any) find the arrival scale that
    meets the target cleared value; print what was found (the study writes the calibrated scenario)."""
    from sim.present import terminal
    from sim.present.calibration_text import print_calibration
    from sim.studies.calibration import calibrate_scenario

    result = calibrate_scenario(
        args.scenario,
        study_options(args),
        target_usd=args.target_usd,
        tolerance=args.tolerance,
        free=args.free,
        reported=args.reported,
        max_evaluations=args.max_evaluations,
        diff_step=args.diff_step,
        final_replications=args.final_replications,
        scale_only=args.scale_only,
        on_step=lambda line: terminal.say(line, err=True),
    )
    print_calibration(result)
    return 0


def cmd_validate_history(args: argparse.Namespace) -> int:
    """Run the 2021 scenario (and the winter) and print reported against simulated figures; with
    ``--observed``, run the scenario and print simulated against the observed trucks waiting."""
    from sim.present import terminal
    from sim.store.layout import HISTORY_MARKDOWN, HISTORY_TABLE
    from sim.studies.history import DEFAULT_REPORTED, validate_history

    if args.observed is not None:
        if args.scenario.is_dir():  # an uncertainty folder: the observations against its band
            from sim.commands.uncertainty import validate_band

            return validate_band(args)
        return _validate_observed(args)
    with terminal.ProgressBars() as bars:
        result = validate_history(
            args.scenario,
            study_options(args, bars),
            winter=args.winter,
            reported=args.reported or DEFAULT_REPORTED,
        )
    if args.fmt in ("csv", "json"):  # one table of data, with a scenario column
        terminal.print_history(result.table, "", args.fmt)
    for scenario, reps, df in result.tables if args.fmt not in ("csv", "json") else []:
        title = f"{scenario.name}: reported vs simulated ({reps} replications, 95% CI)"
        terminal.print_history(df, title, args.fmt)
    terminal.say(f"wrote {result.folder / HISTORY_TABLE} and {HISTORY_MARKDOWN}", err=True)
    return 0


def _validate_observed(args: argparse.Namespace) -> int:
    """``validate-history --observed``: the comparison table, its summary error and the backlog figure."""
    from sim.analysis.observed import parse_hour
    from sim.present import terminal
    from sim.present.plots.study_figures import observed_figures
    from sim.store.layout import OBSERVED_MARKDOWN, OBSERVED_TABLE
    from sim.studies.history import validate_observed

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
        result = validate_observed(args.scenario, args.observed, study_options(args, bars), at_hour=at_hour)
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
    figures = observed_figures(result.folder, result.run, result.observed, at_hour)
    terminal.say(
        f"wrote {result.folder / OBSERVED_TABLE}, {OBSERVED_MARKDOWN} and "
        + ", ".join(str(f) for w in figures for f in w.files)
        + f" (replications in {result.run.folder})",
        err=True,
    )
    return 0
