"""``validate`` and ``show``: scenario files checked or printed fully resolved, without running them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.options import Parents
from sim.errors import UserError


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``validate`` and ``show``."""
    val = sub.add_parser("validate", parents=[p.overrides], help="check scenario files without running them")
    val.add_argument("scenarios", type=Path, nargs="+")
    val.set_defaults(handler=cmd_validate)

    show = sub.add_parser(
        "show",
        parents=[p.overrides],
        help="print a scenario fully resolved (extends applied, defaults filled)",
    )
    show.add_argument("scenario", type=Path)
    show.set_defaults(handler=cmd_show)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check each scenario file; every problem of every file is reported, nothing runs."""
    from sim.present import terminal
    from sim.scenario import load_scenario
    from sim.studies.common import check_sizes

    failed = []
    for path in args.scenarios:
        try:
            check_sizes([load_scenario(path, args.overrides)])
            terminal.say(f"ok: {path}")
        except UserError as exc:
            failed.extend(exc.problems)
    if failed:
        raise UserError(failed)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print the scenario as the model sees it: extends and overrides applied, defaults filled."""
    from sim.scenario import load_scenario, resolved_yaml

    sys.stdout.write(resolved_yaml(load_scenario(args.scenario, args.overrides)))
    return 0
