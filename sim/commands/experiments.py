"""``run``, ``compare`` and ``sweep``: replications of scenarios into results folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.options import Parents, size_option, study_options
from sim.groups import ALL

EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``run``, ``compare`` and ``sweep``."""
    run = sub.add_parser(
        "run",
        parents=[p.seed, p.parallel, p.overrides, p.root, p.output],
        help="run replications of a scenario and write their results",
    )
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--replications", type=int, help="number of replications (default: the scenario's)")
    run.add_argument("--out", type=Path, help="results folder (default: results/<scenario>/<timestamp>)")
    run.add_argument("--label", help="name of the run folder under results/<scenario>/ (default: timestamp)")
    run.add_argument(
        "--resume", action="store_true", help="finish the run in --out/--label: run only missing replications"
    )
    size_option(run)
    run.set_defaults(handler=cmd_run)

    cmp = sub.add_parser(
        "compare",
        parents=[p.seed, p.parallel, p.overrides, p.root, p.output],
        help="compare policies with a base scenario (common random numbers)",
    )
    cmp.add_argument("base", type=Path, help="the base scenario")
    cmp.add_argument("policies", type=Path, nargs="+", help="policy scenarios compared with the base")
    cmp.add_argument(
        "--replications", type=int, default=10, help="replications of each scenario (default 10)"
    )
    cmp.add_argument("--out", type=Path, help="comparison folder (default: results/compare-<names>)")
    size_option(cmp)
    add_decision_options(cmp)
    cmp.set_defaults(handler=cmd_compare)

    sw = sub.add_parser(
        "sweep",
        parents=[p.seed, p.parallel, p.overrides, p.root, p.output],
        help="run a factorial grid of overrides x replications into one table",
    )
    sw.add_argument("scenario", type=Path)
    sw.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a grid axis: a scenario key and its values, e.g. 'run.warmup=24,48' (repeatable: factorial)",
    )
    sw.add_argument("--replications", type=int, help="replications per point (default: the scenario's)")
    sw.add_argument("--out", type=Path, help="sweep folder (default: results/<scenario>/sweep-<timestamp>)")
    sw.add_argument("--label", help="name the sweep folder results/<scenario>/sweep-<label>")
    sw.add_argument("--resume", action="store_true", help="finish the sweep in --out/--label")
    sw.add_argument("--tables", action="store_true", help="keep every point's full tables, not only metrics")
    size_option(sw)
    sw.set_defaults(handler=cmd_sweep)


def add_decision_options(cmp: argparse.ArgumentParser) -> None:
    """What the decision summary ranks on, what change matters, and the sequential procedure."""
    cmp.add_argument(
        "--objective",
        default="mean_clearance_h",
        metavar="METRIC[@GATE[/DIR]]",
        help="what to rank the policies on (default: mean_clearance_h of the province), "
        "e.g. p95_clearance_h@huu_nghi/export",
    )
    cmp.add_argument(
        "--min-effect",
        action="append",
        default=[],
        metavar="METRIC=VALUE[%]",
        help="the smallest change that matters, in the printed unit or as a percentage of the base, "
        "e.g. mean_clearance_h=0.5 or cleared_value_usd=2%% (repeatable, one per metric)",
    )
    cmp.add_argument(
        "--precision",
        type=float,
        metavar="REL",
        help="add replications in batches until the objective's paired difference has a 95%% half-width "
        "at most REL times its size (e.g. 0.05), for every policy",
    )
    cmp.add_argument(
        "--precision-of",
        choices=["difference", "objective"],
        default="difference",
        help="what --precision applies to: the paired difference (default) or the objective itself",
    )
    cmp.add_argument(
        "--max-replications", type=int, default=100, help="the most --precision may run (default 100)"
    )


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario, print its summary and say what to do next."""
    import shlex

    from sim.present import terminal
    from sim.studies.run import run_scenario

    with terminal.ProgressBars() as bars:
        result = run_scenario(args.scenario, study_options(args, bars))
    if result.failures:
        terminal.report_failures(result.failures, [result.experiment], result.resume_hint)
        return EXIT_FAILED
    terminal.print_run_summary(result.summary, result.scenario.name, result.replications, args.fmt)
    terminal.say(f"{result.trucks:,} trucks simulated; results in {result.folder}", err=True)
    _say_what_clearance_covers(result.summary)
    _say_never_released(None, result.scenario)
    # the run's --set values too: without them the comparison would be of another scenario
    sets = [w for o in args.overrides for w in ("--set", o)]
    terminal.hint(
        [
            f"draw figures: bordersim plot {result.folder}",
            f"report: bordersim report {result.folder}",
            "compare with a policy: bordersim compare "
            + shlex.join([str(args.scenario), "POLICY.yaml", *sets])
            + " (a policy file says 'extends: <this scenario>' and changes a few keys)",
        ]
    )
    return 0


def _say_what_clearance_covers(summary) -> None:
    """Clearance statistics describe cleared trucks only: say so, and warn when many are still inside
    at the horizon or held upstream (a backlog growing without bound makes those statistics depend on the
    horizon; trucks held for good never reach the gate at all)."""
    from sim.analysis.stability import INSIDE_SHARE_LIMIT, inside_shares, unstable_flows
    from sim.present import terminal

    shares = inside_shares(summary)
    province = shares[(shares["gate"] == ALL) & (shares["direction"] == ALL)]
    if not province.empty and province["still_inside"].iloc[0] > 0:
        inside, arrived = province["still_inside"].iloc[0], province["arrived"].iloc[0]
        terminal.note(
            f"clearance times cover cleared trucks only; {inside:,.0f} trucks a replication "
            f"({inside / arrived:.1%}) were still inside at the horizon"
        )
    flagged = unstable_flows(summary)
    flagged = flagged[(flagged["gate"] != ALL) & (flagged["direction"] != ALL)]
    if flagged.empty:
        return
    where = ", ".join(
        f"{g} {d} ({s:.0%})"
        for g, d, s in zip(flagged["gate"], flagged["direction"], flagged["still_inside_share"], strict=True)
    )
    held = " or still held upstream" if (flagged["trucks_held_upstream"] > 0).any() else ""
    terminal.warning(
        f"more than {INSIDE_SHARE_LIMIT:.0%} of the trucks were still inside at the horizon{held} at: "
        f"{where}. Either the horizon is short next to the clearance times, or arrivals exceed what these "
        "gates clear (or release) and the backlog grows without bound; either way the clearance statistics "
        "(of the trucks that did clear) depend on the horizon. See 'unstable' in summary.csv"
    )


def _say_never_released(name: str | None, scenario) -> None:
    """Warn of upstream holding that releases nobody to the end of the run (issue 27): the gate's
    summary alone would read as if no trucks came."""
    from sim.present import terminal
    from sim.present.upstream_text import never_released_lines
    from sim.scenario.upstream_check import never_released

    for line in never_released_lines(never_released(scenario), name):
        terminal.warning(line)


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare policies with a base, print the paired differences and say what to do next."""
    from sim.present import terminal
    from sim.present.decision_text import print_decision
    from sim.store.layout import COMPARISON, COMPARISON_MARKDOWN
    from sim.studies.compare import compare_policies

    with terminal.ProgressBars() as bars:
        result = compare_policies(
            args.base,
            args.policies,
            study_options(args, bars),
            objective=args.objective,
            min_effect=args.min_effect,
            precision=args.precision,
            precision_of=args.precision_of,
            max_replications=args.max_replications,
        )
    for text in result.notes:
        terminal.note(text)
    for exp in result.experiments:
        _say_never_released(exp.scenario.name, exp.scenario)
    if result.failures:
        terminal.report_failures(result.failures, result.experiments, result.resume_hint)
        return EXIT_FAILED
    if result.precision is not None:
        p = result.precision
        how = "met" if p["met"] else f"NOT met within --max-replications {p['max_replications']}"
        batches = ", ".join(str(b["replications"]) for b in p["batches"])
        terminal.say(
            f"precision target {p['target']:g} on the {p['of']} of {p['objective']}: {how} after "
            f"{p['replications']} replications (batches: {batches})",
            err=True,
        )
    if args.fmt == "table":  # other formats print the tidy table only (the sentences are in comparison.md)
        print_decision(result.decision)
    terminal.print_comparison(result.table, result.names, result.replications, result.root_seed, args.fmt)
    terminal.say(
        f"per gate and direction: {result.folder / COMPARISON_MARKDOWN} and {result.folder / COMPARISON}",
        err=True,
    )
    terminal.hint(
        [
            f"draw figures: bordersim plot {result.folder}",
            f"report: bordersim report {result.folder}",
            f"print this again: bordersim summary {result.folder}",
        ]
    )
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid of overrides and print one row per point."""
    from sim.present import terminal
    from sim.store.layout import SWEEP_PARQUET, SWEEP_SUMMARY
    from sim.studies.sweep import run_sweep

    with terminal.ProgressBars() as bars:
        result = run_sweep(args.scenario, args.grid, study_options(args, bars), keep_tables=args.tables)
    if result.failures:
        terminal.report_failures(result.failures, result.experiments, result.resume_hint)
        return EXIT_FAILED
    keys = [a.key for a in result.axes]
    terminal.print_sweep(result.summary, keys, result.scenario, result.replications, args.fmt)
    terminal.say(
        f"tidy table: {result.folder / SWEEP_PARQUET} (and .csv); summary: {result.folder / SWEEP_SUMMARY}",
        err=True,
    )
    return 0
