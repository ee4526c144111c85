"""The decision summary: which policy wins on the objective the planner picked, by how much, how sure we
are, and whether the change is big enough to matter, as a ranking and verdicts (the sentences that say it
are built from these in :mod:`sim.present.decision_text`, the one home of decision wording).

Pure functions of the tidy comparison table (:func:`sim.analysis.compare.comparison`): nothing here runs
or reads anything, so the same decision is printed by ``compare``, shown on the page, written at the top
of the report and tested on a constructed table.

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
from sim.analysis.net_cost import NET_COST_METRICS
from sim.analysis.swing import Swing, swings_of
from sim.errors import UserError
from sim.groups import ALL
from sim.scenario.schema import ExchangeRate

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
    **{m.name: LOWER for m in NET_COST_METRICS},  # the net cost to the province and its parts (issue 29)
}
DEFAULT_OBJECTIVE = "net_cost_usd"  # what a planner means (sim/analysis/net_cost.py), not time at the gate
FALLBACK_OBJECTIVE = "mean_clearance_h"  # where the scenarios price nothing (queueing examples)
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


@dataclass(frozen=True)
class Change:
    """One policy's change of one metric against the base: the paired difference, its 95% interval and
    the verdict (``limit``: the relevance threshold in stored units, 0 without one)."""

    scenario: str
    metric: str
    effect: Effect
    diff: float
    diff_low: float
    diff_high: float
    diff_pct: float
    n_pairs: float
    threshold: Threshold | None = None
    limit: float = 0.0


def change_of(scenario: str, row: Mapping, metric: str, threshold: Threshold | None) -> Change:
    """The change a comparison row records (``row``: the policy's row, with ``base_mean`` when a
    percentage threshold needs the base)."""
    limit = threshold.absolute(metric, float(row.get("base_mean", math.nan))) if threshold else 0.0
    return Change(
        scenario,
        metric,
        classify(row, good_direction(metric), limit),
        *(float(row.get(k, math.nan)) for k in ("diff", "diff_low", "diff_high", "diff_pct", "n_pairs")),
        threshold=threshold,
        limit=limit,
    )


@dataclass(frozen=True)
class Unmodelled:
    """A key metric some scenario does not model: ``everywhere`` when none does."""

    metric: str
    scenarios: tuple[str, ...]
    everywhere: bool


@dataclass
class Decision:
    """The ranking on the objective, each policy's change of it, the clear changes of the other key
    metrics and what is not modelled: numbers and verdicts (the words: :mod:`sim.present.decision_text`)."""

    objective: MetricRef
    good: int
    thresholds: dict[str, Threshold]
    ranking: list[Ranked]
    changes: list[Change] = field(default_factory=list)  # each policy's change of the objective, in order
    trade_offs: list[Change] = field(default_factory=list)  # clear, relevant changes of other key metrics
    not_modelled: list[Unmodelled] = field(default_factory=list)
    replications: int = 0
    swings: list[Swing] = field(default_factory=list)  # each policy over its own assumptions' ranges
    # dong per US dollar from the base scenario's ``exchange_rate`` (money also shown in VND), its source;
    # None: the scenario states no rate, and money shows in USD only
    vnd_per_usd: float | None = None
    rate_source: str = ""

    @property
    def reliable(self) -> bool:
        """Whether the intervals rest on enough replications to be read (see RELIABLE_REPLICATIONS)."""
        return self.replications >= RELIABLE_REPLICATIONS


def _with_base_mean(comp: pd.DataFrame) -> pd.DataFrame:
    keys = ["gate", "direction", "metric"]
    base = comp[comp["role"] == "base"][[*keys, "mean"]].rename(columns={"mean": "base_mean"})
    return comp.merge(base, on=keys, how="left")


def usable_objective(comp: pd.DataFrame, objective: MetricRef = MetricRef(DEFAULT_OBJECTIVE)) -> str:
    """The default objective where the comparison has it modelled, else :data:`FALLBACK_OBJECTIVE`
    (the scenarios price nothing: a net cost of 0 would read as measured)."""
    rows = objective.rows(comp)
    if rows.empty or ("modelled" in rows and not rows["modelled"].any()):
        return FALLBACK_OBJECTIVE
    return objective.metric


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
    swings: pd.DataFrame | None = None,
    rate: ExchangeRate | None = None,
) -> Decision:
    """The decision summary of a comparison table (base first, then policies, as ``comparison`` returns);
    ``swings``: the swing table of ``compare --swing`` (:mod:`sim.analysis.swing`), if it was run;
    ``rate``: the base scenario's ``exchange_rate`` (money is then also shown in dong), if it states one."""
    thresholds = dict(thresholds or {})
    if objective.metric == DEFAULT_OBJECTIVE:  # a model without costs falls back to clearance time
        objective = MetricRef(usable_objective(comp, objective), objective.gate, objective.direction)
    check_objective(comp, objective)
    comp = _with_base_mean(comp.astype({"gate": str, "direction": str}))
    good = good_direction(objective.metric)
    threshold = thresholds.get(objective.metric)
    rows = [r for _, r in objective.rows(comp).iterrows()]
    effects = [
        classify(r, good, threshold.absolute(objective.metric, r["base_mean"]) if threshold else 0.0)
        for r in rows
    ]
    order = sorted(
        range(len(rows)),
        key=lambda k: (
            not math.isfinite(float(rows[k]["mean"])),
            -good * float(rows[k]["mean"]) if good and math.isfinite(float(rows[k]["mean"])) else 0,
            k,
        ),
    )
    ranking = [
        Ranked(
            rank + 1,
            rows[k]["scenario"],
            rows[k]["role"],
            int(rows[k]["n"]) if pd.notna(rows[k]["n"]) else 0,
            float(rows[k]["mean"]),
            float(rows[k]["half_width"]),
            float(rows[k].get("diff", math.nan)) if rows[k]["role"] != "base" else 0.0,
            float(rows[k].get("diff_low", math.nan)),
            float(rows[k].get("diff_high", math.nan)),
            float(rows[k].get("diff_pct", math.nan)),
            effects[k],
        )
        for rank, k in enumerate(order)
    ]
    changes = [change_of(r["scenario"], r, objective.metric, threshold) for r in rows if r["role"] != "base"]
    return Decision(
        objective,
        good,
        thresholds,
        ranking,
        changes,
        _trade_offs(comp, objective, thresholds, key_metrics),
        _not_modelled(comp, objective, key_metrics),
        max((r.n for r in ranking), default=0),
        swings_of(swings, objective, good),
        rate.vnd_per_usd if rate else None,
        rate.source if rate else "",
    )


def _trade_offs(
    comp: pd.DataFrame, objective: MetricRef, thresholds: Mapping[str, Threshold], key_metrics: Sequence[str]
) -> list[Change]:
    """Clear, relevant changes of the other key metrics (the same group as the objective)."""
    out = []
    for metric in key_metrics:
        if metric == objective.metric:
            continue
        ref = MetricRef(metric, objective.gate, objective.direction)
        for _, row in ref.rows(comp).iterrows():
            if row["role"] == "base":
                continue
            change = change_of(row["scenario"], row, metric, thresholds.get(metric))
            if change.effect in (Effect.BETTER, Effect.WORSE, Effect.CHANGED):
                out.append(change)
    return out


def _not_modelled(comp: pd.DataFrame, objective: MetricRef, key_metrics: Sequence[str]) -> list[Unmodelled]:
    """Key metrics some scenario does not model, with the scenarios that do not."""
    if "modelled" not in comp.columns:
        return []
    out = []
    for metric in dict.fromkeys([objective.metric, *key_metrics]):
        rows = MetricRef(metric, objective.gate, objective.direction).rows(comp)
        lacking = rows[~rows["modelled"].astype(bool)]["scenario"].tolist()
        if lacking:
            out.append(Unmodelled(metric, tuple(lacking), len(lacking) == len(rows)))
    return out


def settings(manifest: Mapping) -> tuple[MetricRef, dict[str, Threshold]]:
    """The objective and relevance thresholds a comparison was summarised with (saved in its manifest);
    the defaults for a comparison saved before they existed."""
    saved = manifest.get("decision") or {}
    objective = parse_metric_ref(str(saved.get("objective") or DEFAULT_OBJECTIVE), "decision.objective")
    return objective, parse_min_effect(list(saved.get("min_effect") or []), "decision.min_effect")
