"""``backlog``: the exact daily series of trucks waiting of a saved run, as a table.

The winter replay's answer to "how many trucks were waiting on 15 January?" lives in the run's
``backlog_series`` table; this prints it day by day for any gate, direction and count, at a stated time
of day, with the interval over the replications and the exact peak of each replication, so that a
planner does not need Python to read it (``--format csv`` gives the tidy rows)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sim.commands.options import Parents
from sim.errors import UserError

if TYPE_CHECKING:
    from sim.store.reader import RunData

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
        "--oldest",
        action="store_true",
        help="instead of a count: the age (days since it reached the province) of the oldest truck waiting",
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
    if args.gate != "all" and args.gate not in run.gates:
        raise UserError.single(
            None, "--gate", f"{args.gate!r} is not a gate of this run; choose all or {', '.join(run.gates)}"
        )
    if args.oldest:
        return _print_oldest(args, run, at_hour)
    series = run.table("backlog_series")
    group = {"gate": args.gate, "direction": args.direction, "column": args.count}
    days = daily_interval(series, run.start, run.unit_hours, run.horizon, at_hour=at_hour, **group)
    peaks = peak_by_replication(series, run.start, run.unit_hours, **group)
    group_text = terminal.group_label(args.gate, args.direction)
    terminal.print_backlog(days, peaks, args.count, hour_text(at_hour), group_text, args.fmt)
    return 0


def _print_oldest(args: argparse.Namespace, run: RunData, at_hour: float) -> int:
    """``--oldest``: the age of the oldest truck waiting each day, from the saved trucks table."""
    from sim.analysis.backlog import oldest_interval
    from sim.analysis.observed import hour_text
    from sim.present import terminal
    from sim.present.oldest_text import print_oldest

    if args.count != "waiting":
        raise UserError.single(None, "--oldest", "reads the trucks waiting: leave out --count")
    columns = ["gate", "direction", "arrival", "origin_arrival", "exit"]
    trucks = run.table("trucks", columns)
    days = oldest_interval(
        trucks, run.start, run.unit_hours, run.horizon, args.gate, args.direction, at_hour=at_hour
    )
    print_oldest(days, hour_text(at_hour), terminal.group_label(args.gate, args.direction), args.fmt)
    return 0
