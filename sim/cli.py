"""Command line: ``bordersim`` (or ``python -m sim``).

Every mistake a user can make ends in a message naming the file and field and exit code 2; nothing is
written before the scenario (and every other input) has been validated. A replication that fails in a
worker ends in a message naming the replication, its seed and the exception, exit code 1, and the other
replications kept. Ctrl-C keeps what finished (exit code 130).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

import sim
from sim import cli_calibration
from sim.errors import UserError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from sim.runner.backends import Backend
    from sim.runner.experiment import Experiment, Failure
    from sim.scenario import LoadedScenario

EXIT_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
COMPARE_REPLICATIONS = 10

err_console = Console(stderr=True)
out_console = Console()
if not out_console.is_terminal:  # a file or a pipe has no width: do not squeeze tables into 80 columns
    out_console = Console(width=220)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bordersim",
        description="Simulate cargo trucks crossing the Lang Son border gates (SimPy discrete-event model).",
    )
    p.add_argument("--version", action="version", version=f"bordersim {sim.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run replications of a scenario and write their results")
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    run.add_argument("--replications", type=int, help="number of replications (default: the scenario's)")
    run.add_argument("--out", type=Path, help="results folder (default: results/<scenario>/<timestamp>)")
    run.add_argument("--label", help="name of the run folder under results/<scenario>/ (default: timestamp)")
    run.add_argument(
        "--resume", action="store_true", help="finish the run in --out/--label: run only missing replications"
    )
    _add_parallel(run)
    _add_set(run)

    cmp = sub.add_parser("compare", help="compare policies with a base scenario (common random numbers)")
    cmp.add_argument("base", type=Path, help="the base scenario")
    cmp.add_argument("policies", type=Path, nargs="+", help="policy scenarios compared with the base")
    cmp.add_argument(
        "--replications",
        type=int,
        default=COMPARE_REPLICATIONS,
        help=f"replications of each scenario (default {COMPARE_REPLICATIONS})",
    )
    cmp.add_argument("--seed", type=int, help="root seed shared by all (default: the base's run.seed)")
    cmp.add_argument("--out", type=Path, help="comparison folder (default: results/compare-<names>)")
    _add_parallel(cmp)
    _add_set(cmp, "override a value in every scenario compared (repeatable)")

    sw = sub.add_parser("sweep", help="run a factorial grid of overrides x replications into one table")
    sw.add_argument("scenario", type=Path)
    sw.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a grid axis: a scenario key and its values, e.g. 'run.warmup=24,48' (repeatable: factorial)",
    )
    sw.add_argument("--replications", type=int, help="replications per point (default: the scenario's)")
    sw.add_argument("--seed", type=int, help="root seed shared by every point (default: the scenario's)")
    sw.add_argument("--out", type=Path, help="sweep folder (default: results/<scenario>/sweep-<timestamp>)")
    sw.add_argument("--label", help="name the sweep folder results/<scenario>/sweep-<label>")
    sw.add_argument("--resume", action="store_true", help="finish the sweep in --out/--label")
    sw.add_argument("--tables", action="store_true", help="keep every point's full tables, not only metrics")
    _add_parallel(sw)
    _add_set(sw, "override a value at every point (repeatable)")

    cli_calibration.add_parsers(sub, _add_parallel, _add_set)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", type=Path, nargs="+")
    _add_set(val)

    show = sub.add_parser("show", help="print a scenario fully resolved (extends applied, defaults filled)")
    show.add_argument("scenario", type=Path)
    _add_set(show)

    plot = sub.add_parser("plot", help="draw figures (PNG and SVG) of a run or comparison folder")
    plot.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="a run folder or a compare-... folder")
    plot.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="KIND",
        help="headline, clearance, backlog, throughput or stages (repeatable or comma-separated; "
        "default: all)",
    )
    plot.add_argument("--out", type=Path, help="folder for the figures (default: RESULTS_DIR/plots)")

    rep = sub.add_parser("report", help="write an HTML report of a run or comparison folder (opens offline)")
    rep.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="a run folder or a compare-... folder")
    return p


def _add_set(p: argparse.ArgumentParser, text: str | None = None) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=text
        or "override a scenario value, e.g. gates.huu_nghi.export.stages.customs.servers=6 (repeatable)",
    )


def _add_parallel(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, help="worker processes (default: the machine's cores)")
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on Dask instead: 'local' (a LocalCluster of --jobs workers) or tcp://scheduler:8786 "
        "(needs the optional extra: pip install -e '.[dask]')",
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": cmd_run,
        "compare": cmd_compare,
        "sweep": cmd_sweep,
        "validate": cmd_validate,
        "show": cmd_show,
        "plot": cmd_plot,
        "report": cmd_report,
        "calibrate": lambda a: cli_calibration.cmd_calibrate(a, out_console, err_console),
        "validate-history": lambda a: cli_calibration.cmd_validate_history(a, out_console, err_console),
    }
    try:
        return commands[args.command](args)
    except UserError as exc:
        for problem in exc.problems:
            err_console.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
        return EXIT_USER_ERROR
    except Interrupted as exc:
        err_console.print(str(exc), highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        err_console.print("interrupted before anything was written")
        return EXIT_INTERRUPTED


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


def cmd_plot(args: argparse.Namespace) -> int:
    from sim.present.plots import KINDS, plot

    kinds = [k.strip() for text in args.kind for k in text.split(",") if k.strip()] or list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UserError.single(
            None, "--kind", f"unknown kind {', '.join(map(repr, unknown))}; choose from {', '.join(KINDS)}"
        )
    written = plot(args.folder, kinds, args.out)
    for w in written:
        out_console.print(f"{w.title}: {', '.join(str(f) for f in w.files)}", highlight=False, soft_wrap=True)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sim.present.report import build_report

    page, written = build_report(args.folder)
    out_console.print(
        f"{len(written)} figures in {written[0].png.parent if written else '-'}; report: {page}",
        highlight=False,
        soft_wrap=True,
    )
    out_console.print(f"open it in a browser: {page.resolve().as_uri()}", highlight=False, soft_wrap=True)
    return 0


# --------------------------------------------------------------------------------------------------
# Shared by run, compare and sweep
# --------------------------------------------------------------------------------------------------
def _check_counts(replications: int | None, seed: int | None, least: int = 1) -> None:
    if replications is not None and replications < least:
        why = " (a confidence interval needs two)" if least == 2 else ""
        raise UserError.single(None, "--replications", f"must be at least {least}{why} (got {replications})")
    if seed is not None and seed < 0:
        raise UserError.single(None, "--seed", f"must be a non-negative integer (got {seed})")


def _timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


class Interrupted(Exception):
    """Ctrl-C during a run, with what to tell the user: what was kept and how to finish."""


@contextmanager
def _interrupt_hint(hint: str) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: finished replications are kept. {hint}") from None


def _report_failures(failures: Sequence[Failure], experiments: Sequence[Experiment], hint: str) -> int:
    for f in failures:
        err_console.print(
            f"[bold red]error:[/] replication {f.replication} of {f.scenario} failed "
            f"(root seed {f.root_seed}, {f.seed}): {f.error}",
            highlight=False,
            soft_wrap=True,
        )
        if f.details is not None:
            err_console.print(f"  worker traceback: {f.details}", highlight=False, soft_wrap=True)
    for e in experiments:
        if e.failed:
            done = len([r for r in e.done if r < e.replications])
            err_console.print(
                f"{done} of {e.replications} replications of {e.scenario.name} finished and are kept in "
                f"{e.folder}",
                highlight=False,
                soft_wrap=True,
            )
    err_console.print(hint, highlight=False, soft_wrap=True)
    return EXIT_FAILED


def _ci(mean: float, half: float, fmt: Callable[[float], str]) -> str:
    if mean != mean:
        return "-"
    return fmt(mean) if half != half else f"{fmt(mean)} ± {fmt(half)}"


def _run_all(
    experiments: Sequence[Experiment],
    backend: Backend,
    bars: Sequence[tuple[str, Sequence[int]]],
    on_start: Callable[[], None] | None = None,
) -> list[Failure]:
    """Run the experiments with progress bars; ``bars`` gives each bar's title and its experiments."""
    from sim.runner.experiment import run_experiments

    with _progress() as progress:
        owner: dict[int, TaskID] = {}
        for title, members in bars:
            total = sum(experiments[i].replications for i in members)
            done = sum(
                len([r for r in experiments[i].done if r < experiments[i].replications]) for i in members
            )
            task = progress.add_task(title, total=total, completed=done)
            owner.update({i: task for i in members})
        return run_experiments(
            experiments,
            backend,
            argv=sys.argv,
            on_done=lambda i: progress.advance(owner[i]),
            on_start=on_start,
        )


# --------------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from sim.analysis.stats import summarize
    from sim.runner.backends import check_backend
    from sim.runner.experiment import NEW, RESUME, Experiment, plan
    from sim.scenario import load_scenario

    loaded = load_scenario(args.scenario, args.overrides)
    scenario = loaded.scenario
    _check_counts(args.replications, args.seed)
    backend = check_backend(args.jobs, args.dask)
    if args.resume and args.out is None and args.label is None:
        raise UserError.single(None, "--resume", "needs --label or --out naming the run folder to finish")
    seed = scenario.run.seed if args.seed is None else args.seed
    out = args.out or Path("results") / scenario.name / (args.label or _timestamp())
    exp = Experiment(loaded, out, seed, args.replications or scenario.run.replications)
    plan(exp, RESUME if args.resume else NEW)
    if args.resume and args.replications is None and exp.previous:
        exp.replications = int(exp.previous.get("replications", exp.replications))

    finish = f"Run the missing ones with the same command plus --out {out} --resume."
    with _interrupt_hint(finish):
        failures = _run_all([exp], backend, [(scenario.name, [0])])
    if failures:
        return _report_failures(failures, [exp], finish)
    summary = summarize(exp.metrics())
    _print_run_summary(summary, scenario.name, exp.replications)
    trucks = sum((exp.info.get(r) or {}).get("trucks") or 0 for r in range(exp.replications))
    out_console.print(f"{trucks:,} trucks simulated; results in {out}", highlight=False)
    return 0


RUN_COLUMNS = [
    ("arrived", "arrived"),
    ("cleared", "cleared"),
    ("still_inside", "inside at end"),
    ("cleared_per_day", "cleared a day"),
    ("cleared_value_usd", "cleared value (USD million)"),
    ("mean_clearance_h", "mean clearance (h)"),
    ("p95_clearance_h", "p95 clearance (h)"),
    ("peak_backlog", "peak outside queue (per gate)"),
    ("spoiled_trucks", "spoiled cargoes"),
    ("waiting_cost_usd", "waiting cost (USD million)"),
]


def _print_run_summary(summary: pd.DataFrame, name: str, replications: int) -> None:
    from sim.analysis.metrics import metric_info

    title = f"{name}: per gate and direction, after the warm-up"
    if replications > 1:
        title += f"\n(mean ± 95% t-interval half-width over {replications} replications)"
    table = Table(title=title)
    table.add_column("gate", no_wrap=True)
    table.add_column("dir.", no_wrap=True)
    for _, label in RUN_COLUMNS:
        table.add_column(label, justify="right")
    values = summary.set_index(["gate", "direction", "metric"])
    for gate, direction in dict.fromkeys(zip(summary["gate"], summary["direction"], strict=True)):
        cells = [str(gate), str(direction)]
        for metric, _ in RUN_COLUMNS:
            key = (gate, direction, metric)
            if key not in values.index:
                cells.append("")
                continue
            row = values.loc[key]
            cells.append(_ci(row["mean"], row["half_width"], metric_info(metric).format))
        table.add_row(*cells)
    out_console.print(table)


# --------------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------------
def _display_names(loaded: Sequence[LoadedScenario], paths: Sequence[Path]) -> list[str]:
    """Scenario names, or file names where two scenarios share a name; '-2', '-3' for repeats."""
    names = [ld.scenario.name for ld in loaded]
    if len(set(names)) < len(names):
        names = [p.stem for p in paths]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.analysis.compare import comparison, markdown, wide
    from sim.runner.backends import check_backend
    from sim.runner.experiment import REUSE, Experiment, model_digest, plan, scenario_digest
    from sim.scenario import load_scenario
    from sim.store.tables import versions, write_bytes_atomic, write_json_atomic

    _check_counts(args.replications, args.seed, least=2)
    backend = check_backend(args.jobs, args.dask)
    paths = [args.base, *args.policies]
    loaded = [load_scenario(p, args.overrides) for p in paths]
    names = _display_names(loaded, paths)
    seed = loaded[0].scenario.run.seed if args.seed is None else args.seed
    replications = args.replications
    base_file = loaded[0].files[0]
    for name, ld in zip(names[1:], loaded[1:], strict=True):
        if base_file not in ld.files:  # a difference would then mix the policy with everything else
            chain = " -> ".join(f.name for f in ld.files)
            err_console.print(
                f"[yellow]note:[/] {name} does not extend {base_file.name} ({chain}): its differences from "
                "the base include whatever else differs between the two files",
                highlight=False,
                soft_wrap=True,
            )

    experiments: list[Experiment] = []
    which: list[int] = []  # the experiment of each name (a scenario given twice runs once)
    by_digest: dict[str, int] = {}
    for ld in loaded:
        digest = scenario_digest(ld.scenario)
        if digest not in by_digest:
            folder = _finished_run(ld.scenario.name, digest, seed, replications)
            code = model_digest()[:6]  # a model change gives a new folder: never mix code versions
            folder = folder or Path("results") / ld.scenario.name / f"crn-seed{seed}-{digest[:10]}-{code}"
            by_digest[digest] = len(experiments)
            experiments.append(Experiment(ld, folder, seed, replications))
        which.append(by_digest[digest])
    for exp in experiments:
        plan(exp, REUSE)
    out = args.out or Path("results") / f"compare-{'-'.join(names)}"

    bars = [(names[which.index(i)], [i]) for i in range(len(experiments))]
    with _interrupt_hint("Run the same command again to run only the missing replications."):
        failures = _run_all(experiments, backend, bars)
    if failures:
        return _report_failures(
            failures, experiments, "Run the same command again to run only the missing replications."
        )

    per_rep = {name: experiments[i].metrics() for name, i in zip(names, which, strict=True)}
    comp = comparison(per_rep, names[0])
    out.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out / "comparison.csv", comp.to_csv(index=False).encode("utf-8"))
    write_bytes_atomic(out / "comparison.md", markdown(comp, names, replications, seed).encode("utf-8"))
    write_json_atomic(
        out / "manifest.json",
        {
            "base": names[0],
            "policies": names[1:],
            "root_seed": seed,
            "replications": replications,
            "confidence": 0.95,
            "scenarios": [
                {
                    "name": name,
                    "files": [str(f) for f in loaded[k].files],
                    "overrides": list(loaded[k].overrides),
                    "scenario_sha256": scenario_digest(loaded[k].scenario),
                    "run_folder": str(experiments[which[k]].folder),
                }
                for k, name in enumerate(names)
            ],
            "command": list(sys.argv),
            "created": datetime.now().astimezone().isoformat(),
            "versions": versions(),
        },
    )
    headers, rows, marks = wide(comp, names)
    table = Table(
        title=f"{names[0]} (base) vs {', '.join(names[1:])}: all gates, after the warm-up",
        caption=f"mean ± 95% t-interval half-width over {replications} replications (root seed {seed}, "
        "common random numbers); Δ = policy - base, paired by replication; * = the paired interval "
        "excludes 0",
    )
    for k, h in enumerate(headers):
        table.add_column(h, justify="left" if k == 0 else "right")
    for row, flags in zip(rows, marks, strict=True):
        table.add_row(*(f"[bold]{c}[/]" if f else c for c, f in zip(row, flags, strict=True)))
    out_console.print(table)
    out_console.print(
        f"per gate and direction: {out / 'comparison.md'} and {out / 'comparison.csv'}", highlight=False
    )
    return 0


def _finished_run(name: str, digest: str, seed: int, replications: int) -> Path | None:
    """A run folder under results/<name>/ of this very scenario and seed with replications 0..R-1 done."""
    from sim.runner.experiment import model_digest
    from sim.store.tables import done_replications, read_manifest

    parent = Path("results") / name
    if not parent.is_dir():
        return None
    for folder in sorted(parent.iterdir()):
        manifest = read_manifest(folder)
        if (
            manifest
            and manifest.get("scenario_sha256") == digest
            and manifest.get("model_sha256") == model_digest()
            and manifest.get("root_seed") == seed
            and set(range(replications)) <= done_replications(folder)
        ):
            return folder
    return None


# --------------------------------------------------------------------------------------------------
# sweep
# --------------------------------------------------------------------------------------------------
def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.analysis.stats import summarize
    from sim.errors import Problem
    from sim.runner.backends import check_backend
    from sim.runner.experiment import NEW, REUSE, Experiment, plan
    from sim.scenario import load_scenario
    from sim.store.tables import versions, write_bytes_atomic, write_json_atomic
    from sim.studies import sweep

    axes = sweep.parse_grid(args.grid)
    base = load_scenario(args.scenario, args.overrides)
    _check_counts(args.replications, args.seed)
    backend = check_backend(args.jobs, args.dask)
    if args.resume and args.out is None and args.label is None:
        raise UserError.single(None, "--resume", "needs --label or --out naming the sweep folder to finish")
    grid = sweep.points(axes)
    loaded = []
    for k, point in enumerate(grid):
        try:
            loaded.append(load_scenario(args.scenario, [*args.overrides, *sweep.overrides(point)]))
        except UserError as exc:
            where = ", ".join(f"{key}={value}" for key, value in point.items())
            raise UserError(
                [
                    Problem(p.file, p.path, f"{p.message} (at grid point {k}: {where})", p.line)
                    for p in exc.problems
                ]
            ) from None
    # each point's own run.seed and run.replications unless given: a grid may sweep them too
    seeds = [ld.scenario.run.seed if args.seed is None else args.seed for ld in loaded]
    reps = [args.replications or ld.scenario.run.replications for ld in loaded]
    out = args.out or Path("results") / base.scenario.name / f"sweep-{args.label or _timestamp()}"
    if args.resume and not out.exists():
        raise UserError.single(None, "--resume", f"nothing to resume: '{out}' does not exist")
    if not args.resume and out.exists():
        raise UserError.single(
            None, "--out", f"'{out}' already exists; choose another --out or --label, or add --resume"
        )
    experiments = [
        Experiment(
            ld,
            out / "points" / f"point-{k:04d}",
            seeds[k],
            reps[k],
            keep_tables=args.tables,
            about={"sweep": str(out), "point": k, "grid": point},
        )
        for k, (ld, point) in enumerate(zip(loaded, grid, strict=True))
    ]
    for exp in experiments:
        plan(exp, REUSE if args.resume else NEW)
    started = datetime.now().astimezone().isoformat()

    def manifest(complete: bool) -> None:
        write_json_atomic(
            out / "manifest.json",
            {
                "scenario": base.scenario.name,
                "scenario_files": [str(f) for f in base.files],
                "overrides": list(args.overrides),
                "grid": {a.key: list(a.values) for a in axes},
                "points": [
                    {
                        "point": k,
                        "overrides": sweep.overrides(p),
                        "root_seed": seeds[k],
                        "replications": reps[k],
                    }
                    for k, p in enumerate(grid)
                ],
                "keep_tables": args.tables,
                "complete": complete,
                "command": list(sys.argv),
                "started": started,
                "finished": datetime.now().astimezone().isoformat() if complete else None,
                "versions": versions(),
            },
        )

    total = f"{base.scenario.name}: {len(grid)} points"
    finish = f"Run the missing ones with the same command plus --out {out} --resume."
    with _interrupt_hint(finish):
        failures = _run_all(
            experiments, backend, [(total, list(range(len(experiments))))], on_start=lambda: manifest(False)
        )
    if failures:
        return _report_failures(failures, experiments, finish)
    table = sweep.tidy(axes, grid, [e.metrics() for e in experiments])
    summary = summarize(table, by=["point", *(a.key for a in axes), "gate", "direction", "metric"])
    write_bytes_atomic(out / "sweep.csv", table.to_csv(index=False).encode("utf-8"))
    table.to_parquet(out / ".sweep.parquet.tmp", index=False)
    (out / ".sweep.parquet.tmp").replace(out / "sweep.parquet")
    write_bytes_atomic(out / "sweep_summary.csv", summary.to_csv(index=False).encode("utf-8"))
    manifest(True)
    _print_sweep(summary, [a.key for a in axes], base.scenario.name, reps)
    out_console.print(
        f"tidy table: {out / 'sweep.parquet'} (and .csv); summary: {out / 'sweep_summary.csv'}",
        highlight=False,
    )
    return 0


SWEEP_COLUMNS = [
    ("mean_clearance_h", "mean (h)"),
    ("p95_clearance_h", "p95 (h)"),
    ("cleared_per_day", "cleared/day"),
    ("peak_backlog", "peak backlog"),
]


def _short_keys(keys: list[str]) -> list[str]:
    """The shortest trailing parts of dotted keys that still tell them apart (for column headers)."""
    for n in range(2, max((k.count(".") + 1 for k in keys), default=1) + 1):  # two parts read better
        short = [".".join(k.split(".")[-n:]) for k in keys]
        if len(set(short)) == len(short):
            return short
    return keys


def _print_sweep(summary: pd.DataFrame, keys: list[str], name: str, reps: list[int]) -> None:
    from sim.analysis.metrics import ALL, metric_info

    overall = summary[(summary["gate"] == ALL) & (summary["direction"] == ALL)]
    table = Table(
        title=f"{name}: sweep, all gates, after the warm-up",
        caption="mean ± 95% t-interval half-width over "
        + (f"{reps[0]}" if len(set(reps)) == 1 else f"{min(reps)}-{max(reps)}")
        + " replications per point",
    )
    table.add_column("point", justify="right")
    for key in _short_keys(keys):
        table.add_column(key)
    for _, label in SWEEP_COLUMNS:
        table.add_column(label, justify="right")
    for point, rows in overall.groupby("point", sort=True):
        by_metric = rows.set_index("metric")
        cells = [str(point), *(str(rows.iloc[0][k]) for k in keys)]
        for metric, _ in SWEEP_COLUMNS:
            if metric not in by_metric.index:
                cells.append("-")
                continue
            r = by_metric.loc[metric]
            cells.append(_ci(r["mean"], r["half_width"], metric_info(metric).format))
        table.add_row(*cells)
    out_console.print(table)
