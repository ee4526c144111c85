"""``forecast``: from a starting state (today's queue), the next days with and without policies."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.options import Parents, size_option, study_options
from sim.groups import ALL, DIRECTION_CHOICES


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``forecast``."""
    cmd = sub.add_parser(
        "forecast",
        parents=[p.overrides, p.parallel, p.seed, p.root, p.output],
        help="forecast from a starting state (trucks waiting now): daily queue, when it falls below a "
        "level, spoiled, turned back and crossed, and each policy's paired difference",
    )
    cmd.add_argument("scenario", type=Path, metavar="SCENARIO", help="the scenario YAML (the base)")
    cmd.add_argument(
        "policies", type=Path, nargs="*", metavar="POLICY", help="policy YAML files (extends: SCENARIO)"
    )
    cmd.add_argument(
        "--state", type=Path, required=True, metavar="FILE", help="the state CSV (gate,direction,count,...)"
    )
    cmd.add_argument(
        "--start", required=True, metavar="DATETIME", help="the state's local time, e.g. 2021-12-20T12:00"
    )
    cmd.add_argument("--days", type=float, required=True, metavar="N", help="days to forecast")
    cmd.add_argument(
        "--until-below", type=int, metavar="N", help="report when the waiting trucks first fall below N"
    )
    cmd.add_argument(
        "--direction",
        default=ALL,
        choices=DIRECTION_CHOICES,
        help="the direction --until-below and the tables count (default: both)",
    )
    cmd.add_argument(
        "--objective",
        default="spoiled_trucks",
        metavar="METRIC",
        help="what the decision summary ranks policies on (default spoiled_trucks)",
    )
    cmd.add_argument(
        "--replications", type=int, help="replications per variant (default: 10, or the scenario's if more)"
    )
    cmd.add_argument("--label", help="name of the forecast folder (forecast-LABEL)")
    cmd.add_argument("--out", type=Path, help="write the forecast into this folder instead")
    size_option(cmd)
    cmd.set_defaults(handler=cmd_forecast)


def cmd_forecast(args: argparse.Namespace) -> int:
    """Run the forecast, print it, say where it is."""
    from sim.present import terminal
    from sim.present.forecast_text import print_forecast
    from sim.present.plots.forecast import plot_forecast
    from sim.studies.forecast import forecast

    with terminal.ProgressBars() as bars:
        options = study_options(args, bars)
        result = forecast(
            args.scenario,
            options,
            state=args.state,
            start=args.start,
            days=args.days,
            policies=args.policies,
            until_below=args.until_below,
            direction=args.direction,
            objective=args.objective,
        )
    if result.failures:
        terminal.report_failures(result.failures, [], result.resume_hint)
        return 1
    print_forecast(result, args.fmt)
    figures = plot_forecast(result.folder, result.direction)
    terminal.hint(
        [
            f"forecast written to {result.folder} (forecast.csv, forecast_daily.csv, state.csv)",
            f"the fan: {figures[0]}",
        ]
    )
    return 0
