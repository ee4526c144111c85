"""Per-replication metrics: the numbers planners compare, as one tidy row per group and metric.

One replication gives one value of each metric for each group: every gate and direction the scenario
has, each gate over both directions (``direction == "all"``), each direction over all gates
(``gate == "all"``) and the whole province (``all``/``all``). Confidence intervals come later, across
replications (:mod:`sim.analysis.stats`); here a replication is one observation.

Warm-up deletion: truck-based statistics use only trucks that arrived at or after ``run.warmup``;
sampled series use only samples taken at or after it. Throughput is a rate over the observed window
[warm-up, horizon], so it counts the clearances that happen in that window (whenever the truck arrived):
counting only trucks that arrived after the warm-up would leave out the trucks already in the system when
observation starts and understate the rate.

Columns the engine may or may not record (spoilage, waiting cost, statuses beyond cleared/inside) give
metrics when present and are skipped when absent, so this module reads the records of any engine version.
The row set of a scenario is the same in every replication (a group with no trucks gets zero counts and
NaN statistics), so replications pair up one to one.

"Not modelled": a scenario without perishable cargo cannot spoil any, one without a waiting cost has none,
one without reneging turns no truck back, one without a finite yard has no backlog outside. Their counts
are 0 in every replication, which printed as ``0 ± 0`` would read as "none happened". The per-replication
values stay as recorded (0 is the count); across replications :func:`flag_modelled` sets them to NaN and
``modelled`` to False, so summaries, comparisons and reports say "not modelled" instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.backlog import HELD, FlowChanges, peak, peaks_by_group
from sim.analysis.metric_spec import Metric as Metric
from sim.analysis.net_cost import NET_COST_METRICS, net_cost_metrics, net_cost_not_modelled
from sim.analysis.stats import BY, CONFIDENCE, summarize
from sim.groups import ALL
from sim.model.records import Tables
from sim.scenario.rail_route import all_gates
from sim.scenario.schema import DIRECTIONS, Scenario

KEYS = ["gate", "direction"]
QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
KNOWN_STATUSES = ("cleared", "inside")


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("arrived", "arrived", "trucks", 0),
        Metric("cleared", "cleared", "trucks", 0),
        Metric("still_inside", "still inside at the end", "trucks", 0),
        Metric("trucks_cancelled", "cancelled upstream", "trucks", 0),  # statuses of upstream holding
        Metric("trucks_held_upstream", "still held upstream at the end", "trucks", 0),
        Metric("mean_clearance_h", "mean clearance time", "h", 2),
        Metric("p50_clearance_h", "median clearance time", "h", 2),
        Metric("p90_clearance_h", "p90 clearance time", "h", 2),
        Metric("p95_clearance_h", "p95 clearance time", "h", 2),
        Metric("p99_clearance_h", "p99 clearance time", "h", 2),
        Metric("mean_wait_h", "mean waiting time", "h", 2),
        Metric("cleared_per_day", "cleared per day", "trucks/day", 1),
        Metric("cleared_value_usd", "cleared value", "USD m", 2, 1e6),
        Metric("peak_backlog", "peak backlog outside", "trucks", 0),
        Metric("peak_waiting", "peak trucks waiting", "trucks", 0),
        Metric("spoiled_trucks", "spoiled", "trucks", 0),
        Metric("value_lost_usd", "value lost to spoilage", "USD m", 3, 1e6),
        Metric("waiting_cost_usd", "waiting cost", "USD m", 3, 1e6),
        # the levers before and around the gate (issue 22): :func:`lever_metrics`
        Metric("held_upstream_peak", "peak held upstream", "trucks", 0),
        Metric("held_upstream_days", "held upstream", "truck-days", 0),
        Metric("total_delay_days", "total delay (upstream + border)", "truck-days", 0),
        Metric("upstream_cost_usd", "cost of holding upstream", "USD m", 3, 1e6),
        Metric("total_cost_usd", "total cost (waiting + upstream + spoiled)", "USD m", 3, 1e6),
        *NET_COST_METRICS,  # the net cost to the province and its parts (issue 29)
    ]
}
LEVER_METRICS = (
    "held_upstream_peak",
    "held_upstream_days",
    "total_delay_days",
    "upstream_cost_usd",
    "total_cost_usd",
)


def metric_info(name: str) -> Metric:
    """The description of a metric, including the per-status counts (``trucks_<status>``) made on the fly."""
    if name in METRICS:
        return METRICS[name]
    if name.startswith("trucks_"):
        status = name.removeprefix("trucks_").replace("_", " ")
        return Metric(name, status, "trucks", 0)
    return Metric(name, name.replace("_", " "), "", 2)


def is_count(name: str) -> bool:
    """Whether a metric is a count of trucks in a replication (arrived, crossed, turned back, a peak of
    trucks waiting...): its interval over replications is the count interval, never below 0
    (:func:`sim.analysis.stats.count_interval`). Truck-days, trucks per day, hours and USD are not."""
    return metric_info(name).unit == "trucks"


def count_metrics(per_rep: pd.DataFrame) -> set[str]:
    """The metrics of a tidy table that are counts of trucks (:func:`is_count`)."""
    return (
        {str(m) for m in pd.unique(per_rep["metric"]) if is_count(str(m))} if "metric" in per_rep else set()
    )


def summarize_metrics(
    per_rep: pd.DataFrame, by: Sequence[str] = BY, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """:func:`sim.analysis.stats.summarize` of metrics, with the count interval for counts of trucks."""
    return summarize(per_rep, by=by, confidence=confidence, counts=count_metrics(per_rep))


def not_modelled(scenario: Scenario) -> set[str]:
    """Metrics ``scenario`` cannot produce: the rules behind them are absent from it (see the docstring)."""
    classes = scenario.truck_classes.values()
    flows = [f for gate in scenario.gates.values() for f in (gate.export, gate.import_) if f is not None]
    out: set[str] = set()
    if not any(c.perishable is not None for c in classes):
        out |= {"spoiled_trucks", "value_lost_usd"}
    if not any(c.waiting_cost_usd_per_day > 0 for c in classes):
        out.add("waiting_cost_usd")
    if not any(f.reneging is not None for f in flows):
        out |= {"trucks_turned_back", "trucks_diverted"}
    elif not any(f.reneging.divert_to and f.reneging.divert_share > 0 for f in flows if f.reneging):
        out.add("trucks_diverted")
    if all(
        gate.yard_for(d).capacity is None for gate in scenario.gates.values() for d in ("export", "import")
    ):
        out.add("peak_backlog")
    upstream = [f.upstream for f in flows if f.upstream is not None]
    if not upstream:
        out |= {"held_upstream_peak", "held_upstream_days", "upstream_cost_usd", "trucks_held_upstream"}
    if not any(u.cancel_after_h is not None for u in upstream):
        out.add("trucks_cancelled")
    if not any(
        u.cost_usd_per_day > 0 or any(v > 0 for v in u.cost_usd_per_day_by_class.values()) for u in upstream
    ):
        out.add("upstream_cost_usd")  # holding with no cost set: a cost of 0 would read as measured
    if {"waiting_cost_usd", "value_lost_usd", "upstream_cost_usd"} <= out:
        out.add("total_cost_usd")  # a total of parts none of which is modelled is not 0, it is unknown
    return out | net_cost_not_modelled(scenario, out)


NO_VALUE_COLUMNS = (
    "mean",
    "sd",
    "half_width",
    "ci_low",
    "ci_high",
    "diff",
    "diff_sd",
    "diff_half_width",
    "diff_low",
    "diff_high",
    "diff_pct",
    "unpaired_half_width",
)


def flag_modelled(table: pd.DataFrame, unmodelled: set[str]) -> pd.DataFrame:
    """A summary or comparison table with a ``modelled`` column; the statistics of the metrics in
    ``unmodelled`` become NaN (no value), so nothing prints them as zero."""
    out = table.copy()
    out["modelled"] = ~out["metric"].isin(sorted(unmodelled))
    cols = [c for c in NO_VALUE_COLUMNS if c in out.columns]
    out.loc[~out["modelled"], cols] = np.nan
    if "significant" in out.columns:
        out["significant"] = out["significant"].astype("boolean")
        out.loc[~out["modelled"], "significant"] = pd.NA
    return out


def summary_of(per_rep: pd.DataFrame, scenario: Scenario, by: list[str] | None = None) -> pd.DataFrame:
    """Mean and interval of every metric over replications (the count interval for counts of trucks, the
    t-interval for the others), with the ``modelled`` flag of ``scenario``."""
    return flag_modelled(summarize_metrics(per_rep, by=by or list(BY)), not_modelled(scenario))


def groups(scenario: Scenario) -> list[tuple[str, str]]:
    """Every (gate, direction) row a replication of ``scenario`` reports, in display order."""
    gates = all_gates(scenario)  # the road gates and the rail route, if any
    flows = [(g, d) for g, gate in gates.items() for d in DIRECTIONS if gate.flow(d) is not None]
    gates = list(dict.fromkeys(g for g, _ in flows))
    directions = [d for d in DIRECTIONS if any(fd == d for _, fd in flows)]
    out = []
    for g in gates:
        out += [(g, d) for gg, d in flows if gg == g]
        out.append((g, ALL))
    out += [(ALL, d) for d in directions]
    out.append((ALL, ALL))
    return out


def _tidy(wide: pd.DataFrame) -> pd.DataFrame:
    """A wide table (a row per gate and direction, a column per metric) as tidy rows, row by row, with every
    cell kept, a missing value (no cleared truck to take a mean of) as NaN.

    Written out rather than with ``DataFrame.stack``, whose default dropped NaN cells up to pandas 2 and
    keeps them from pandas 3: the same run gave other metric rows on another pandas."""
    n_rows, n_metrics = wide.shape
    return pd.DataFrame(
        {
            key: np.repeat(wide.index.get_level_values(key).astype(object).to_numpy(), n_metrics)
            for key in KEYS
        }
        | {
            "metric": np.tile(np.asarray(wide.columns, dtype=object), n_rows),
            "value": wide.to_numpy(dtype=float).ravel(),
        }
    )


def _expand(df: pd.DataFrame) -> pd.DataFrame:
    """Each row four times: as itself, over both directions, over all gates and over everything."""
    df = df.astype({"gate": str, "direction": str})
    return pd.concat(
        [df, df.assign(direction=ALL), df.assign(gate=ALL), df.assign(gate=ALL, direction=ALL)],
        ignore_index=True,
    )


def _waiting_hours(tables: Tables, unit_hours: float) -> pd.Series:
    """Hours each truck spent not being served (queues, closed hours, the yard), from whatever is recorded."""
    trucks = tables.trucks
    if "waiting_h" in trucks:
        return trucks["waiting_h"]
    service = (tables.stages["end"] - tables.stages["start"]).groupby(tables.stages["truck"]).sum()
    served = trucks["truck"].map(service).fillna(0.0).to_numpy()
    return pd.Series((trucks["clearance_time"].to_numpy() - served) * unit_hours, index=trucks.index)


def _truck_metrics(tables: Tables, scenario: Scenario) -> pd.DataFrame:
    run = scenario.run
    trucks = tables.trucks
    is_cleared = (trucks["status"] == "cleared").to_numpy()
    per_truck = pd.DataFrame(
        {
            "gate": trucks["gate"],
            "direction": trucks["direction"],
            "arrival": _ready(trucks, run.unit_hours),
            # a diverted truck has a row at each gate it reached: it arrived at both, in the province once
            "first_row": (trucks["diverted_from"] < 0).to_numpy() if "diverted_from" in trucks else True,
            "cleared": is_cleared,
            "still_inside": (trucks["status"] == "inside").to_numpy(),
            "clearance_h": np.where(is_cleared, trucks["clearance_time"] * run.unit_hours, np.nan),
            "wait_h": np.where(is_cleared, _waiting_hours(tables, run.unit_hours), np.nan),
        }
    )
    status = trucks["status"]
    statuses = status.cat.categories if isinstance(status.dtype, pd.CategoricalDtype) else status.unique()
    extra_statuses = [str(s) for s in statuses if s not in KNOWN_STATUSES]
    for s in extra_statuses:
        per_truck[f"trucks_{s}"] = (trucks["status"] == s).to_numpy()
    optional = {
        "spoiled": "spoiled_trucks",
        "value_lost_usd": "value_lost_usd",
        "waiting_cost_usd": "waiting_cost_usd",
    }
    for column, metric in optional.items():
        if column in trucks:
            per_truck[metric] = trucks[column].astype(float).to_numpy()
    per_truck["reached"] = trucks["arrival"].notna().to_numpy()  # False: held upstream or cancelled there
    # without a warm-up every truck that reached a gate counts, the starting state's too (they arrived
    # before time 0); shipments held or cancelled upstream have no arrival at a gate
    arrival = per_truck["arrival"]
    kept = per_truck[arrival.notna()] if run.warmup <= 0 else per_truck[arrival >= run.warmup]
    observed = _expand(kept.drop(columns="arrival"))
    observed["arrived"] = ((observed["gate"] != ALL) | observed["first_row"]) & observed["reached"]
    g = observed.groupby(KEYS, sort=False)
    out = pd.DataFrame(
        {
            "arrived": g["arrived"].sum(),
            "cleared": g["cleared"].sum(),
            "still_inside": g["still_inside"].sum(),
            "mean_clearance_h": g["clearance_h"].mean(),
            **{f"{q}_clearance_h": g["clearance_h"].quantile(p) for q, p in QUANTILES.items()},
            "mean_wait_h": g["wait_h"].mean(),
        }
    )
    for s in extra_statuses:
        out[f"trucks_{s}"] = g[f"trucks_{s}"].sum()
    for metric in optional.values():
        if metric in observed:
            out[metric] = g[metric].sum()
    return out


def _ready(trucks: pd.DataFrame, unit_hours: float) -> pd.Series:
    """When each truck was ready to leave its origin: its arrival, less the time it was held upstream
    (a row that never reached a gate keeps that time as ``origin_arrival``)."""
    if "held_upstream_h" not in trucks:
        return trucks["arrival"]
    released = trucks["origin_arrival"] - trucks["held_upstream_h"] / unit_hours
    return released.where(trucks["arrival"].notna(), trucks["origin_arrival"])


def lever_metrics(tables: Tables, scenario: Scenario) -> pd.DataFrame:
    """The metrics of the levers before and around the gate, for every scenario (tidy, as
    :func:`replication_metrics`): the peak of trucks held upstream and their truck-days, the total delay
    (held upstream plus waiting at a gate or the rail station) and the cost by where it fell (waiting at
    the border is ``waiting_cost_usd``, holding ``upstream_cost_usd``, spoiled cargo ``value_lost_usd``)
    and its total. A scenario without upstream holding has zero held (flagged "not modelled")."""
    run = scenario.run
    trucks = tables.trucks
    zeros = np.zeros(len(trucks))
    held_h = trucks["held_upstream_h"].to_numpy() if "held_upstream_h" in trucks else zeros
    upstream_cost = trucks["upstream_cost_usd"].to_numpy() if "upstream_cost_usd" in trucks else zeros
    waiting_h = np.nan_to_num(_waiting_hours(tables, run.unit_hours).to_numpy(dtype=float))
    border_cost = trucks["waiting_cost_usd"].to_numpy() if "waiting_cost_usd" in trucks else zeros
    lost = trucks["value_lost_usd"].to_numpy() if "value_lost_usd" in trucks else zeros
    per_truck = pd.DataFrame(
        {
            "gate": trucks["gate"],
            "direction": trucks["direction"],
            "held_upstream_days": held_h / 24.0,
            "total_delay_days": (held_h + waiting_h) / 24.0,
            "upstream_cost_usd": upstream_cost,
            "total_cost_usd": np.nan_to_num(border_cost) + upstream_cost + np.nan_to_num(lost),
        }
    )
    observed = _expand(per_truck[(_ready(trucks, run.unit_hours) >= run.warmup).to_numpy()])
    wide = observed.groupby(KEYS, sort=False).sum()
    wide["held_upstream_peak"] = 0.0
    if HELD in tables.backlog_series:
        changes = FlowChanges.of(tables.backlog_series.reset_index(drop=True))
        for gate, direction in groups(scenario):
            wide.loc[(gate, direction), "held_upstream_peak"] = peak(
                changes.steps(gate, direction), HELD, run.warmup
            )
    wide = wide.reindex(pd.MultiIndex.from_tuples(groups(scenario), names=KEYS)).fillna(0.0)
    wide = wide[list(LEVER_METRICS)].astype(float)
    return _tidy(wide)


def all_metrics(tables: Tables, scenario: Scenario) -> pd.DataFrame:
    """What a run records per replication: :func:`replication_metrics`, :func:`lever_metrics` and the
    net cost to the province (:mod:`sim.analysis.net_cost`), in that order.

    The golden fingerprints (tests/golden) pin :func:`replication_metrics`; the lever metrics are sums of
    the same records, checked against an independent computation in tests/test_levers.py."""
    core = replication_metrics(tables, scenario)
    net = net_cost_metrics(
        tables.trucks, scenario, groups(scenario), _ready(tables.trucks, scenario.run.unit_hours)
    )
    return pd.concat([core, lever_metrics(tables, scenario), net], ignore_index=True)


def _throughput(tables: Tables, scenario: Scenario) -> pd.DataFrame:
    run = scenario.run
    trucks = tables.trucks
    window = (trucks["cleared"] >= run.warmup) & (trucks["cleared"] <= run.horizon)
    days = (run.horizon - run.warmup) * run.unit_hours / 24.0
    done = _expand(trucks.loc[window, ["gate", "direction", "value_usd"]])
    g = done.groupby(KEYS, sort=False)
    return pd.DataFrame({"cleared_per_day": g.size() / days, "cleared_value_usd": g["value_usd"].sum()})


def _peak_backlog(tables: Tables, scenario: Scenario) -> pd.DataFrame:
    """Exact peaks (sim/analysis/backlog.py) of the queue outside the yard and of the trucks waiting at
    the gate (arrived, not yet crossed or gone), per gate and direction, per gate, per direction and for
    the province at its worst moment."""
    return peaks_by_group(tables.backlog_series, groups(scenario), scenario.run.warmup)


def replication_metrics(tables: Tables, scenario: Scenario) -> pd.DataFrame:
    """Tidy metrics of one replication: columns gate, direction, metric, value (floats)."""
    wide = _truck_metrics(tables, scenario)
    wide = wide.join(_throughput(tables, scenario), how="outer").join(_peak_backlog(tables, scenario))
    wide = wide.reindex(pd.MultiIndex.from_tuples(groups(scenario), names=KEYS))
    counts = [c for c in wide.columns if not c.endswith("_h") and not c.startswith("peak_")]
    wide[counts] = wide[counts].fillna(0.0)
    known = [m for m in METRICS if m in wide.columns]
    at = known.index("still_inside") + 1  # counts by other statuses read best beside the known ones
    order = known[:at] + [m for m in wide.columns if m not in METRICS] + known[at:]
    long = _tidy(wide[order])
    # the backlog is sampled per gate, not per direction: no row rather than a NaN that looks like a gap
    return long[~((long["metric"] == "peak_backlog") & long["value"].isna())].reset_index(drop=True)
