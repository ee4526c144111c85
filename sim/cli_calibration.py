"""The ``calibrate`` and ``validate-history`` commands (kept apart from the experiment commands)."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.errors import UserError

DEFAULT_REPORTED = Path(__file__).resolve().parents[1] / "data" / "reported_2021.yaml"


def add_parsers(
    sub: argparse._SubParsersAction,
    add_parallel: Callable[[argparse.ArgumentParser], None],
    add_set: Callable[[argparse.ArgumentParser], None],
) -> None:
    cal = sub.add_parser("calibrate", help="find the arrival scale at which the cleared value meets a target")
    cal.add_argument("scenario", type=Path)
    cal.add_argument("--target-usd", type=float, required=True, help="cleared value to reach, e.g. 4.27e9")
    cal.add_argument("--tolerance", type=float, default=0.01, help="relative error allowed (default 0.01)")
    cal.add_argument("--replications", type=int, default=4, help="replications per evaluation (default 4)")
    cal.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    cal.add_argument(
        "--out", type=Path, help="calibrated scenario file (default: <scenario>_calibrated.yaml)"
    )
    add_parallel(cal)
    add_set(cal)

    hist = sub.add_parser(
        "validate-history", help="compare a run of the 2021 scenario (and the winter) with reported figures"
    )
    hist.add_argument("scenario", type=Path, help="the calibrated 2021 scenario")
    hist.add_argument("--winter", type=Path, help="the winter 2021-22 scenario (its backlog is reported)")
    hist.add_argument("--reported", type=Path, default=DEFAULT_REPORTED, help="reported figures (YAML)")
    hist.add_argument("--replications", type=int, help="replications (default: the scenario's, at least 2)")
    hist.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    hist.add_argument("--out", type=Path, help="folder for the tables (default: results/history-<scenario>)")
    add_parallel(hist)


def cmd_calibrate(args: argparse.Namespace, out: Console, err: Console) -> int:
    from sim.scenario import load_scenario
    from sim.store.tables import write_bytes_atomic
    from sim.studies.calibrate import Evaluation, calibrate, calibrated_yaml

    if args.target_usd <= 0:
        raise UserError.single(None, "--target-usd", f"must be positive (got {args.target_usd})")
    if not 0 < args.tolerance < 1:
        raise UserError.single(None, "--tolerance", f"must be between 0 and 1 (got {args.tolerance})")
    if args.replications < 1:
        raise UserError.single(None, "--replications", f"must be at least 1 (got {args.replications})")
    from sim.runner.backends import check_backend

    backend = check_backend(args.jobs, args.dask)
    loaded = load_scenario(args.scenario, args.overrides)
    seed = loaded.scenario.run.seed if args.seed is None else args.seed
    target = args.out or args.scenario.with_name(f"{args.scenario.stem}_calibrated.yaml")
    command = (
        "bordersim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        if sys.argv[1:]
        else "bordersim calibrate"
    )
    err.print(
        f"calibrating {loaded.scenario.name}: target USD {args.target_usd:,.0f}, "
        f"{args.replications} replications per evaluation, {backend.describe()}",
        highlight=False,
    )

    def report(e: Evaluation, tgt: float) -> None:
        err.print(
            f"  scale {e.scale:.6f}: cleared USD {e.mean:,.0f} +- {e.half_width():,.0f} "
            f"({e.mean / tgt - 1:+.3%})",
            highlight=False,
        )

    cal = calibrate(
        loaded.scenario, args.target_usd, args.tolerance, args.replications, seed, backend, report
    )
    write_bytes_atomic(target, calibrated_yaml(loaded, target, cal, command).encode("utf-8"))
    final = cal.final
    spread = final.half_width() / args.target_usd
    if spread > args.tolerance:
        err.print(
            f"[yellow]note:[/] the 95% interval of the cleared value (+- {spread:.1%} of the target) is "
            "wider "
            f"than the tolerance ({args.tolerance:.1%}): the scale is pinned down on these seeds only; "
            "more replications would narrow it",
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        f"scale {cal.scale:.6f}: cleared USD {final.mean:,.0f} +- {final.half_width():,.0f} (95% CI), "
        f"error {cal.error:+.3%} after {len(cal.evaluations)} evaluations; wrote {target}",
        highlight=False,
    )
    return 0


def cmd_validate_history(args: argparse.Namespace, out: Console, err: Console) -> int:
    from sim.runner.backends import check_backend
    from sim.scenario import load_scenario
    from sim.store.tables import write_bytes_atomic
    from sim.studies.history import compare_history, load_reported

    backend = check_backend(args.jobs, args.dask)
    parts = [("year_2021", load_scenario(args.scenario).scenario)]
    if args.winter is not None:
        parts.append(("winter_2021_22", load_scenario(args.winter).scenario))
    rows = {section: load_reported(args.reported, section) for section, _ in parts}
    if args.replications is not None and args.replications < 2:
        raise UserError.single(None, "--replications", "must be at least 2 (a confidence interval needs two)")
    folder = args.out or Path("results") / f"history-{parts[0][1].name}"
    tables = []
    for section, scenario in parts:
        reps = args.replications or max(2, scenario.run.replications)
        seed = scenario.run.seed if args.seed is None else args.seed
        err.print(f"running {scenario.name}: {reps} replications, {backend.describe()}", highlight=False)
        df = compare_history(scenario, rows[section], reps, seed, backend)
        df.insert(0, "scenario", scenario.name)
        tables.append(df)
        _print(out, df, f"{scenario.name}: reported vs simulated ({reps} replications, 95% CI)")
    result = pd.concat(tables, ignore_index=True)
    write_bytes_atomic(folder / "history.csv", result.to_csv(index=False).encode("utf-8"))
    md = result.to_markdown(index=False, tablefmt="github", floatfmt=".4g")
    write_bytes_atomic(folder / "history.md", (md + "\n").encode("utf-8"))
    out.print(f"wrote {folder / 'history.csv'} and history.md", highlight=False)
    return 0


def _print(out: Console, df: pd.DataFrame, title: str) -> None:
    table = Table(title=title)
    for col in ("figure", "reported", "simulated", "ratio", "source"):
        table.add_column(col, justify="right" if col in ("reported", "simulated", "ratio") else "left")
    for _, r in df.iterrows():
        sim_text = f"{r['simulated']:,.4g} +- {r['ci95_half_width']:,.2g}"
        rep = "-" if r["reported"] is None or r["reported"] != r["reported"] else f"{r['reported']:,.4g}"
        ratio = "-" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}"
        table.add_row(r["figure"], rep, sim_text, ratio, r["source"])
    out.print(table)
