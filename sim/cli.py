"""Command line: ``bordersim`` (or ``python -m sim``): parse, call a study, print.

Every mistake a user can make ends in a message naming the file and field and exit code 2; nothing is
written before the scenario (and every other input) has been validated. A replication that fails in a
worker ends in a message naming the replication, its seed and the exception, exit code 1, and the other
replications kept. Ctrl-C keeps what finished (exit code 130).

The studies' commands are generated from their declarations (:mod:`sim.commands.studies`); the other
commands live in :mod:`sim.commands`, one module per group. ``--version`` answers before the parser is
built (building it reads every study's declaration).
"""

from __future__ import annotations

import argparse
import sys

from sim.commands import (
    animate,
    app,
    backlog,
    listing,
    options,
    results,
    scenarios,
    studies,
)
from sim.errors import Interrupted, UserError
from sim.version import __version__, build

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
COMMAND_GROUPS = (studies, scenarios, results, backlog, animate, listing, app)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with every command; shared options come from parent parsers. Given the
    command line, a command that is not a study (plot, report, list, ...) is parsed without reading the
    studies' declarations: it reads saved results only, and needs neither the model nor the runner."""
    p = argparse.ArgumentParser(
        prog="bordersim",
        description="Simulate cargo trucks crossing the Lang Son border gates (SimPy discrete-event model).",
    )
    p.add_argument("--version", action="version", version=f"bordersim {__version__} ({build()})")
    options.verbosity_options(p, False)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = options.parents()
    asked = next((word for word in argv or [] if not word.startswith("-")), None)
    light = asked is not None and asked in other_commands(parents)  # not a study, --help or a mistake
    for group in COMMAND_GROUPS:
        if not (light and group is studies):
            group.register(sub, parents)
    for command in sub.choices.values():  # --quiet / --verbose after the command too
        options.verbosity_options(command, argparse.SUPPRESS)
    return p


def other_commands(parents: options.Parents) -> set[str]:
    """The names of the commands that are not studies (registered on a scratch parser: cheap)."""
    scratch = argparse.ArgumentParser(add_help=False).add_subparsers()
    for group in COMMAND_GROUPS:
        if group is not studies:
            group.register(scratch, parents)
    return set(scratch.choices)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (0 done, 1 a replication failed, 2 input, 130 interrupted)."""
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"bordersim {__version__} ({build()})")
        return 0
    typed = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(typed).parse_args(typed)
    args.command_argv = ["bordersim", *(sys.argv[1:] if argv is None else argv)]  # as typed, for hints
    from sim.present import terminal

    terminal.configure_logging(options.verbosity(args))
    try:
        return args.handler(args)
    except UserError as exc:
        for problem in exc.problems:
            terminal.error(str(problem))
        return EXIT_USER_ERROR
    except Interrupted as exc:
        terminal.error(str(exc))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        terminal.error("interrupted before anything was written")
        return EXIT_INTERRUPTED
    except OSError as exc:  # a last guard: the places that write name what they were doing
        terminal.error(os_message(exc))
        return EXIT_USER_ERROR
    except MemoryError:
        terminal.error(
            "out of memory: ask for fewer replications, a shorter horizon or fewer --jobs "
            "(each worker holds a replication's tables)"
        )
        return EXIT_USER_ERROR


def os_message(exc: OSError) -> str:
    """An operating-system refusal as the user's message: the path and the reason (a full or read-only
    disk, no permission, a name too long), never a traceback."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [p for p in (exc.filename, exc.filename2) if p is not None]
    where = " -> ".join(str(p) for p in paths) or "the operating system"
    return f"{where}: {reason}"
