"""``uncertainty``: the band of the answer over the scenario's uncertain inputs (its ``uncertain:``
section), with the inputs that drive it."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.options import Parents, size_option, study_options

EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``bordersim uncertainty``."""
    cmd = sub.add_parser(
        "uncertainty",
        parents=[p.seed, p.parallel, p.overrides, p.root, p.output],
        help="draw input sets over the scenario's 'uncertain:' ranges, run them with common random numbers "
        "and print the 5-50-95%% band of every metric and of trucks waiting day by day",
    )
    cmd.add_argument("scenario", type=Path)
    cmd.add_argument("--samples", type=int, default=16, help="input sets to draw (default 16)")
    cmd.add_argument(
        "--method",
        choices=["lhs", "sobol"],
        default="lhs",
        help="lhs: Latin hypercube (default); sobol: scrambled Sobol sequence (samples a power of 2)",
    )
    cmd.add_argument("--replications", type=int, help="replications per input set (default: the scenario's)")
    cmd.add_argument(
        "--series-at", default="12:00", metavar="HH:MM", help="time of day the daily series is read (12:00)"
    )
    cmd.add_argument("--label", help="name the folder results/<scenario>/uncertainty-<label>")
    cmd.add_argument("--out", type=Path, help="study folder (default: results/<scenario>/uncertainty-<time>)")
    size_option(cmd)
    cmd.set_defaults(handler=cmd_uncertainty)


def cmd_uncertainty(args: argparse.Namespace) -> int:
    """Run the study, print the band and the drivers, draw the figures into the folder's plots."""
    from sim.present import terminal
    from sim.present.plots import PLOTS_DIR
    from sim.present.plots.uncertainty import uncertainty_figures
    from sim.present.uncertainty_text import print_uncertainty
    from sim.studies.uncertainty import uncertainty

    with terminal.ProgressBars() as bars:
        options = study_options(args, bars)
        result = uncertainty(
            args.scenario, options, samples=args.samples, method=args.method, series_at=args.series_at
        )
    if result.failures:
        terminal.report_failures(result.failures, [], result.resume_hint)
        return EXIT_FAILED
    print_uncertainty(result, args.fmt)
    drawn = [w.png for w in uncertainty_figures(result.folder, result.folder / PLOTS_DIR, str(result.folder))]
    terminal.detail(f"figures: {', '.join(str(p) for p in drawn)}")
    return 0


def validate_band(args: argparse.Namespace) -> int:
    """``validate-history UNCERTAINTY_DIR --observed FILE``: each observation beside the band's median
    and 5-95% points, how many fall inside the band and the log ratio of the median."""
    from sim.analysis.observed import parse_hour
    from sim.errors import UserError
    from sim.present import terminal
    from sim.present.uncertainty_text import print_observed_band
    from sim.store.bands import is_uncertainty_folder
    from sim.store.layout import OBSERVED_TABLE
    from sim.studies.uncertainty import observed_band

    if not is_uncertainty_folder(args.scenario):
        raise UserError.single(str(args.scenario), "", "a folder, but not a finished uncertainty study")
    for option, value in (("--winter", args.winter), ("--reported", args.reported)):
        if value is not None:
            raise UserError.single(None, option, "an uncertainty folder is compared with --observed only")
    result = observed_band(args.scenario, args.observed, parse_hour(args.at))
    print_observed_band(result, args.fmt)
    terminal.say(f"wrote {result.folder / OBSERVED_TABLE}", err=True)
    return 0
