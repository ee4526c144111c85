"""The morning twin on the terminal: what the counts taught (each input's prior beside its posterior),
how healthy the filter was (the effective sample size at each step), the filtered past and the forecast
fan in short, and with ``--hindcast`` the score table by horizon band against the two baselines.

The numbers come from the study's tables (:mod:`sim.studies.assimilate`); only words and layout are
made here. Bands are the spread of the model's count over the particles (5-95%), not an interval of a
mean: where one day's count may fall."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from sim.groups import ALL
from sim.present.console import hint, note, say
from sim.present.layout import Block, emit

WHAT = {
    "waiting": "trucks waiting",
    "crossed": "trucks crossed a day",
    "turned_back": "trucks turned back a day",
}
MAX_ROWS = 16  # days shown per series on the terminal; every day is in assimilate_daily.csv


def number(x: float, dated: bool = False) -> str:
    """An input's value: a date for a dated input (stored as its ordinal day), else 3 significant digits."""
    if not math.isfinite(x):
        return "-"
    if dated:
        return date.fromordinal(round(x)).isoformat()
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def group_name(gate: str, direction: str, what: str) -> str:
    """A series' name in words: 'trucks crossed a day, gate, export'."""
    where = "all gates" if gate == ALL else gate
    which = "both directions" if direction == ALL else direction
    return f"{WHAT.get(what, what)}, {where}, {which}"


def posterior_block(table: pd.DataFrame) -> Block:
    """Each input's prior 5/50/95% beside its posterior's, and how much narrower the 90% interval is."""
    block = Block(
        "What the counts taught: each uncertain input, prior beside posterior",
        ["input", "range", "prior 5%", "50%", "95%", "posterior 5%", "50%", "95%", "90% width vs prior"],
        text={0, 1},
    )
    for r in table.itertuples(index=False):
        dated = bool(getattr(r, "dated", False))
        prior_w, post_w = r.prior_p95 - r.prior_p5, r.posterior_p95 - r.posterior_p5
        share = f"{post_w / prior_w:.0%}" if prior_w > 0 else "-"
        cells = [r.prior_p5, r.prior_p50, r.prior_p95, r.posterior_p5, r.posterior_p50, r.posterior_p95]
        block.rows.append([str(r.input), str(r.range), *(number(c, dated) for c in cells), share])
    block.caption = (
        "prior: the ranges of the scenario's uncertain: section; posterior: weighted final particles"
    )
    return block


def ess_block(ess: pd.DataFrame, particles: int) -> Block:
    """The effective sample size after each step's weights, and what the filter did then."""
    block = Block(
        f"Effective sample size at each step (of {particles} particles)",
        ["step", "when", "rows", "ESS", "then"],
        text={1, 4},
    )
    for r in ess.itertuples(index=False):
        then = f"resampled, {r.moved:.0%} of the copies moved" if r.resampled else "kept"
        block.rows.append(
            [str(r.step), str(r.when).replace("T", " ")[:16], str(r.observations), f"{r.ess:.1f}", then]
        )
    block.caption = (
        "resampled (systematic) when the ESS falls below half the particles; copies moved by Liu and West's "
        "kernel, each going on from its parent's saved state"
    )
    return block


def _thin(rows: pd.DataFrame) -> pd.DataFrame:
    """At most MAX_ROWS evenly spaced rows, the last always kept."""
    step = max(1, math.ceil(len(rows) / MAX_ROWS))
    keep = [k for k in range(len(rows)) if k % step == 0 or k == len(rows) - 1]
    return rows.iloc[keep]


def series_blocks(daily: pd.DataFrame) -> list[Block]:
    """Per observed series: the filtered past (median, 5-95% band, the count) and the forecast fan."""
    blocks = []
    for (gate, direction, what), rows in daily.groupby(["gate", "direction", "what"], sort=False):
        block = Block(
            group_name(gate, direction, what),
            ["date", "part", "median", "50% band", "90% band", "observed"],
            text={0, 1},
        )
        for r in _thin(rows).itertuples(index=False):
            seen = "" if pd.isna(r.observed) else f"{r.observed:,.0f}"
            block.rows.append(
                [
                    str(r.date),
                    str(r.part),
                    f"{r.p50:,.0f}",
                    f"{r.p25:,.0f}-{r.p75:,.0f}",
                    f"{r.p5:,.0f}-{r.p95:,.0f}",
                    seen,
                ]
            )
        block.caption = "the model's count over the particles (the spread of outcomes, not of a mean)"
        blocks.append(block)
    return blocks


def series_lines(result: Any) -> list[str]:
    """The filtered past and the fan in sentences: how many counts the filtered band held, the fan's end."""
    daily = result.daily
    lines = []
    seen = daily[daily["observed"].notna() & (daily["part"] == "filtered")]
    if len(seen):
        held = int(((seen["p5"] <= seen["observed"]) & (seen["observed"] <= seen["p95"])).sum())
        lines.append(
            f"The filtered 90% band holds {held} of the {len(seen)} daily counts it was given "
            "(each day under the weights of the counts known by then)."
        )
    fan = daily[daily["part"] == "forecast"]
    for (gate, direction, what), rows in fan.groupby(["gate", "direction", "what"], sort=False):
        last = rows.iloc[-1]
        lines.append(
            f"Forecast of {group_name(gate, direction, what)} on {last['date']}: {last['p50']:,.0f} "
            f"(90% of outcomes {last['p5']:,.0f} to {last['p95']:,.0f})."
        )
    return lines


METHODS = ("assimilated", "prior", "persistence")


def hindcast_block(table: pd.DataFrame) -> Block:
    """The hindcast's scores by horizon band: the assimilated forecast against both baselines."""
    block = Block(
        "Hindcast: forecasts made from each observation date, scored on the later counts",
        ["horizon (days)", "method", "rows", "CRPS (trucks)", "in 50% band", "in 90% band", "RMS log ratio"],
        text={0, 1},
    )

    def share(x: float) -> str:
        return "-" if pd.isna(x) else f"{x:.0%}"

    for band, rows in table.groupby("band", sort=False):
        best = rows["crps"].min()
        for r in rows.itertuples(index=False):
            if r.crps == best:
                block.strong.add((len(block.rows), 3))
            rms = "-" if pd.isna(r.rms_log_ratio) else f"{r.rms_log_ratio:.2f}"
            block.rows.append(
                [str(band), str(r.method), str(r.n), f"{r.crps:.2f}", share(r.cover50), share(r.cover90), rms]
            )
    block.caption = (
        "CRPS: lower is better (a point forecast's is its error); a calibrated band holds 50% and 90%; "
        "prior: no assimilation; persistence: the last count carried forward"
    )
    return block


def hindcast_lines(table: pd.DataFrame) -> list[str]:
    """Per horizon band, whether the assimilated forecast's CRPS beats both baselines."""
    lines = []
    for band, rows in table.groupby("band", sort=False):
        crps = rows.set_index("method")["crps"]
        if "assimilated" not in crps:
            continue
        others = [m for m in ("prior", "persistence") if m in crps and pd.notna(crps[m])]
        beaten = [m for m in others if crps["assimilated"] < crps[m]]
        verdict = (
            "beats both baselines"
            if len(beaten) == len(others)
            else (f"beats {', '.join(beaten)} only" if beaten else "beats neither baseline")
        )
        lines.append(
            f"{band} days ahead: the assimilated forecast {verdict} (CRPS {crps['assimilated']:.2f})."
        )
    return lines


def print_assimilate(result: Any, fmt: str = "table") -> None:
    """The posterior, the ESS, the series and the fan, the hindcast; csv/json: the posterior table."""
    if fmt in ("csv", "json"):
        emit(result.posterior, [[posterior_block(result.posterior)]], fmt)
        return
    say(
        f"Assimilated {result.scenario}'s counts up to {result.until:%Y-%m-%d %H:%M} with {result.particles} "
        f"particles ({result.runs} runs), forecast {result.days:g} days on."
    )
    emit(result.posterior, [[posterior_block(result.posterior)]], fmt)
    emit(result.ess, [[ess_block(result.ess, result.particles)]], fmt)
    low = result.ess["ess"].min() if len(result.ess) else math.nan
    if math.isfinite(low) and low < 0.1 * result.particles:
        note(
            f"the effective sample size fell to {low:.1f} of {result.particles}: the posterior rests on few "
            "particles; run more (--particles)."
        )
    emit(result.daily, [series_blocks(result.daily)], fmt)
    for line in series_lines(result):
        say(line)
    if result.hindcast is not None and len(result.hindcast):
        emit(result.hindcast, [[hindcast_block(result.hindcast)]], fmt)
        for line in hindcast_lines(result.hindcast):
            say(line)
    for name, decision in (getattr(result, "decisions", None) or {}).items():
        from sim.present.decision_text import print_decision

        decision = priced(decision, result.folder)

        say("")
        say(
            f"Policy {name} against {result.scenario}, each run once per posterior particle (its inputs "
            f"and seed: paired, common random numbers) from the start to {result.until:%Y-%m-%d} + "
            f"{result.days:g} days"
        )
        print_decision(decision)


def priced(decision: Any, folder: Path) -> Any:
    """A policy's decision with the twin scenario's exchange rate (money then also in dong, issue 29 row
    17), read from the scenario its folder's manifest names; unchanged when it already has one, or the
    scenario states none or cannot be read (USD only, never a made-up rate)."""
    from dataclasses import replace

    from sim.errors import UserError
    from sim.scenario import load_scenario
    from sim.store.manifest import read_manifest

    if getattr(decision, "vnd_per_usd", None):
        return decision
    try:
        scenario = (read_manifest(Path(folder)) or {}).get("scenario")
        if not isinstance(scenario, str) or not Path(scenario).is_file():
            return decision
        rate = load_scenario(scenario).scenario.exchange_rate
    except UserError:  # a damaged manifest or a changed scenario: the decision in USD only
        return decision
    if rate is None:
        return decision
    return replace(decision, vnd_per_usd=rate.vnd_per_usd, rate_source=rate.source)


def show_assimilate(result: Any, request: Any) -> int:
    """The shows.PRINTERS entry: the tables and sentences, then the figures."""
    from sim.present.plots.assimilate import assimilate_figures

    print_assimilate(result, request.fmt)
    drawn = assimilate_figures(result.folder)
    hint([f"results in {result.folder}", *(f"figure: {w.png}" for w in drawn)])
    return 0
