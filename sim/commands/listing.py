"""``list``, ``summary`` and ``schema``: what the results store holds, a finished study's summary again,
and the JSON Schema that lets an editor check scenario files as they are typed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.options import Parents


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``list``, ``summary`` and ``schema``."""
    ls = sub.add_parser(
        "list",
        parents=[p.root, p.output],
        help="list runs, comparisons, sweeps and history checks, newest first, with their state",
    )
    ls.set_defaults(handler=cmd_list)

    summary = sub.add_parser(
        "summary",
        parents=[p.output],
        help="print again the summary of any finished study: a run, comparison, sweep, history check, "
        "calibration, optimise, sensitivity, uncertainty or forecast",
    )
    summary.add_argument("folder", type=Path, metavar="RESULTS_DIR")
    summary.set_defaults(handler=cmd_summary)

    schema = sub.add_parser(
        "schema",
        help="write the JSON Schema of scenario files (or, with --policy, of policy files) for editors",
    )
    schema.add_argument(
        "--policy",
        action="store_true",
        help="the schema of a policy file: every field optional, plus extends",
    )
    schema.add_argument("--out", type=Path, metavar="FILE", help="write it to FILE (default: print it)")
    schema.add_argument("--force", action="store_true", help="replace FILE if it exists")
    schema.set_defaults(handler=cmd_schema)


def cmd_list(args: argparse.Namespace) -> int:
    """Print every results folder under the results root with its state."""
    from sim.present import terminal
    from sim.studies.folders import catalog_table

    table, problems = catalog_table(args.results_root)
    terminal.print_listing(table, str(args.results_root), args.fmt)
    for problem in problems:  # listed as damaged above; why, on stderr (the listing itself stays data)
        terminal.warning(problem)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print a finished study's summary from its saved files, as the study printed it."""
    from sim.present import terminal
    from sim.studies.folders import saved_summary

    saved = saved_summary(args.folder)
    if saved.kind == "run":
        terminal.print_run_summary(saved.table, saved.names[0], saved.replications[0], args.fmt)
    elif saved.kind == "comparison":
        terminal.print_comparison(saved.table, saved.names, saved.replications[0], saved.root_seed, args.fmt)
    elif saved.kind == "sweep":
        terminal.print_sweep(saved.table, saved.keys or [], saved.names[0], saved.replications, args.fmt)
    elif saved.kind == "uncertainty":
        from sim.present.uncertainty_text import print_bands

        tables = {"bands": saved.table, **saved.companions}
        samples = int(saved.manifest.get("samples") or 0)
        print_bands(tables, saved.names[0], samples, saved.replications[0], saved.folder, args.fmt)
    elif saved.kind != "history":
        what = f"{saved.kind} study of {saved.names[0]}"
        reps = f"{saved.replications[0]} replications each" if saved.replications[0] else ""
        terminal.print_saved_table(saved.table, f"{what}: {saved.table_file}", reps, args.fmt)
    else:
        if saved.table is not None:
            terminal.print_history(
                saved.table, f"reported vs simulated ({saved.replications[0]} replications)", args.fmt
            )
        if saved.observed is not None and saved.observed_error is not None:
            terminal.print_observed(saved.observed, saved.observed_error, saved.observed_title, args.fmt)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Write or print the JSON Schema."""
    from sim.present import terminal
    from sim.scenario.json_schema import schema_text
    from sim.studies.folders import write_new_file

    text = schema_text(policy=args.policy)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    write_new_file(args.out, text, args.force)
    terminal.say(
        f"wrote {args.out}; first line of a scenario file: # yaml-language-server: $schema={args.out}",
        err=True,
    )
    return 0
