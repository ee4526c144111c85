"""The decision summary on the terminal: the sentences, then the ranking (``compare`` prints it before
the comparison table). The terminal's other tables live in :mod:`sim.present.terminal`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from sim.analysis.decision import Decision, Effect, amount, ranking_rows
from sim.analysis.metrics import metric_info
from sim.present.terminal import note, out_console, say
from sim.store.layout import EVALUATIONS, SENSITIVITY_TABLE

if TYPE_CHECKING:
    from sim.studies.optimise import OptimiseResult
    from sim.studies.sensitivity import SensitivityResult

STYLE = {"better": "green", "worse": "red", "not modelled": "dim", "no interval": "yellow"}


def print_decision(decision: Decision) -> None:
    """Sentences first (what a planner reads), then the ranking with intervals and verdicts."""
    out_console.print("Decision summary", style="bold", highlight=False)
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
        note("with one replication there is no interval; run at least 2.")


def print_optimise(result: OptimiseResult) -> None:
    """The chosen point, its cost and the target metric's interval; where every evaluated point is."""
    t = result.target
    info = metric_info(t.ref.metric)
    evaluated = 0 if result.evaluations is None else len(result.evaluations)
    if result.chosen is None:
        say(f"no configuration found for {t}")
        return
    if not result.feasible:
        say(f"TARGET NOT MET even with every variable at its upper bound ({t}):")
    elif not result.met:
        say(f"the chosen point did not meet {t} in its final check:")
    else:
        say(f"Cheapest configuration meeting {t} ({result.target.ref.where()}):")
    table = Table(show_header=True)
    table.add_column("variable")
    table.add_column("value", justify="right")
    table.add_column("range", justify="right")
    table.add_column("cost a unit", justify="right")
    for v in result.variables:
        table.add_row(v.key, str(result.chosen[v.key]), f"{v.low}..{v.high}", f"{v.cost:g}")
    out_console.print(table)
    interval = f"{amount(t.ref.metric, result.mean)} ± {info.format(result.half_width)}"
    say(
        f"cost {result.cost:g}; {info.label} {interval} (95% interval, {result.replications} replications, "
        f"common random numbers); {evaluated} points evaluated"
    )
    say(
        f"every evaluated point: {result.folder / EVALUATIONS}; "
        f"manifest: {result.folder / 'manifest.json'}"
    )


def print_sensitivity(result: SensitivityResult, chart: Path | None = None) -> None:
    """The assumptions ranked by how much they move the metric, and where the tornado chart is."""
    info = metric_info(result.metric.metric)
    table = Table(
        title=f"Assumptions ranked by their effect on {info.label} ({result.metric.where()}), "
        f"{result.method}",
        caption=result.caption,
    )
    for h in result.headers:
        table.add_column(h, justify="left" if h in ("assumption", "where", "range") else "right")
    for row in result.rows:
        table.add_row(*row)
    out_console.print(table)
    if chart is not None:
        say(f"tornado chart: {chart}")
    say(f"every evaluated point: {result.folder / 'points'}; table: {result.folder / SENSITIVITY_TABLE}")
