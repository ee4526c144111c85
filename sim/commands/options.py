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


def parents() -> Parents:
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
    return Parents(overrides, parallel, seed, root)


def backend(args: argparse.Namespace):  # -> sim.runner.backends.Backend (imported lazily)
    """The backend the --jobs and --dask options ask for (validated)."""
    from sim.runner.backends import check_backend

    return check_backend(args.jobs, args.dask)


def command_line() -> list[str]:
    """The command as typed, for manifests."""
    import sys

    return list(sys.argv)
