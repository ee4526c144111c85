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
from sim.groups import ALL, DIRECTION_CHOICES

COLUMNS = ("waiting", "outside", "in_yard", "before_yard")  # sim.studies.backlog.COUNTS


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``backlog``."""
    cmd = sub.add_parser(
        "backlog",
        parents=[p.output],
        help="print a run's exact daily series of trucks waiting (a gate or all, a direction or both)",
    )
    cmd.add_argument(
        "folder",
        type=Path,
        metavar="RUN_DIR",
        help="a run folder (results/<scenario>/<time>), or an uncertainty folder: then the 5/50/95%% band "
        "over its input sets",
    )
    cmd.add_argument("--gate", default=ALL, help="a gate of the scenario, or all (default)")
    cmd.add_argument("--direction", default=ALL, choices=DIRECTION_CHOICES, help="default: both (all)")
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
    from sim.present import terminal
    from sim.studies.backlog import read_backlog
    from sim.studies.folders import is_uncertainty_folder

    if args.state_at is not None:
        return _state(args)
    if is_uncertainty_folder(args.folder):
        return _uncertainty_band(args)
    if args.oldest:
        return _print_oldest(args)
    result = read_backlog(args.folder, gate=args.gate, direction=args.direction, count=args.count, at=args.at)
    group_text = terminal.group_label(args.gate, args.direction)
    terminal.print_backlog(result.days, result.peaks, args.count, result.at_text, group_text, args.fmt)
    return 0


def _print_oldest(args: argparse.Namespace) -> int:
    """``--oldest``: the age of the oldest truck waiting each day, from the saved trucks table."""
    from sim.present import terminal
    from sim.present.oldest_text import print_oldest
    from sim.studies.oldest import read_oldest

    if args.count != "waiting":
        raise UserError.single(None, "--oldest", "reads the trucks waiting: leave out --count")
    result = read_oldest(args.folder, gate=args.gate, direction=args.direction, at=args.at)
    print_oldest(result.days, result.at_text, terminal.group_label(args.gate, args.direction), args.fmt)
    return 0


def _state(args: argparse.Namespace) -> int:
    """Print (or write, with --format csv) the state of one replication at ``--state-at``."""
    from sim.present.forecast_text import print_state
    from sim.studies.backlog import read_state

    table, when = read_state(args.folder, args.state_at, args.replication)
    print_state(table, when, args.replication, args.fmt)
    return 0


def _uncertainty_band(args: argparse.Namespace) -> int:
    """An uncertainty folder: the daily band over its input sets, read at the study's own time of day."""
    from sim.present import terminal
    from sim.present.uncertainty_text import print_daily_band
    from sim.studies.folders import read_uncertainty_band

    days, at = read_uncertainty_band(args.folder, args.gate, args.direction, args.count, args.at)
    print_daily_band(days, terminal.group_label(args.gate, args.direction), at, args.fmt)
    return 0
