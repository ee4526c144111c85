"""The decision summary: which policy wins on the objective the planner picked, by how much, how sure we
are, and whether the change is big enough to matter, in a ranking and a few plain sentences.

Pure functions of the tidy comparison table (:func:`sim.analysis.compare.comparison`): nothing here runs
or reads anything, so the same summary is printed by ``compare``, written at the top of the report and
tested on a constructed table.

Two questions are kept apart on purpose:

- *statistical significance*: does the paired 95% interval of the difference exclude 0? With enough
  replications a 0.07 h change is "significant";
- *practical relevance*: is the change at least the smallest effect the planner cares about
  (``--min-effect mean_clearance_h=0.5`` or ``=5%``, per metric, in the unit the tables print)?

A change is called better or worse only when it is both; a change whose whole interval lies inside the
relevance band is "less than the ... you consider relevant"; anything else is "no clear change" with its
interval (more replications would tell). Which way is good is a property of the metric (fewer hours,
more value cleared, fewer spoiled cargoes ...): :data:`GOOD`.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from sim.analysis.metrics import METRICS, metric_info
from sim.errors import UserError
from sim.groups import ALL

LOWER, HIGHER, NEUTRAL = -1, 1, 0
GOOD: dict[str, int] = {
    "arrived": NEUTRAL,
    "cleared": HIGHER,
    "still_inside": LOWER,
    "mean_clearance_h": LOWER,
    "p50_clearance_h": LOWER,
    "p90_clearance_h": LOWER,
    "p95_clearance_h": LOWER,
    "p99_clearance_h": LOWER,
    "mean_wait_h": LOWER,
    "cleared_per_day": HIGHER,
    "cleared_value_usd": HIGHER,
    "peak_backlog": LOWER,
    "spoiled_trucks": LOWER,
    "value_lost_usd": LOWER,
    "waiting_cost_usd": LOWER,
    "peak_waiting": LOWER,
    # the levers before and around the gate (issue 22)
    "held_upstream_peak": LOWER,
    "held_upstream_days": LOWER,
    "total_delay_days": LOWER,
    "upstream_cost_usd": LOWER,
    "total_cost_usd": LOWER,
}
DEFAULT_OBJECTIVE = "mean_clearance_h"
RELIABLE_REPLICATIONS = 5  # fewer: a t-interval on 1-3 degrees of freedom, too wide and too unsure
SUGGESTED_REPLICATIONS = 10
# the metrics a planner reads beside the objective (the forest plot's rows too)
KEY_METRICS = (
    "mean_clearance_h",
    "p95_clearance_h",
    "cleared_value_usd",
    "spoiled_trucks",
    "waiting_cost_usd",
)


def good_direction(metric: str) -> int:
    """-1 when less is better (hours, spoiled cargoes, trucks turned back), +1 when more is, 0 if neither."""
    if metric in GOOD:
        return GOOD[metric]
    return LOWER if metric.startswith("trucks_") else NEUTRAL  # turned back, diverted


def known_metric(metric: str) -> bool:
    """Whether a metric name is one the summaries hold (the fixed metrics or a per-class truck count)."""
    return metric in METRICS or metric.startswith("trucks_")


# --------------------------------------------------------------------------------------------------
# what to look at, and what counts as relevant
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricRef:
    """A metric of one group: ``p95_clearance_h@huu_nghi/export``; the province (all/all) by default."""

    metric: str
    gate: str = ALL
    direction: str = ALL

    def __str__(self) -> str:
        if (self.gate, self.direction) == (ALL, ALL):
            return self.metric
        return f"{self.metric}@{self.gate}/{self.direction}"

    @property
    def label(self) -> str:
        """The metric's name as a reader sees it."""
        return metric_info(self.metric).label

    def where(self) -> str:
        """The group in words: 'all gates, both directions', 'huu_nghi, export'."""
        gate = "all gates" if self.gate == ALL else self.gate
        return f"{gate}, {'both directions' if self.direction == ALL else self.direction}"

    def rows(self, comp: pd.DataFrame) -> pd.DataFrame:
        """This metric's rows of a tidy summary or comparison table."""
        return comp[
            (comp["metric"] == self.metric)
            & (comp["gate"].astype(str) == self.gate)
            & (comp["direction"].astype(str) == self.direction)
        ]


def parse_metric_ref(text: str, option: str) -> MetricRef:
    """``METRIC[@GATE[/DIRECTION]]``, e.g. ``p95_clearance_h@huu_nghi/export``; a UserError otherwise."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s*(?:@\s*([A-Za-z0-9_]+)\s*(?:/\s*([A-Za-z_]+)\s*)?)?", text)
    if not match:
        raise UserError.single(
            None, option, f"'{text}' is not METRIC[@GATE[/DIRECTION]], e.g. p95_clearance_h@huu_nghi/export"
        )
    metric, gate, direction = match.group(1), match.group(2) or ALL, match.group(3) or ALL
    if not known_metric(metric):
        raise UserError.single(
            None, option, f"unknown metric '{metric}'; choose from {', '.join(METRICS)} or trucks_<status>"
        )
    if direction not in (ALL, "export", "import"):
        raise UserError.single(None, option, f"direction must be export, import or all (got '{direction}')")
    return MetricRef(metric, gate, direction)


@dataclass(frozen=True)
class Threshold:
    """The smallest change of a metric that matters to the planner: absolute (in the printed unit) or a
    percentage of the base."""

    value: float
    percent: bool = False

    def absolute(self, metric: str, base_mean: float) -> float:
        """The threshold in the metric's stored unit (hours, trucks, USD) for a base of ``base_mean``."""
        if self.percent:
            return abs(base_mean) * self.value / 100 if math.isfinite(base_mean) else math.nan
        return self.value * metric_info(metric).scale

    def text(self, metric: str) -> str:
        """The threshold in the metric's printed unit, or as a percentage of the base."""
        return f"{self.value:g}%" if self.percent else amount(metric, self.value * metric_info(metric).scale)


def parse_min_effect(specs: Sequence[str], option: str = "--min-effect") -> dict[str, Threshold]:
    """``METRIC=VALUE`` or ``METRIC=VALUE%`` (repeatable): the practical-relevance threshold per metric."""
    out: dict[str, Threshold] = {}
    for spec in specs:
        metric, sep, value = (part.strip() for part in spec.partition("="))
        if not sep or not metric or not value:
            raise UserError.single(
                None, option, f"'{spec}' is not METRIC=VALUE or METRIC=VALUE%, e.g. mean_clearance_h=0.5"
            )
        if not known_metric(metric):
            raise UserError.single(None, option, f"unknown metric '{metric}' in '{spec}'")
        percent = value.endswith("%")
        try:
            number = float(value.removesuffix("%"))
        except ValueError:
            raise UserError.single(None, option, f"'{value}' is not a number (in '{spec}')") from None
        if not math.isfinite(number) or number < 0:
            raise UserError.single(None, option, f"the threshold must be a number >= 0 (got '{spec}')")
        out[metric] = Threshold(number, percent)
    return out


# --------------------------------------------------------------------------------------------------
# verdicts
# --------------------------------------------------------------------------------------------------
class Effect(enum.Enum):
    """What a policy's paired difference from the base says, significance and relevance together."""

    BETTER = "better"  # interval excludes 0, the change is at least the relevance threshold, good way
    WORSE = "worse"  # the same, bad way
    CHANGED = "changed"  # significant and relevant, for a metric with no good direction
    NEGLIGIBLE = "negligible"  # the whole interval lies inside the relevance band
    SMALL = "small"  # significant, but the estimate is below the relevance threshold
    UNCLEAR = "unclear"  # the interval includes 0 and reaches beyond the relevance band
    SAME = "same"  # identical in every replication
    CONSTANT = "constant"  # the same non-zero change in every replication: no spread, so no interval
    NO_INTERVAL = "no interval"  # fewer than two pairs
    NOT_MODELLED = "not modelled"
    BASE = "base"


def classify(row: Mapping, good: int, threshold: float) -> Effect:
    """The verdict on one comparison row of a policy (``threshold`` in stored units; 0 for none)."""
    if not _modelled(row):
        return Effect.NOT_MODELLED
    if row.get("role") == "base":
        return Effect.BASE
    d, low, high = (float(row.get(k, math.nan)) for k in ("diff", "diff_low", "diff_high"))
    if not math.isfinite(d):
        return (
            Effect.NOT_MODELLED if not math.isfinite(float(row.get("mean", math.nan))) else Effect.NO_INTERVAL
        )
    if not (math.isfinite(low) and math.isfinite(high)):
        return Effect.NO_INTERVAL
    if d == 0 and low == high == 0:
        return Effect.SAME
    if low == high:  # a zero-width interval is no evidence: the replications did not vary at all
        return Effect.CONSTANT
    threshold = threshold if math.isfinite(threshold) else 0.0
    if threshold > 0 and -threshold < low and high < threshold:
        return Effect.NEGLIGIBLE
    if low > 0 or high < 0:
        if abs(d) < threshold:
            return Effect.SMALL
        if good == NEUTRAL:
            return Effect.CHANGED
        return Effect.BETTER if d * good > 0 else Effect.WORSE
    return Effect.UNCLEAR


def _modelled(row: Mapping) -> bool:
    value = row.get("modelled", True)
    return True if pd.isna(value) else bool(value)


# --------------------------------------------------------------------------------------------------
# words
# --------------------------------------------------------------------------------------------------
def amount(metric: str, value: float, signed: bool = False) -> str:
    """A value in the metric's printed unit: '5.40 h', 'USD 3.20 m', '12 trucks'."""
    info = metric_info(metric)
    number = info.format(value)
    if signed and value > 0:
        number = "+" + number
    if info.unit == "USD m":
        sign = "-" if number.startswith("-") else ("+" if number.startswith("+") else "")
        return f"{sign}USD {number.lstrip('+-')} m"
    return f"{number} {info.unit}".strip()


def _pct(pct: float) -> str:
    if not math.isfinite(pct):
        return ""
    return f"{pct:+.0f}%" if abs(pct) >= 10 else f"{pct:+.1f}%"


def interval_text(metric: str, low: float, high: float) -> str:
    """A 95% interval in words, in the metric's printed unit: '-9.28 to -3.57 h'."""
    info = metric_info(metric)
    unit = amount(metric, 0.0).replace(info.format(0.0), "").strip()
    if info.unit == "USD m":
        return f"USD {info.format(low)} to {info.format(high)} m"
    return f"{info.format(low)} to {info.format(high)} {unit}".strip()


def effect_sentence(name: str, row: Mapping, metric: str, threshold: Threshold | None) -> str:
    """One sentence on a policy's change of ``metric`` (row: its comparison row)."""
    label = metric_info(metric).label
    good = good_direction(metric)
    base_mean = float(row.get("base_mean", math.nan))
    limit = threshold.absolute(metric, base_mean) if threshold else 0.0
    effect = classify(row, good, limit)
    d = float(row.get("diff", math.nan))
    low, high = float(row.get("diff_low", math.nan)), float(row.get("diff_high", math.nan))
    pct = _pct(float(row.get("diff_pct", math.nan)))
    relevant = f"the {threshold.text(metric)} you consider relevant" if threshold else ""
    ci = f"95% interval {interval_text(metric, low, high)}"
    if effect is Effect.NOT_MODELLED:
        return f"{name}: {label} is not modelled."
    if effect is Effect.SAME:
        return f"{name} leaves {label} exactly as it is in every replication."
    if effect is Effect.NO_INTERVAL:
        by = amount(metric, d, signed=True)
        return f"{name} changes {label} by {by} ({pct}); one replication: no interval."
    if effect is Effect.CONSTANT:
        by = amount(metric, d, signed=True)
        n = row.get("n_pairs", math.nan)
        every = f"each of the {int(n)} replications" if pd.notna(n) else "every replication"
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
    text = f"{name} {verb} {label} by {amount(metric, abs(d))} ({', '.join(filter(None, [pct, ci]))})"
    if effect is Effect.SMALL:
        return text + f": real, but less than {relevant}."
    if threshold and min(abs(low), abs(high)) < limit:
        text += f"; the interval reaches below {relevant}"
    return text + (": worse." if effect is Effect.WORSE else ".")


# --------------------------------------------------------------------------------------------------
# the summary
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ranked:
    """One scenario's place on the objective."""

    rank: int
    scenario: str
    role: str
    n: int
    mean: float
    half_width: float
    diff: float
    diff_low: float
    diff_high: float
    diff_pct: float
    effect: Effect


@dataclass
class Decision:
    """The ranking on the objective and the sentences that say what it means."""

    objective: MetricRef
    good: int
    thresholds: dict[str, Threshold]
    ranking: list[Ranked]
    sentences: list[str]
    not_modelled: list[str] = field(default_factory=list)  # labels of key metrics no scenario models
    replications: int = 0

    @property
    def headline(self) -> str:
        """The first sentence: what the best policy does to the objective, and how sure that is."""
        return self.sentences[0] if self.sentences else ""


def _with_base_mean(comp: pd.DataFrame) -> pd.DataFrame:
    keys = ["gate", "direction", "metric"]
    base = comp[comp["role"] == "base"][[*keys, "mean"]].rename(columns={"mean": "base_mean"})
    return comp.merge(base, on=keys, how="left")


def check_objective(comp: pd.DataFrame, objective: MetricRef, option: str = "--objective") -> None:
    """A UserError when the comparison has no row for the objective (unknown group or metric)."""
    if objective.rows(comp).empty:
        groups = sorted({f"{g}/{d}" for g, d in zip(comp["gate"], comp["direction"], strict=True)})
        raise UserError.single(
            None, option, f"the results have no '{objective}'; groups are {', '.join(groups)}"
        )


def decide(
    comp: pd.DataFrame,
    objective: MetricRef = MetricRef(DEFAULT_OBJECTIVE),
    thresholds: Mapping[str, Threshold] | None = None,
    key_metrics: Sequence[str] = KEY_METRICS,
) -> Decision:
    """The decision summary of a comparison table (base first, then policies, as ``comparison`` returns)."""
    thresholds = dict(thresholds or {})
    check_objective(comp, objective)
    comp = _with_base_mean(comp.astype({"gate": str, "direction": str}))
    good = good_direction(objective.metric)
    rows = objective.rows(comp)
    limit_for = {
        r["scenario"]: (
            thresholds[objective.metric].absolute(objective.metric, r["base_mean"])
            if objective.metric in thresholds
            else 0.0
        )
        for _, r in rows.iterrows()
    }
    entries = [
        (r["scenario"], r["role"], r, classify(r, good, limit_for[r["scenario"]])) for _, r in rows.iterrows()
    ]
    order = sorted(
        range(len(entries)),
        key=lambda k: (
            not math.isfinite(float(entries[k][2]["mean"])),
            -good * float(entries[k][2]["mean"])
            if good and math.isfinite(float(entries[k][2]["mean"]))
            else 0,
            k,
        ),
    )
    ranking = [
        Ranked(
            rank + 1,
            entries[k][0],
            entries[k][1],
            int(entries[k][2]["n"]) if pd.notna(entries[k][2]["n"]) else 0,
            float(entries[k][2]["mean"]),
            float(entries[k][2]["half_width"]),
            float(entries[k][2].get("diff", math.nan)) if entries[k][1] != "base" else 0.0,
            float(entries[k][2].get("diff_low", math.nan)),
            float(entries[k][2].get("diff_high", math.nan)),
            float(entries[k][2].get("diff_pct", math.nan)),
            entries[k][3],
        )
        for rank, k in enumerate(order)
    ]
    replications = max((r.n for r in ranking), default=0)
    sentences = [_headline(ranking, objective, thresholds.get(objective.metric))]
    for name, role, row, _ in entries:
        if role != "base":
            sentences.append(effect_sentence(name, row, objective.metric, thresholds.get(objective.metric)))
    sentences += _trade_offs(comp, objective, thresholds, key_metrics)
    absent = _not_modelled(comp, objective, key_metrics)
    if absent:
        sentences.append(f"Not modelled in these scenarios: {', '.join(absent)}.")
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
    return Decision(objective, good, thresholds, ranking, sentences, absent, replications)


def _headline(ranking: list[Ranked], objective: MetricRef, threshold: Threshold | None) -> str:
    info = metric_info(objective.metric)
    what = f"{info.label} ({objective.where()})"
    if not ranking or not math.isfinite(ranking[0].mean):
        return f"No scenario has a value of {what}."
    if ranking[0].effect is Effect.NOT_MODELLED:
        return f"{what} is not modelled by these scenarios."
    if good_direction(objective.metric) == NEUTRAL:
        return f"Ranked on {what} (neither more nor less is better by itself)."
    base = next((r for r in ranking if r.role == "base"), None)
    winners = [r for r in ranking if r.effect is Effect.BETTER]
    if winners:
        best = winners[0]
        shown = f"{amount(objective.metric, best.mean)}"
        if math.isfinite(best.half_width):
            shown += f" ± {info.format(best.half_width)}"
        against = f" against {amount(objective.metric, base.mean)} for {base.scenario}" if base else ""
        return f"Best on {what}: {best.scenario}, {shown}{against}."
    bar = (
        f"by at least the {threshold.text(objective.metric)} you consider relevant"
        if threshold
        else "clearly"
    )
    name = base.scenario if base else "the base"
    return (
        f"No policy improves {what} {bar} on {name} ({amount(objective.metric, base.mean) if base else '-'})."
    )


def _trade_offs(
    comp: pd.DataFrame, objective: MetricRef, thresholds: Mapping[str, Threshold], key_metrics: Sequence[str]
) -> list[str]:
    """Clear, relevant changes of the other key metrics (the same group as the objective)."""
    out = []
    for metric in key_metrics:
        if metric == objective.metric:
            continue
        ref = MetricRef(metric, objective.gate, objective.direction)
        for _, row in ref.rows(comp).iterrows():
            if row["role"] == "base":
                continue
            threshold = thresholds.get(metric)
            limit = threshold.absolute(metric, row["base_mean"]) if threshold else 0.0
            if classify(row, good_direction(metric), limit) in (Effect.BETTER, Effect.WORSE, Effect.CHANGED):
                out.append("Also: " + effect_sentence(row["scenario"], row, metric, threshold))
    return out


def _not_modelled(comp: pd.DataFrame, objective: MetricRef, key_metrics: Sequence[str]) -> list[str]:
    """Key metrics some scenario does not model: 'spoiled' (none models it) or 'spoiled (in base)'."""
    if "modelled" not in comp.columns:
        return []
    out = []
    for metric in dict.fromkeys([objective.metric, *key_metrics]):
        rows = MetricRef(metric, objective.gate, objective.direction).rows(comp)
        lacking = rows[~rows["modelled"].astype(bool)]["scenario"].tolist()
        if lacking:
            label = metric_info(metric).label
            out.append(label if len(lacking) == len(rows) else f"{label} (in {', '.join(lacking)})")
    return out


def ranking_rows(decision: Decision) -> tuple[list[str], list[list[str]]]:
    """The ranking as table cells: rank, scenario, objective ± half-width, difference from the base with
    its 95% interval, verdict."""
    metric = decision.objective.metric
    info = metric_info(metric)
    headers = ["rank", "scenario", f"{info.label} ({info.unit})", "Δ vs base (95% interval)", "verdict"]
    rows = []
    for r in decision.ranking:
        if r.effect is Effect.NOT_MODELLED:
            value = delta = "not modelled"
        else:
            value = info.format(r.mean) + (
                f" ± {info.format(r.half_width)}" if math.isfinite(r.half_width) else ""
            )
            if r.role == "base":
                delta = "(base)"
            elif r.effect is Effect.CONSTANT:
                delta = f"{amount(metric, r.diff, signed=True)} in every replication"
            elif math.isfinite(r.diff_low) and math.isfinite(r.diff_high):
                ci = interval_text(metric, r.diff_low, r.diff_high)
                delta = f"{amount(metric, r.diff, signed=True)} ({ci})"
            else:
                delta = (
                    f"{amount(metric, r.diff, signed=True)} (no interval)" if math.isfinite(r.diff) else "-"
                )
        rows.append([str(r.rank), r.scenario, value, delta, VERDICT_WORDS[r.effect]])
    return headers, rows


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


def as_markdown(decision: Decision) -> str:
    """The decision summary as Markdown: the sentences, then the ranking table."""
    headers, rows = ranking_rows(decision)
    lines = ["# Decision summary", "", *(f"- {s}" for s in decision.sentences), ""]
    lines.append(f"Ranking on {decision.objective.label} ({decision.objective.where()}), best first:")
    lines.append("")
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join(["---"] * len(headers)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def settings(manifest: Mapping) -> tuple[MetricRef, dict[str, Threshold]]:
    """The objective and relevance thresholds a comparison was summarised with (saved in its manifest);
    the defaults for a comparison saved before they existed."""
    saved = manifest.get("decision") or {}
    objective = parse_metric_ref(str(saved.get("objective") or DEFAULT_OBJECTIVE), "decision.objective")
    return objective, parse_min_effect(list(saved.get("min_effect") or []), "decision.min_effect")
