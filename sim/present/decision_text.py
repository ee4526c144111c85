"""The decision summary on the terminal: the sentences, then the ranking (``compare`` prints it before
the comparison table). The terminal's other tables live in :mod:`sim.present.terminal`."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from sim.analysis.decision import Decision, Effect, amount, ranking_rows
from sim.analysis.metrics import metric_info
from sim.present.console import plain
from sim.present.terminal import note, out_console, say
from sim.store.layout import EVALUATIONS, SENSITIVITY_TABLE

if TYPE_CHECKING:
    from sim.studies.optimise import OptimiseResult
    from sim.studies.sensitivity import SensitivityResult

STYLE = {"better": "green", "worse": "red", "not modelled": "dim", "no interval": "yellow"}


def print_decision(decision: Decision) -> None:
    """Sentences first (what a planner reads), then the ranking with intervals and verdicts."""
    out_console.print(plain("Decision summary", "bold"), highlight=False)
    for sentence in decision.sentences:
        say(f"  - {sentence}")
    headers, rows = ranking_rows(decision)
    table = Table(
        title=plain(f"Ranking on {decision.objective.label} ({decision.objective.where()}), best first"),
        caption="verdict: better/worse = the paired 95% interval excludes 0 and the change is at least the "
        "relevance threshold (--min-effect); 'less than relevant' = the whole interval is inside it",
    )
    for k, h in enumerate(headers):
        table.add_column(h, justify="right" if k in (0, 2, 3) else "left")
    for row in rows:
        style = STYLE.get(row[-1], "")
        table.add_row(*map(plain, row[:-1]), plain(row[-1], style))
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
        table.add_row(plain(v.key), str(result.chosen[v.key]), f"{v.low}..{v.high}", f"{v.cost:g}")
    out_console.print(table)
    interval = f"{amount(t.ref.metric, result.mean)} ± {info.format(result.half_width)}"
    say(
        f"cost {result.cost:g}; {info.label} {interval} (95% interval, {result.replications} replications, "
        f"common random numbers); {evaluated} points evaluated"
    )
    say(f"every evaluated point: {result.folder / EVALUATIONS}; manifest: {result.folder / 'manifest.json'}")


def _pm(mean: float, half: float, fmt: Callable[[float], str]) -> str:
    """A signed change with its half-width ('+1.2 h ± 0.3 h'), '-' when undefined."""
    if not math.isfinite(mean):
        return "-"
    text = "+" + fmt(mean) if mean > 0 else fmt(mean)
    return text + (f" ± {fmt(half)}" if math.isfinite(half) else "")


def sensitivity_rows(result: SensitivityResult) -> tuple[list[str], list[list[str]], str]:
    """The ranking as headers, rows of text and a caption (one-at-a-time or Morris)."""
    info = metric_info(result.metric.metric)
    fmt = info.format
    table = result.table
    assert table is not None
    if result.method == "oat":
        headers = ["rank", "assumption", "where", "range", "Δ at low", "Δ at high", "swing"]
        rows = [
            [
                str(r["rank"]),
                r["assumption"],
                r["file"],
                r["range"],
                _pm(r["low_diff"], r["low_half_width"], fmt),
                _pm(r["high_diff"], r["high_half_width"], fmt),
                _pm(r["swing"], r["swing_half_width"], fmt),
            ]
            for _, r in table.iterrows()
        ]
        caption = (
            f"Δ = change of {info.label} ({info.unit}) from the base ({fmt(result.base_mean)}), paired by "
            f"replication over {result.replications} replications (common random numbers), ± 95% "
            "half-width; swing = |high - low|"
        )
        return headers, rows, caption
    headers = ["rank", "assumption", "where", "range", "mu*", "mu", "sigma"]
    rows = [
        [
            str(r["rank"]),
            r["assumption"],
            r["file"],
            r["range"],
            _pm(r["mu_star"], r["mu_star_conf"], fmt),
            fmt(r["mu"]),
            fmt(r["sigma"]),
        ]
        for _, r in table.iterrows()
    ]
    caption = (
        f"Morris elementary effects (SALib) of {info.label} ({info.unit}; base {fmt(result.base_mean)}) over "
        f"{result.trajectories} trajectories x {result.points} points, {result.replications} replications "
        "each: mu* = mean absolute effect of moving an assumption across its range (± bootstrap 95%), "
        "sigma = how much that effect depends on the others"
    )
    return headers, rows, caption


def print_sensitivity(result: SensitivityResult, chart: Path | None = None) -> None:
    """The assumptions ranked by how much they move the metric, and where the tornado chart is."""
    info = metric_info(result.metric.metric)
    headers, rows, caption = sensitivity_rows(result)
    table = Table(
        title=plain(
            f"Assumptions ranked by their effect on {info.label} ({result.metric.where()}), {result.method}"
        ),
        caption=plain(caption),
    )
    for h in headers:
        table.add_column(h, justify="left" if h in ("assumption", "where", "range") else "right")
    for row in rows:
        table.add_row(*map(plain, row))
    out_console.print(table)
    if chart is not None:
        say(f"tornado chart: {chart}")
    say(f"every evaluated point: {result.folder / 'points'}; table: {result.folder / SENSITIVITY_TABLE}")
