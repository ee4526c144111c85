"""``animate``: the animated map of a saved run (the gates on a map, their queues day by day or hour by
hour), as a GIF or an MP4. It reads saved tables only and never runs the model."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.options import Parents

MAP_FILE = "map.gif"


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``animate``."""
    cmd = sub.add_parser(
        "animate",
        help="draw the animated map of a run: the gates, their queues and closures in time (GIF or MP4)",
    )
    cmd.add_argument("folder", type=Path, metavar="RUN_DIR", help="a run folder, or a compare-... folder")
    cmd.add_argument(
        "--out", type=Path, help=f"FILE.gif or FILE.mp4 (MP4 needs ffmpeg; default RUN_DIR/plots/{MAP_FILE})"
    )
    cmd.add_argument(
        "--step", default="day", choices=("day", "hour"), help="one frame a day (default) or an hour"
    )
    cmd.add_argument(
        "--at", default="12:00", metavar="HH:MM", help="the time of day read, day by day (default 12:00)"
    )
    cmd.add_argument(
        "--frame",
        metavar="DATE",
        help="write only this date's picture (YYYY-MM-DD; hour by hour YYYY-MM-DDTHH:MM) as .png",
    )
    cmd.add_argument("--scenario", help="in a comparison folder: which scenario (default: the base)")
    cmd.add_argument("--force", action="store_true", help="replace the --out file if it exists")
    cmd.set_defaults(handler=cmd_animate)


def cmd_animate(args: argparse.Namespace) -> int:
    """Write the animated map and say where it is (and why not an MP4, where ffmpeg is missing)."""
    from sim.present import terminal
    from sim.present.animate import animate_run
    from sim.present.plots import PLOTS_DIR
    from sim.studies.folders import check_new_file, parse_hour, run_of

    at_hour = parse_hour(args.at)
    if args.out is not None:  # a file the user named is never replaced without --force
        check_new_file(args.out, args.force)
    run = run_of(args.folder, args.scenario, "animate")
    out = args.out if args.out is not None else Path(args.folder) / PLOTS_DIR / MAP_FILE
    done = animate_run(run, out, args.step, at_hour, args.frame)
    if done.note:
        terminal.say(done.note)
    if args.frame:
        terminal.say(f"map of {run.name} on {args.frame}: {done.path}")
    else:
        terminal.say(f"map of {run.name}, {done.frames} frames ({done.step} by {done.step}): {done.path}")
    return 0
