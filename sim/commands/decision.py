"""``optimise`` and ``sensitivity``: answers a planner acts on, built from many evaluated points."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.options import Parents, size_option, study_options

EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``bordersim optimise`` and ``bordersim sensitivity`` to the command line."""
    opt = sub.add_parser(
        "optimise",
        parents=[p.seed, p.parallel, p.overrides, p.root],
        help="the cheapest configuration of integer scenario values that meets a service target",
    )
    opt.add_argument("scenario", type=Path)
    opt.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=LOW..HIGH[:STEP]",
        help="a decision variable: an integer scenario value and its range, e.g. "
        "gates.huu_nghi.export.stages.customs.servers=4..16, or 40..70:5 to move 5 at a time (repeatable)",
    )
    opt.add_argument(
        "--cost",
        action="append",
        default=[],
        metavar="KEY=COST",
        help="cost of one unit of a variable (default 1)",
    )
    opt.add_argument(
        "--target",
        metavar="METRIC[@GATE/DIR]<=VALUE",
        help="the service target, e.g. 'p95_clearance_h@huu_nghi/export<=12' (or >= for more-is-better)",
    )
    opt.add_argument("--study", type=Path, help="a YAML study file with variables (range, cost) and target")
    opt.add_argument("--replications", type=int, help="replications per evaluated point (default 5)")
    opt.add_argument(
        "--final-replications",
        type=int,
        help="replications of the final check of the chosen point (default 20)",
    )
    opt.add_argument("--label", help="name the folder results/<scenario>/optimise-<label>")
    opt.add_argument("--out", type=Path, help="study folder (default: results/<scenario>/optimise-<time>)")
    size_option(opt)
    opt.set_defaults(handler=cmd_optimise)

    sen = sub.add_parser(
        "sensitivity",
        parents=[p.seed, p.parallel, p.overrides, p.root],
        help="which '# assumption:' values of the scenario files move a metric the most (tornado chart)",
    )
    sen.add_argument("scenario", type=Path)
    sen.add_argument(
        "--metric", default="mean_clearance_h", metavar="METRIC[@GATE/DIR]", help="default mean_clearance_h"
    )
    sen.add_argument(
        "--method",
        choices=["oat", "morris"],
        default="oat",
        help="oat: one at a time, low and high (default); morris: SALib's Morris elementary effects",
    )
    sen.add_argument("--spread", type=float, default=0.25, help="relative range when none is written (0.25)")
    sen.add_argument("--only", action="append", default=[], metavar="TEXT", help="only keys containing TEXT")
    sen.add_argument("--replications", type=int, default=3, help="replications per point (default 3)")
    sen.add_argument("--trajectories", type=int, default=4, help="Morris trajectories (default 4)")
    sen.add_argument("--label", help="name the folder results/<scenario>/sensitivity-<label>")
    sen.add_argument("--out", type=Path, help="study folder (default: results/<scenario>/sensitivity-<time>)")
    size_option(sen)
    sen.set_defaults(handler=cmd_sensitivity)


def cmd_optimise(args: argparse.Namespace) -> int:
    """Find the cheapest configuration meeting the target, print it and where its points are."""
    from sim.errors import UserError
    from sim.present import terminal
    from sim.present.decision_text import print_optimise
    from sim.studies.optimise import optimise, read_study_file

    spec = read_study_file(args.study) if args.study else {"variables": [], "costs": [], "target": None}
    target = args.target or spec.get("target")
    if not target:
        raise UserError.single(None, "--target", "give a target, e.g. 'p95_clearance_h@huu_nghi/export<=12'")
    replications = args.replications or spec.get("replications") or 5
    with terminal.ProgressBars() as bars:
        result = optimise(
            args.scenario,
            [*spec["variables"], *args.var],
            target,
            study_options(args, bars, replications=replications),
            costs=[*spec["costs"], *args.cost],
            final_replications=args.final_replications or spec.get("final_replications") or 20,
        )
    if result.failures:
        terminal.report_failures(result.failures, [], result.resume_hint)
        return EXIT_FAILED
    print_optimise(result)
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Vary the assumptions, print their ranking and draw the tornado chart from the saved study."""
    from sim.present import terminal
    from sim.present.decision_text import print_sensitivity
    from sim.present.plots.study_figures import sensitivity_figures
    from sim.studies.sensitivity import sensitivity

    with terminal.ProgressBars() as bars:
        result = sensitivity(
            args.scenario,
            study_options(args, bars),
            metric=args.metric,
            method=args.method,
            spread=args.spread,
            only=args.only,
            trajectories=args.trajectories,
        )
    if result.failures:
        terminal.report_failures(result.failures, [], result.resume_hint)
        return EXIT_FAILED
    print_sensitivity(result, sensitivity_figures(result.folder)[0].png)
    return 0
