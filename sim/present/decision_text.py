"""The decision summary on the terminal: the sentences, then the ranking (``compare`` prints it before
the comparison table). The terminal's other tables live in :mod:`sim.present.terminal`."""

from __future__ import annotations

from rich.table import Table

from sim.analysis.decision import Decision, Effect, ranking_rows
from sim.present.terminal import out_console, say

STYLE = {"better": "green", "worse": "red", "not modelled": "dim", "no interval": "yellow"}


def print_decision(decision: Decision) -> None:
    """Sentences first (what a planner reads), then the ranking with intervals and verdicts."""
    say("[bold]Decision summary[/]")
    for sentence in decision.sentences:
        say(f"  - {sentence}")
    headers, rows = ranking_rows(decision)
    table = Table(
        title=f"Ranking on {decision.objective.label} ({decision.objective.where()}), best first",
        caption="verdict: better/worse = the paired 95% interval excludes 0 and the change is at least the "
        "relevance threshold (--min-effect); 'less than relevant' = the whole interval is inside it",
    )
    for k, h in enumerate(headers):
        table.add_column(h, justify="right" if k in (0, 2, 3) else "left")
    for row in rows:
        style = STYLE.get(row[-1], "")
        table.add_row(*row[:-1], f"[{style}]{row[-1]}[/]" if style else row[-1])
    out_console.print(table)
    if any(r.effect is Effect.NO_INTERVAL for r in decision.ranking):
        say("[yellow]note:[/] with one replication there is no interval; run at least 2.", err=True)
