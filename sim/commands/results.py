"""``plot`` and ``report``: figures and the HTML report of saved results (they never run the model)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands.options import Parents
from sim.errors import UserError

KIND_HELP = (
    "forest, headline, clearance, backlog, throughput or stages (repeatable or comma-separated; default: all)"
)


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``plot`` and ``report``."""
    plot = sub.add_parser("plot", help="draw figures (PNG and SVG) of a run, comparison or sweep folder")
    plot.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="a run, compare-... or sweep folder")
    plot.add_argument("--kind", action="append", default=[], metavar="KIND", help=KIND_HELP)
    plot.add_argument("--out", type=Path, help="folder for the figures (default: RESULTS_DIR/plots)")
    plot.set_defaults(handler=cmd_plot)

    rep = sub.add_parser("report", help="write an HTML report of any study's folder (opens offline)")
    rep.add_argument(
        "folder", type=Path, metavar="RESULTS_DIR", help="a run, comparison, sweep or other study's folder"
    )
    rep.set_defaults(handler=cmd_report)


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw the asked kinds of figures of a saved run or comparison."""
    from sim.present import terminal
    from sim.present.plots import KINDS, plot

    kinds = [k.strip() for text in args.kind for k in text.split(",") if k.strip()] or None
    unknown = [k for k in kinds or () if k not in KINDS]
    if unknown:
        raise UserError.single(
            None, "--kind", f"unknown kind {', '.join(map(repr, unknown))}; choose from {', '.join(KINDS)}"
        )
    for w in plot(args.folder, kinds, args.out):
        terminal.say(f"{w.title}: {', '.join(str(f) for f in w.files)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report of a saved run or comparison and say where it is."""
    from sim.present import terminal
    from sim.present.report import build_report

    page, written = build_report(args.folder)
    pngs = [getattr(w, "png", w) for w in written]  # a figure drawn now, or a PNG the study drew itself
    where = ", ".join(sorted({str(p.parent) for p in pngs})) or "-"
    terminal.say(f"{len(pngs)} figures in {where}; report: {page}")
    terminal.say(f"open it in a browser: {page.resolve().as_uri()}")
    return 0
