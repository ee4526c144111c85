"""``calibrate`` and ``validate-history``: fitting the model to reported figures, and checking it."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

from sim.commands.options import Parents, backend, command_line
from sim.errors import UserError


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``calibrate`` and ``validate-history``."""
    cal = sub.add_parser(
        "calibrate",
        parents=[p.seed, p.parallel, p.overrides],
        help="find the arrival scale at which the cleared value meets a target",
    )
    cal.add_argument("scenario", type=Path)
    cal.add_argument("--target-usd", type=float, required=True, help="cleared value to reach, e.g. 4.27e9")
    cal.add_argument("--tolerance", type=float, default=0.01, help="relative error allowed (default 0.01)")
    cal.add_argument("--replications", type=int, default=4, help="replications per evaluation (default 4)")
    cal.add_argument(
        "--out", type=Path, help="calibrated scenario file (default: <scenario>_calibrated.yaml)"
    )
    cal.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    cal.set_defaults(handler=cmd_calibrate)

    hist = sub.add_parser(
        "validate-history",
        parents=[p.seed, p.parallel, p.root, p.output],
        help="compare a run of the 2021 scenario (and the winter) with reported figures",
    )
    hist.add_argument("scenario", type=Path, help="the calibrated 2021 scenario")
    hist.add_argument("--winter", type=Path, help="the winter 2021-22 scenario (its backlog is reported)")
    hist.add_argument(
        "--reported", type=Path, help="reported figures (YAML; default: data/reported_2021.yaml)"
    )
    hist.add_argument("--replications", type=int, help="replications (default: the scenario's, at least 2)")
    hist.add_argument("--out", type=Path, help="folder for the tables (default: results/history-<scenario>)")
    hist.set_defaults(handler=cmd_validate_history)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Find the arrival scale that meets the target cleared value and write the calibrated scenario."""
    from sim.present import terminal
    from sim.scenario import load_scenario
    from sim.scenario.size import check_size
    from sim.store.atomic import write_text_atomic
    from sim.studies.calibrate import SCALE_LIMITS, Evaluation, calibrate, calibrated_yaml, scaled

    if not math.isfinite(args.target_usd) or args.target_usd <= 0:
        raise UserError.single(None, "--target-usd", f"must be a positive number (got {args.target_usd})")
    if not 0 < args.tolerance < 1:
        raise UserError.single(None, "--tolerance", f"must be between 0 and 1 (got {args.tolerance})")
    if args.replications < 1:
        raise UserError.single(None, "--replications", f"must be at least 1 (got {args.replications})")
    runner = backend(args)
    loaded = load_scenario(args.scenario, args.overrides)
    seed = loaded.scenario.run.seed if args.seed is None else args.seed
    target = args.out or args.scenario.with_name(f"{args.scenario.stem}_calibrated.yaml")
    if target.exists() and not args.force:
        raise UserError.single(
            str(target), "--out", "already exists; add --force to overwrite it, or choose another --out"
        )
    check_size(scaled(loaded.scenario, SCALE_LIMITS[1]), None, str(args.scenario))
    typed = sys.argv[1:]
    command = "bordersim " + " ".join(shlex.quote(a) for a in typed) if typed else "bordersim calibrate"
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
    """Run the 2021 scenario (and the winter) and print reported against simulated figures."""
    from sim.present import terminal
    from sim.studies.history import DEFAULT_REPORTED, validate_history

    with terminal.ProgressBars() as bars:
        result = validate_history(
            args.scenario,
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
