"""The what-if page's words and tiles, built from the comparison as the terminal and the report read it.

The page draws what this module gives it: the tiles of a group's key metrics (each policy's value and
its paired difference, coloured only where the change is clear at the comparison's own relevance
thresholds), the decision on the group shown (the objective and thresholds the comparison was summarised
with, as ``compare`` printed them), and a saved run's headline effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from sim.analysis.decision import (
    Decision,
    Effect,
    MetricRef,
    classify,
    decide,
    good_direction,
    settings,
    usable_objective,
)
from sim.analysis.metrics import metric_info
from sim.errors import UserError
from sim.groups import ALL
from sim.present.decision_text import interval_text, ranking_rows, vnd
from sim.present.page_words import EN, metric_words, verdict_word, where_words, word
from sim.scenario.schema import ExchangeRate

HEADLINE_METRICS = ("mean_clearance_h", "p95_clearance_h", "cleared_per_day", "waiting_cost_usd")
TILE_HELP = word("tile_help")  # the page's words live in the catalogue (English and Vietnamese)
SWING_LABEL = word("swing")
SWING_HELP = word("swing_help")
MONEY = "USD m"  # the printed unit of money (USD; VND beside it where the scenario states a rate)


@dataclass(frozen=True)
class Tile:
    """One metric's tile: its label, the policy's value, the difference below it and its colour
    (Streamlit's ``delta_color``: normal, inverse where less is better, off when not clear)."""

    label: str
    value: str
    delta: str
    colour: str


def tiles(
    comp: pd.DataFrame,
    names: list[str],
    group: tuple[str, str],
    manifest: dict[str, Any] | None = None,
    rate: ExchangeRate | None = None,
    lang: str = EN,
) -> list[tuple[str, list[Tile]]]:
    """Each policy's tiles on the group's key metrics, with the thresholds the comparison was
    summarised with (:func:`sim.analysis.decision.classify`): without them every non-zero difference
    would be painted red or green, noise included. Money also in dong where the base scenario states a
    ``rate`` (never a made-up one); labels in ``lang`` (the page's language)."""
    _, thresholds = settings(manifest or {})
    shown = comp[(comp["gate"].astype(str) == group[0]) & (comp["direction"].astype(str) == group[1])]
    out = []
    for policy in names[1:]:
        row_tiles = []
        for metric in HEADLINE_METRICS:
            rows = shown[(shown["scenario"] == policy) & (shown["metric"] == metric)]
            if rows.empty:
                continue
            r = rows.iloc[0]
            info = metric_info(metric)
            base = shown[(shown["role"] == "base") & (shown["metric"] == metric)]
            base_mean = float(base["mean"].iloc[0]) if len(base) else float("nan")
            limit = thresholds[metric].absolute(metric, base_mean) if metric in thresholds else 0.0
            effect = classify(r.to_dict(), good_direction(metric), limit)
            sign = "+" if r["diff"] > 0 else ""
            dong = _dong(info.unit, r["diff"] / info.scale, rate, signed=True)
            if effect is Effect.CONSTANT or r["diff_half_width"] == 0:
                diff = f"{sign}{info.format(r['diff'])}{dong} in every replication"
            else:
                diff = f"{sign}{info.format(r['diff'])} ± {info.format(r['diff_half_width'])}{dong}"
            pct = f" ({r['diff_pct']:+.1f}%)" if pd.notna(r["diff_pct"]) else ""
            clear = effect in (Effect.BETTER, Effect.WORSE, Effect.CHANGED)
            colour = ("inverse" if good_direction(metric) < 0 else "normal") if clear else "off"
            label, unit = metric_words(metric, info.label, info.unit, lang)
            if lang != EN:
                diff = cell_words(diff)
            row_tiles.append(
                Tile(
                    f"{label} ({unit})",
                    info.format(r["mean"]) + _dong(info.unit, r["mean"] / info.scale, rate),
                    f"{diff}{pct}{' *' if clear else ''}",
                    colour,
                )
            )
        out.append((policy, row_tiles))
    return out


def _dong(unit: str, usd_m: float, rate: ExchangeRate | None, signed: bool = False) -> str:
    """' (VND 73.3 bn)' beside an amount of money in millions of USD at the scenario's rate; '' for
    other units, a missing value or a scenario without a rate."""
    if unit != MONEY or rate is None or not math.isfinite(float(usd_m)):
        return ""
    sign = ("-" if usd_m < 0 else "+") if signed and usd_m != 0 else ""
    return f" ({sign}{vnd(abs(float(usd_m)), rate.vnd_per_usd)})"


def rate_text(vnd_per_usd: float | None, source: str, lang: str = EN) -> str:
    """The rate the page's dong are at, stated once: '... at VND 22,900 per USD, <source>.' ('' without
    a rate: the page then shows USD only, never at a made-up rate)."""
    if not vnd_per_usd:
        return ""
    return word("rate", lang, rate=f"{vnd_per_usd:,.0f}", source=source)


def tile_row_title(policy: str, base: str, lang: str = EN) -> str:
    """The heading of a policy's row of tiles (Markdown): its name, and what it is compared with."""
    return word("tile_row", lang, policy=policy, base=base)


VI_CELLS = (  # the English words inside the decision table's cells, in Vietnamese
    (" to ", " đến "),
    (" bn", " tỷ"),
    ("in every replication", "ở mọi lần lặp"),
    ("(no interval)", "(không có khoảng tin cậy)"),
    ("(base)", "(kịch bản gốc)"),
    ("not modelled", "không được mô hình hóa"),
)


def cell_words(cell: str) -> str:
    """A number's English words (' to ', 'in every replication', 'bn') in Vietnamese."""
    for english, vietnamese in VI_CELLS:
        cell = cell.replace(english, vietnamese)
    return cell


def ranking_table(decision: Decision, lang: str = EN) -> tuple[str, list[str], list[list[str]]]:
    """The decision table as the page shows it: its title, headers and cells (those of
    :func:`sim.present.decision_text.ranking_rows`, the terminal's and the report's), in ``lang``."""
    from sim.present.cells import ref_group
    from sim.present.decision_text import ranking_title

    headers, rows = ranking_rows(decision)
    if lang == EN:
        return ranking_title(decision), headers, rows
    metric = decision.objective.metric
    info = metric_info(metric)
    label, unit = metric_words(metric, info.label, info.unit, lang)
    names = {
        word(k): word(k, lang) for k in ("col_rank", "col_scenario", "col_delta", "col_swing", "col_verdict")
    }
    names[f"{info.label} ({info.unit})"] = f"{label} ({unit})"
    cells = [[*map(cell_words, row[:-1]), verdict_word(row[-1], lang)] for row in rows]
    title = word("ranking", lang, objective=label, where=where_words(ref_group(decision.objective), lang))
    return title, [names.get(h, h) for h in headers], cells


def group_decision(
    comp: pd.DataFrame,
    group: tuple[str, str],
    manifest: dict[str, Any] | None = None,
    swings: pd.DataFrame | None = None,
    rate: ExchangeRate | None = None,
) -> Decision | None:
    """The decision on the group shown: the comparison's own objective metric there, with its own
    relevance thresholds (those ``compare`` printed) and, when it ran with ``--swing``, each policy's
    swing over its own assumptions (``swings``: the folder's swing table); None where the group has no
    values of the objective; ``rate``: the base scenario's exchange rate (money also in dong), if any."""
    objective, thresholds = settings(manifest or {})
    try:
        return decide(comp, MetricRef(objective.metric, *group), thresholds, swings=swings, rate=rate)
    except UserError:
        return None


def decision_group(manifest: dict[str, Any] | None = None) -> tuple[str, str]:
    """The gate and direction the decision is taken on: the comparison's own objective's (the province,
    both directions, for the default net cost to the province, the only row that holds each policy's own
    cost), so the page's decision table is the one ``compare`` printed and the report leads with, whatever
    group the tiles and figures show."""
    objective, _ = settings(manifest or {})
    return (objective.gate or ALL, objective.direction or ALL)


def changed_most(comp: pd.DataFrame, manifest: dict[str, Any] | None = None) -> tuple[str, str] | None:
    """The gate and direction the policies change most on the decision measure the comparison was
    summarised with (the net cost to the province by default; clearance time where nothing is priced):
    the largest paired difference of any policy, in the measure's own units, so that a group is picked
    for what the planner decides on, not for the largest percentage of a metric nobody ranks by. None
    when no policy changes any gate and direction."""
    objective, _ = settings(manifest or {})
    metric = usable_objective(comp, objective)
    rows = comp[
        (comp["role"] == "policy")
        & (comp["metric"] == metric)
        & (comp["gate"].astype(str) != ALL)
        & (comp["direction"].astype(str) != ALL)
    ]
    size = pd.to_numeric(rows["diff"], errors="coerce").abs()
    size = size[size > 0]
    if size.empty:
        return None
    top = rows.loc[size.idxmax()]
    return (str(top["gate"]), str(top["direction"]))


def changed_most_label(comp: pd.DataFrame, manifest: dict[str, Any] | None = None, lang: str = EN) -> str:
    """What the picker adds to the group picked by default: changed most, and on which measure."""
    objective, _ = settings(manifest or {})
    metric = usable_objective(comp, objective)
    info = metric_info(metric)
    return word("changed_most", lang, measure=metric_words(metric, info.label, info.unit, lang)[0])


def headline_effect(comparison: pd.DataFrame, metric: str | None = None) -> str:
    """Each policy's paired difference on the province's objective metric (the default objective, or
    clearance time where the scenarios price nothing), with its 95% interval; with several policies,
    each named ("a: ...; b: ..."), never the first alone."""
    metric = metric or usable_objective(comparison)
    rows = comparison[
        (comparison["role"] == "policy")
        & (comparison["metric"] == metric)
        & (comparison["gate"].astype(str) == ALL)
        & (comparison["direction"].astype(str) == ALL)
    ]
    if rows.empty:
        return "-"
    if len(rows) == 1:
        return _effect_text(rows.iloc[0], metric)
    return "; ".join(f"{r['scenario']}: {_effect_text(r, metric)}" for _, r in rows.iterrows())


def _effect_text(r: pd.Series, metric: str) -> str:
    """One policy's paired difference on ``metric`` with its 95% interval, in words."""
    info = metric_info(metric)
    diff, low, high = float(r["diff"]), float(r["diff_low"]), float(r["diff_high"])
    if not math.isfinite(diff):
        return "-"
    text = f"{info.label} {'+' if diff > 0 else ''}{info.format(diff)} {info.unit}"
    if math.isfinite(low) and math.isfinite(high) and low != high:
        text += f" (95% interval {interval_text(metric, low, high)})"
    elif low == high:
        text += " (the same in every replication)"
    return text


def state_time_note(when: datetime | None, uploaded: bool) -> str:
    """What the forecast panel says about the state's date and time it filled in: taken from the
    uploaded queue's own arrival times, or (a file without them) the scenario's start, to be checked."""
    if when is not None:
        return (
            f"State date and time from the file: {when:%d %b %Y %H:%M}, its latest truck's arrival (to the "
            "next hour). Change them if the queue was taken later."
        )
    if uploaded:
        return (
            "The file gives no arrival dates: the state date and time are the scenario's start. Give the "
            "date and time the queue was taken."
        )
    return ""


def policy_labels(files: list[str]) -> dict[str, str]:
    """Saved policy files as the page's chips show them: the policy's own name (the file's stem,
    ``hold_upstream_jan``), its folder added only where two files share a name; a chip cut to its first
    letters must still say which policy it is, which ``lang_son/policies_...`` does not."""
    from collections import Counter
    from pathlib import PurePosixPath

    paths = {f: PurePosixPath(f) for f in files}
    stems = Counter(p.stem for p in paths.values())
    return {
        f: p.stem if stems[p.stem] == 1 or str(p.parent) == "." else f"{p.stem} ({p.parent})"
        for f, p in paths.items()
    }


def nothing_changed_text(others: list[str], lang: str = EN) -> str:
    """What the Run button's bar says when no lever differs from the base."""
    if not others:
        return word("nothing_changed", lang)
    if len(others) == 1:
        return word("only_saved_one", lang)
    return word("only_saved", lang, n=len(others))
