"""Command line: ``bordersim`` (or ``python -m sim``).

Every mistake a user can make ends in a message naming the file and field and exit code 2; nothing is
written before the scenario has been validated.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

import sim
from sim.errors import UserError

EXIT_USER_ERROR = 2

err_console = Console(stderr=True)
out_console = Console()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bordersim",
        description="Simulate cargo trucks crossing the Lang Son border gates (SimPy discrete-event model).",
    )
    p.add_argument("--version", action="version", version=f"bordersim {sim.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    run.add_argument("--replications", type=int, help="number of replications (default: the scenario's)")
    run.add_argument("--out", type=Path, help="results folder (default: results/<scenario>/<timestamp>)")
    run.add_argument("--label", help="name of the run folder under results/<scenario>/ (default: timestamp)")
    _add_set(run)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", type=Path, nargs="+")
    _add_set(val)

    show = sub.add_parser("show", help="print a scenario fully resolved (extends applied, defaults filled)")
    show.add_argument("scenario", type=Path)
    _add_set(show)
    return p


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. gates.huu_nghi.export.stages.customs.servers=6 (repeatable)",
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "show":
            return cmd_show(args)
    except UserError as exc:
        for problem in exc.problems:
            err_console.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing partial was left in results/")
        return 130
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    failed = []
    for path in args.scenarios:
        try:
            load_scenario(path, args.overrides)
            out_console.print(f"ok: {path}", highlight=False)
        except UserError as exc:
            failed.extend(exc.problems)
    if failed:
        raise UserError(failed)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario, resolved_yaml

    sys.stdout.write(resolved_yaml(load_scenario(args.scenario, args.overrides)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sim.experiment import run_experiment
    from sim.scenario import load_scenario

    loaded = load_scenario(args.scenario, args.overrides)
    scenario = loaded.scenario
    if args.replications is not None and args.replications < 1:
        raise UserError.single(None, "--replications", f"must be at least 1 (got {args.replications})")
    if args.seed is not None and args.seed < 0:
        raise UserError.single(None, "--seed", f"must be a non-negative integer (got {args.seed})")
    replications = args.replications or scenario.run.replications
    seed = scenario.run.seed if args.seed is None else args.seed
    out = args.out or Path("results") / scenario.name / (args.label or _timestamp())
    if out.exists():
        raise UserError.single(None, "--out", f"'{out}' already exists; choose another --out or --label")

    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(f"{scenario.name}", total=replications)
        result = run_experiment(
            loaded,
            out,
            seed=seed,
            replications=replications,
            argv=sys.argv,
            on_progress=lambda done: progress.update(task, completed=done),
        )
    elapsed = time.perf_counter() - started
    _print_summary(result.summary, scenario.name, replications)
    out_console.print(
        f"{result.trucks_simulated:,} trucks simulated in {elapsed:.1f} s; results in {out}", highlight=False
    )
    return 0


def _timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _print_summary(summary: pd.DataFrame, name: str, replications: int) -> None:
    title = f"{name}: clearance time per gate and direction"
    if replications > 1:
        title += f" (mean over {replications} replications)"
    table = Table(title=title)
    for col, label in [
        ("gate", "gate"),
        ("direction", "dir."),
        ("arrived", "arrived"),
        ("cleared", "cleared"),
        ("inside", "inside"),
        ("mean_h", "mean (h)"),
        ("p50_h", "p50 (h)"),
        ("p95_h", "p95 (h)"),
    ]:
        table.add_column(label, justify="left" if col in ("gate", "direction") else "right")
    for _, row in summary.iterrows():
        cells = []
        for col in ("gate", "direction", "arrived", "cleared", "inside", "mean_h", "p50_h", "p95_h"):
            v = row[col]
            if col in ("arrived", "cleared", "inside"):
                cells.append(f"{v:,.0f}" if replications == 1 else f"{v:,.1f}")
            elif col.endswith("_h"):
                cells.append("-" if v != v else f"{v:.2f}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    out_console.print(table)
