"""Command line: ``bordersim`` (or ``python -m sim``): parse, call a study, print.

Every mistake a user can make ends in a message naming the file and field and exit code 2; nothing is
written before the scenario (and every other input) has been validated. A replication that fails in a
worker ends in a message naming the replication, its seed and the exception, exit code 1, and the other
replications kept. Ctrl-C keeps what finished (exit code 130).

The commands live in :mod:`sim.commands`, one module per group; they import the studies lazily so that
``--version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import argparse

import sim
from sim.commands import app, calibration, experiments, options, results, scenarios
from sim.errors import Interrupted, UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
COMMAND_GROUPS = (experiments, calibration, scenarios, results, app)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command; shared options come from parent parsers."""
    p = argparse.ArgumentParser(
        prog="bordersim",
        description="Simulate cargo trucks crossing the Lang Son border gates (SimPy discrete-event model).",
    )
    p.add_argument("--version", action="version", version=f"bordersim {sim.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = options.parents()
    for group in COMMAND_GROUPS:
        group.register(sub, parents)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (0 done, 1 a replication failed, 2 input, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        from sim.present import terminal

        for problem in exc.problems:
            terminal.error(str(problem))
        return EXIT_USER_ERROR
    except Interrupted as exc:
        from sim.present import terminal

        terminal.say(str(exc), err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        from sim.present import terminal

        terminal.say("interrupted before anything was written", err=True)
        return EXIT_INTERRUPTED
