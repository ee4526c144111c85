"""Decision wording, its one home: the sentences, the ranking's cells and the Markdown of a decision
(:class:`sim.analysis.decision.Decision`, numbers and verdicts), and the decision summary on the terminal
(``compare`` prints it before the comparison table). The page, the terminal, the report and
``comparison.md`` all read these. The terminal's other tables live in :mod:`sim.present.terminal`."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from sim.analysis.decision import (
    NEUTRAL,
    RELIABLE_REPLICATIONS,
    SUGGESTED_REPLICATIONS,
    Change,
    Decision,
    Effect,
    Ranked,
    Threshold,
    good_direction,
)
from sim.analysis.metrics import metric_info
from sim.analysis.swing import Swing
from sim.present.cells import ref_group
from sim.present.console import plain
from sim.present.input_names import input_label
from sim.present.terminal import note, out_console, say
from sim.store.layout import EVALUATIONS, SENSITIVITY_TABLE

if TYPE_CHECKING:
    from sim.studies.optimise import OptimiseResult
    from sim.studies.sensitivity import SensitivityResult

STYLE = {"better": "green", "worse": "red", "not modelled": "dim", "no interval": "yellow"}


# --------------------------------------------------------------------------------------------------
# amounts and intervals in the metric's printed unit
# --------------------------------------------------------------------------------------------------
def vnd(usd_m: float, vnd_per_usd: float) -> str:
    """Millions of USD in billions of dong at the scenario's rate: 'VND 73.3 bn' (issue 29 row 17)."""
    bn = usd_m * vnd_per_usd / 1000.0
    digits = 0 if abs(bn) >= 100 else (1 if abs(bn) >= 10 else 2)
    return f"VND {bn:,.{digits}f} bn"


def amount(metric: str, value: float, signed: bool = False, vnd_per_usd: float | None = None) -> str:
    """A value in the metric's printed unit: '5.40 h', 'USD 3.20 m', '12 trucks'; money with the
    scenario's rate (``vnd_per_usd``) also in dong: 'USD 3.20 m (VND 73.3 bn)'."""
    info = metric_info(metric)
    number = info.format(value)
    if signed and value > 0:
        number = "+" + number
    if info.unit == "USD m":
        sign = "-" if number.startswith("-") else ("+" if number.startswith("+") else "")
        dong = f" ({sign}{vnd(abs(value) / info.scale, vnd_per_usd)})" if vnd_per_usd else ""
        return f"{sign}USD {number.lstrip('+-')} m{dong}"
    return f"{number} {info.unit}".strip()


def _pct(pct: float) -> str:
    if not math.isfinite(pct):
        return ""
    return f"{pct:+.0f}%" if abs(pct) >= 10 else f"{pct:+.1f}%"


def interval_text(metric: str, low: float, high: float, vnd_per_usd: float | None = None) -> str:
    """A 95% interval in words, in the metric's printed unit: '-9.28 to -3.57 h'; money with the
    scenario's rate also in dong."""
    info = metric_info(metric)
    unit = amount(metric, 0.0).replace(info.format(0.0), "").strip()
    if info.unit == "USD m":
        dong = ""
        if vnd_per_usd:
            first, last = (vnd(v / info.scale, vnd_per_usd) for v in (low, high))
            dong = f" (VND {first[4:-3]} to {last[4:]})"
        return f"USD {info.format(low)} to {info.format(high)} m{dong}"
    return f"{info.format(low)} to {info.format(high)} {unit}".strip()


def threshold_text(threshold: Threshold, metric: str) -> str:
    """The threshold in the metric's printed unit, or as a percentage of the base."""
    if threshold.percent:
        return f"{threshold.value:g}%"
    return amount(metric, threshold.value * metric_info(metric).scale)


# --------------------------------------------------------------------------------------------------
# sentences
# --------------------------------------------------------------------------------------------------
def effect_sentence(change: Change, vnd_per_usd: float | None = None) -> str:
    """One sentence on a policy's change of a metric (money also in dong at ``vnd_per_usd``)."""
    name, metric, effect, threshold = change.scenario, change.metric, change.effect, change.threshold
    label = metric_info(metric).label
    d, low, high = change.diff, change.diff_low, change.diff_high
    pct = _pct(change.diff_pct)
    relevant = f"the {threshold_text(threshold, metric)} you consider relevant" if threshold else ""
    ci = f"95% interval {interval_text(metric, low, high, vnd_per_usd)}"
    if effect is Effect.NOT_MODELLED:
        return f"{name}: {label} is not modelled."
    if effect is Effect.SAME:
        return f"{name} leaves {label} exactly as it is in every replication."
    if effect is Effect.NO_INTERVAL:
        by = amount(metric, d, signed=True, vnd_per_usd=vnd_per_usd)
        return f"{name} changes {label} by {by} ({pct}); one replication: no interval."
    if effect is Effect.CONSTANT:
        by = amount(metric, d, signed=True, vnd_per_usd=vnd_per_usd)
        n = change.n_pairs
        every = f"each of the {int(n)} replications" if math.isfinite(n) else "every replication"
        return (
            f"{name} changes {label} by {by} ({pct}), the same in {every}: with no spread there is no "
            "interval, so this is not called a clear change; more replications would tell."
        )
    if effect is Effect.NEGLIGIBLE:
        return f"{name} changes {label} by less than {relevant} ({ci})."
    if effect is Effect.UNCLEAR:
        text = f"{name} has no clear effect on {label} ({ci}: it includes no change"
        return text + (
            f" and changes larger than {relevant}); more replications would tell." if threshold else ")."
        )
    verb = (
        ("cuts" if d < 0 else "raises")
        if metric_info(metric).unit != "h"
        else ("cuts" if d < 0 else "lengthens")
    )
    by = amount(metric, abs(d), vnd_per_usd=vnd_per_usd)
    text = f"{name} {verb} {label} by {by} ({', '.join(filter(None, [pct, ci]))})"
    if effect is Effect.SMALL:
        return text + f": real, but less than {relevant}."
    if threshold and min(abs(low), abs(high)) < change.limit:
        text += f"; the interval reaches below {relevant}"
    return text + (": worse." if effect is Effect.WORSE else ".")


def _at_end(input_: str, end: str, value: str) -> str:
    """'Informed share (route choice exports) at the low end, 0.2': the input in words (the swing table
    keeps the key users type)."""
    return f"{input_label(input_)} at the {end} end, {value}"


def swing_sentence(swing: Swing, decision: Decision) -> str:
    """A policy's effect over the ranges of its own assumptions, and the policies it would rank below at
    the unfavourable end (those its central effect beats)."""
    metric, good, rate = decision.objective.metric, decision.good or -1, decision.vnd_per_usd
    central = {r.scenario: (r.diff if r.role != "base" else 0.0) for r in decision.ranking}
    own = central.get(swing.policy, math.nan)
    text = (
        f"Over the ranges of its own assumptions (one at a time), {swing.policy}'s change of "
        f"{metric_info(metric).label} runs from {amount(metric, swing.worst, True, rate)} "
        f"({_at_end(swing.worst_input, swing.worst_end, swing.worst_value)}) to "
        f"{amount(metric, swing.best, True, rate)} "
        f"({_at_end(swing.best_input, swing.best_end, swing.best_value)})"
    )
    below = [
        name
        for name, diff in central.items()
        if name != swing.policy
        and math.isfinite(diff)
        and good * own > good * diff  # beaten at the central values ...
        and good * swing.worst < good * diff  # ... but not at the unfavourable end
    ]
    if below:
        text += f"; at the unfavourable end it would rank below {', '.join(below)}"
    return text + "."


def swing_cell(swing: Swing | None, metric: str, vnd_per_usd: float | None = None) -> str:
    """The swing as a table cell: 'worst .. best', or '-' for a policy without its own assumptions."""
    if swing is None:
        return "-"
    worst, best = (amount(metric, v, True, vnd_per_usd) for v in (swing.worst, swing.best))
    return f"{worst} .. {best}"


def headline(decision: Decision) -> str:
    """The first sentence: what the best policy does to the objective, and how sure that is."""
    objective, ranking, rate = decision.objective, decision.ranking, decision.vnd_per_usd
    threshold = decision.thresholds.get(objective.metric)
    info = metric_info(objective.metric)
    what = f"{info.label} ({ref_group(objective)})"
    if not ranking or not math.isfinite(ranking[0].mean):
        return f"No scenario has a value of {what}."
    if ranking[0].effect is Effect.NOT_MODELLED:
        return f"{what} is not modelled by these scenarios."
    if good_direction(objective.metric) == NEUTRAL:
        return f"Ranked on {what} (neither more nor less is better by itself)."
    base: Ranked | None = next((r for r in ranking if r.role == "base"), None)
    winners = [r for r in ranking if r.effect is Effect.BETTER]
    if winners:
        best = winners[0]
        shown = f"{amount(objective.metric, best.mean)}"  # ± in the same unit: USD only here
        if math.isfinite(best.half_width):
            shown += f" ± {info.format(best.half_width)}"
        against = ""
        if base:
            against = f" against {amount(objective.metric, base.mean, vnd_per_usd=rate)} for {base.scenario}"
        return f"Best on {what}: {best.scenario}, {shown}{against}."
    bar = (
        f"by at least the {threshold_text(threshold, objective.metric)} you consider relevant"
        if threshold
        else "clearly"
    )
    name = base.scenario if base else "the base"
    shown = amount(objective.metric, base.mean, vnd_per_usd=rate) if base else "-"
    return f"No policy improves {what} {bar} on {name} ({shown})."


def decision_sentences(decision: Decision, rate_line: bool = True) -> list[str]:
    """The headline, each policy's change of the objective, the trade-offs, what is not modelled and how
    far the replications can be trusted; ``rate_line``: with the sentence giving the rate of the dong
    (the page states it once, above the tiles, instead)."""
    sentences = [headline(decision)]
    rate = decision.vnd_per_usd
    sentences += [effect_sentence(change, rate) for change in decision.changes]
    sentences += [swing_sentence(swing, decision) for swing in decision.swings]
    sentences += ["Also: " + effect_sentence(change, rate) for change in decision.trade_offs]
    if (
        rate_line
        and rate
        and any(metric_info(c.metric).unit == "USD m" for c in [*decision.changes, *decision.trade_offs])
    ):
        sentences.append(f"VND at {rate:,.0f} per USD ({decision.rate_source}).")
    if decision.not_modelled:
        absent = [
            metric_info(u.metric).label + ("" if u.everywhere else f" (in {', '.join(u.scenarios)})")
            for u in decision.not_modelled
        ]
        sentences.append(f"Not modelled in these scenarios: {', '.join(absent)}.")
    replications = decision.replications
    if 0 < replications < 2:
        sentences.append(
            "One replication: there is no interval, so nothing here says how sure these numbers are; "
            "run at least 2 (e.g. --replications 10)."
        )
    elif 2 <= replications < RELIABLE_REPLICATIONS:
        sentences.append(
            f"Only {replications} replications: the 95% intervals rest on {replications - 1} degree(s) of "
            f"freedom and are unreliable; run at least {SUGGESTED_REPLICATIONS} "
            f"(--replications {SUGGESTED_REPLICATIONS})."
        )
    return sentences


# --------------------------------------------------------------------------------------------------
# the ranking as cells, and the whole summary as Markdown
# --------------------------------------------------------------------------------------------------
VERDICT_WORDS = {
    Effect.BETTER: "better",
    Effect.WORSE: "worse",
    Effect.CHANGED: "changed",
    Effect.NEGLIGIBLE: "less than relevant",
    Effect.SMALL: "real but small",
    Effect.UNCLEAR: "unclear",
    Effect.SAME: "identical",
    Effect.CONSTANT: "the same in every replication",
    Effect.NO_INTERVAL: "no interval",
    Effect.NOT_MODELLED: "not modelled",
    Effect.BASE: "base",
}


def ranking_rows(decision: Decision) -> tuple[list[str], list[list[str]]]:
    """The ranking as table cells: rank, scenario, objective ± half-width, difference from the base with
    its 95% interval, verdict."""
    metric, rate = decision.objective.metric, decision.vnd_per_usd
    info = metric_info(metric)
    headers = ["rank", "scenario", f"{info.label} ({info.unit})", "Δ vs base (95% interval)", "verdict"]
    swings = {w.policy: w for w in decision.swings}
    if swings:  # beside the effect: how far it moves over the policy's own assumptions
        headers.insert(4, "Δ over its own assumptions' ranges (least .. most favourable)")
    rows = []
    for r in decision.ranking:
        if r.effect is Effect.NOT_MODELLED:
            value = delta = "not modelled"
        else:
            value = info.format(r.mean) + (
                f" ± {info.format(r.half_width)}" if math.isfinite(r.half_width) else ""
            )
            if info.unit == "USD m" and rate and math.isfinite(r.mean):  # the mean also in dong
                value += f" ({'-' if r.mean < 0 else ''}{vnd(abs(r.mean) / info.scale, rate)})"
            if r.role == "base":
                delta = "(base)"
            elif r.effect is Effect.CONSTANT:
                delta = f"{amount(metric, r.diff, True, rate)} in every replication"
            elif math.isfinite(r.diff_low) and math.isfinite(r.diff_high):
                ci = interval_text(metric, r.diff_low, r.diff_high, rate)
                delta = f"{amount(metric, r.diff, True, rate)} ({ci})"
            else:
                delta = (
                    f"{amount(metric, r.diff, True, rate)} (no interval)" if math.isfinite(r.diff) else "-"
                )
        row = [str(r.rank), r.scenario, value, delta, VERDICT_WORDS[r.effect]]
        if swings:
            row.insert(4, "(base)" if r.role == "base" else swing_cell(swings.get(r.scenario), metric, rate))
        rows.append(row)
    return headers, rows


def ranking_title(decision: Decision) -> str:
    """'Ranking on mean clearance time (all gates, both directions), best first'."""
    return f"Ranking on {decision.objective.label} ({ref_group(decision.objective)}), best first"


def as_markdown(decision: Decision) -> str:
    """The decision summary as Markdown: the sentences, then the ranking table."""
    headers, rows = ranking_rows(decision)
    lines = ["# Decision summary", "", *(f"- {s}" for s in decision_sentences(decision)), ""]
    lines.append(ranking_title(decision) + ":")
    lines.append("")
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join(["---"] * len(headers)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def print_decision(decision: Decision) -> None:
    """Sentences first (what a planner reads), then the ranking with intervals and verdicts."""
    out_console.print(plain("Decision summary", "bold"), highlight=False)
    for sentence in decision_sentences(decision):
        say(f"  - {sentence}")
    headers, rows = ranking_rows(decision)
    table = Table(
        title=plain(ranking_title(decision)),
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
        say(f"Cheapest configuration meeting {t} ({ref_group(result.target.ref)}):")
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
            f"Assumptions ranked by their effect on {info.label} ({ref_group(result.metric)}), "
            f"{result.method}"
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
