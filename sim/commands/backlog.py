"""``backlog``: the exact daily series of trucks waiting of a saved run, as a table.

The winter replay's answer to "how many trucks were waiting on 15 January?" lives in the run's
``backlog_series`` table; this prints it day by day for any gate, direction and count, at a stated time
of day, with the interval over the replications and the exact peak of each replication, so that a
planner does not need Python to read it (``--format csv`` gives the tidy rows)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.options import Parents
from sim.errors import UserError

COLUMNS = ("waiting", "outside", "in_yard", "before_yard")


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``backlog``."""
    cmd = sub.add_parser(
        "backlog",
        parents=[p.output],
        help="print a run's exact daily series of trucks waiting (a gate or all, a direction or both)",
    )
    cmd.add_argument("folder", type=Path, metavar="RUN_DIR", help="a run folder (results/<scenario>/<time>)")
    cmd.add_argument("--gate", default="all", help="a gate of the scenario, or all (default)")
    cmd.add_argument(
        "--direction", default="all", choices=("export", "import", "all"), help="default: both (all)"
    )
    cmd.add_argument(
        "--count",
        default="waiting",
        choices=COLUMNS,
        help="waiting (default: arrived and not yet crossed, turned back or diverted), outside (the "
        "queue outside the yard), in_yard or before_yard",
    )
    cmd.add_argument("--at", default="12:00", metavar="HH:MM", help="the time of day read (default 12:00)")
    cmd.add_argument(
        "--state-at",
        metavar="DATETIME",
        help="instead, the trucks waiting at this local time (e.g. 2021-12-20T12:00) as a state file for "
        "run.initial_state and bordersim forecast (--format csv writes its rows)",
    )
    cmd.add_argument(
        "--replication",
        type=int,
        default=0,
        metavar="K",
        help="with --state-at: the replication whose state is written (default 0, the first)",
    )
    cmd.set_defaults(handler=cmd_backlog)


def cmd_backlog(args: argparse.Namespace) -> int:
    """Print the day-by-day count with its interval and each replication's exact peak."""
    from sim.analysis.backlog import daily_interval, peak_by_replication
    from sim.analysis.observed import hour_text, parse_hour
    from sim.present import terminal
    from sim.store.reader import load_run

    at_hour = parse_hour(args.at)
    run = load_run(args.folder)
    if args.state_at is not None:
        return _state(run, args)
    if args.gate != "all" and args.gate not in run.gates:
        raise UserError.single(
            None, "--gate", f"{args.gate!r} is not a gate of this run; choose all or {', '.join(run.gates)}"
        )
    series = run.table("backlog_series")
    group = {"gate": args.gate, "direction": args.direction, "column": args.count}
    days = daily_interval(series, run.start, run.unit_hours, run.horizon, at_hour=at_hour, **group)
    peaks = peak_by_replication(series, run.start, run.unit_hours, **group)
    group_text = terminal.group_label(args.gate, args.direction)
    terminal.print_backlog(days, peaks, args.count, hour_text(at_hour), group_text, args.fmt)
    return 0


def _state(run, args: argparse.Namespace) -> int:  # run: sim.store.reader.RunData
    """Write the state of one replication at ``--state-at`` (see sim/analysis/state_at.py)."""
    from sim.analysis.state_at import sim_time, state_at
    from sim.present.forecast_text import print_state
    from sim.studies.forecast import parse_datetime

    when = parse_datetime(args.state_at, "--state-at")
    at = sim_time(run.scenario, when)
    if not 0.0 <= at <= run.horizon:
        raise UserError.single(
            None, "--state-at", f"{when.isoformat()} is outside the run ({run.window_text()})"
        )
    if args.replication not in run.replications:
        shown = ", ".join(map(str, run.replications)) or "none"
        raise UserError.single(
            None, "--replication", f"replication {args.replication} is not in this run (it has {shown})"
        )
    trucks = run.table(
        "trucks",
        ["truck", "gate", "direction", "truck_class", "arrival", "origin_arrival", "yard_entry", "exit"],
        replication=args.replication,
    )
    stages = run.table("stages", ["truck", "stage_order", "end"], replication=args.replication)
    table = state_at(trucks, stages, run.scenario, at)
    print_state(table, when, args.replication, args.fmt)
    return 0
