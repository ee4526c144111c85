"""Options shared by several commands, as argparse parent parsers (``parents=[...]``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Parents:
    """The shared option groups a command can inherit."""

    overrides: argparse.ArgumentParser  # --set KEY=VALUE (repeatable)
    parallel: argparse.ArgumentParser  # --jobs N, --dask ADDRESS
    seed: argparse.ArgumentParser  # --seed N
    root: argparse.ArgumentParser  # --results-root DIR
    output: argparse.ArgumentParser  # --format table|csv|json|markdown (commands that print results)
    verbosity: argparse.ArgumentParser  # --quiet, --verbose (every command)


FORMATS = ("table", "csv", "json", "markdown")


def verbosity_options(parser: argparse.ArgumentParser, default: object) -> None:
    """--quiet and --verbose on ``parser``; ``default`` is argparse.SUPPRESS on sub-commands, so that an
    option given before the command is not reset by the sub-command's default."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="print results and errors only"
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="also print details (backend, files)"
    )


def parents() -> Parents:
    """The shared option groups, each a parser without help to pass as ``parents=[...]``."""
    overrides = argparse.ArgumentParser(add_help=False)
    overrides.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. gates.huu_nghi.export.stages.customs.servers=6 (repeatable)",
    )
    parallel = argparse.ArgumentParser(add_help=False)
    parallel.add_argument("--jobs", type=int, help="worker processes (default: the machine's cores)")
    parallel.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on Dask instead: 'local' (a LocalCluster of --jobs workers) or tcp://scheduler:8786 "
        "(needs the optional extra: pip install -e '.[dask]')",
    )
    seed = argparse.ArgumentParser(add_help=False)
    seed.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument(
        "--results-root",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="where results folders go (default: results/ in the current folder)",
    )
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="table",
        help="table (fitted to the terminal; default), csv or json (the tidy data), "
        "markdown (the wide table)",
    )
    verbosity = argparse.ArgumentParser(add_help=False)
    verbosity_options(verbosity, argparse.SUPPRESS)
    return Parents(overrides, parallel, seed, root, output, verbosity)


def backend(args: argparse.Namespace):  # -> sim.runner.backends.Backend (made by the study options)
    """The backend the --jobs and --dask options ask for (validated)."""
    from sim.present import terminal
    from sim.studies.options import StudyOptions

    chosen = StudyOptions(jobs=args.jobs, dask=args.dask).resolved_backend()
    terminal.detail(f"running on {chosen.describe()}")
    return chosen


def study_options(args: argparse.Namespace, monitor: object | None = None, **changes: object):
    """The study options the command line's shared flags ask for (``sim.studies.options.StudyOptions``):
    built here once, so no command forwards them one by one. ``changes`` set what a command fixes itself."""
    from sim.studies.options import StudyOptions

    fields = {
        "seed": getattr(args, "seed", None),
        "replications": getattr(args, "replications", None),
        "out": getattr(args, "out", None),
        "label": getattr(args, "label", None),
        "root": getattr(args, "results_root", Path("results")),
        "overrides": tuple(getattr(args, "overrides", ()) or ()),
        "max_trucks": getattr(args, "max_trucks", None),
        "resume": bool(getattr(args, "resume", False)),
        "force": bool(getattr(args, "force", False)),
        "monitor": monitor,
        "argv": tuple(getattr(args, "command_argv", None) or command_line()),
    }
    if hasattr(args, "jobs") or hasattr(args, "dask"):
        fields["backend"] = backend(args)
    fields.update(changes)
    return StudyOptions(**fields)  # type: ignore[arg-type]


def verbosity(args: argparse.Namespace) -> int:
    """-1 for --quiet, 1 for --verbose, else 0."""
    return -1 if getattr(args, "quiet", False) else 1 if getattr(args, "verbose", False) else 0


def command_line() -> list[str]:
    """The command as typed, for manifests."""
    import sys

    return list(sys.argv)


def _positive(text: str) -> int:
    try:
        value = int(float(text))
    except (ValueError, OverflowError):
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number (got {text[:40]!r})")
    return value


def size_option(parser: argparse.ArgumentParser) -> None:
    """--max-trucks: the run-size limit, on every command that runs replications."""
    parser.add_argument(
        "--max-trucks",
        type=_positive,
        metavar="N",
        help="refuse a replication expected to hold more than N trucks or monitor samples "
        "(default 5,000,000, or BORDERSIM_MAX_TRUCKS)",
    )
