"""The net cost to the province (issue 29): the decision measure a planner means, in USD, and its parts.

Mean clearance time starts at the gate, so it flatters holding trucks at their origin; a "total cost" that
leaves out the shipments given up flatters it again. The net cost adds, for each replication:

- ``cost_waiting_usd``: waiting at the border, on the highway and in the yards (the classes' cost a
  truck-day: parking and fuel, facts #21);
- ``cost_held_usd``: waiting at the origin while held upstream (the scheme's cost a truck-day);
- ``cost_spoiled_usd``: the value of cargo spoiled on the way;
- ``cost_lost_exports_usd``: exports cancelled at their origin or turned back, at the scenario's
  ``lost_exports.share_of_value`` of their declared value (1 without it: the whole value); a lost truck
  whose cargo spoiled is counted once, as spoiled;
- ``cost_policy_usd``: the policy's own ``cost:`` (0 without one: the base costs nothing beyond the model),
  pro rata to the part of its period the run measures when the file states that period (``from``, ``to``).

"Province" means the province's own gates: other provinces' gates (``province:`` set on the gate, e.g.
route choice's Mong Cai) and the rail route report their own rows and are left out of the ``all`` rows,
unlike the older metrics, whose ``all`` rows sum every gate. The policy's own cost belongs to no gate: it
is in the province row (``all``/``all``) only, so a gate's or a direction's net cost is of the trucks.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from sim.analysis.metric_spec import Metric
from sim.groups import ALL
from sim.scenario.rail_route import all_gates
from sim.scenario.schema import Scenario

PARTS = ("cost_waiting_usd", "cost_held_usd", "cost_spoiled_usd", "cost_lost_exports_usd", "cost_policy_usd")
NET = "net_cost_usd"
NET_COST_METRICS = (
    Metric(NET, "net cost to the province", "USD m", 3, 1e6),  # its parts: the rows below
    Metric("cost_waiting_usd", "net cost: waiting at the border (highway, yards)", "USD m", 3, 1e6),
    Metric("cost_held_usd", "net cost: waiting at the origin (held upstream)", "USD m", 3, 1e6),
    Metric("cost_spoiled_usd", "net cost: spoiled cargo", "USD m", 3, 1e6),
    Metric("cost_lost_exports_usd", "net cost: exports cancelled or turned back", "USD m", 3, 1e6),
    Metric("cost_policy_usd", "net cost: the policy's own cost", "USD m", 3, 1e6),
)
LOST = ("cancelled", "turned_back")


def outside_gates(scenario: Scenario) -> set[str]:
    """The gates that are not the province's: other provinces' gates and the rail route."""
    gates = all_gates(scenario)
    outside = {name for name, gate in gates.items() if gate.province is not None}
    return outside | ({scenario.rail.name} if scenario.rail is not None else set())


def _column(trucks: pd.DataFrame, name: str) -> np.ndarray:
    return np.nan_to_num(trucks[name].to_numpy(dtype=float)) if name in trucks else np.zeros(len(trucks))


def policy_cost(scenario: Scenario) -> float:
    """The policy's own cost charged to this run: its ``cost:``, pro rata to the part of the cost's
    period the run measures (after the warm-up, to the horizon), when the file states that period."""
    if scenario.cost is None:
        return 0.0
    run = scenario.run
    measured_from = run.start + timedelta(hours=run.warmup * run.unit_hours)
    return scenario.cost.usd * scenario.cost.share(measured_from, run.end)


def net_cost_metrics(
    trucks: pd.DataFrame, scenario: Scenario, rows: list[tuple[str, str]], ready: pd.Series
) -> pd.DataFrame:
    """Tidy rows (gate, direction, metric, value) of the net cost and its parts for every group in
    ``rows``, over the trucks ready to leave their origin at or after the warm-up (``ready``: that time)."""
    spoiled = _column(trucks, "value_lost_usd")
    share = scenario.lost_exports.share_of_value if scenario.lost_exports is not None else 1.0
    lost = (
        trucks["status"].astype(str).isin(LOST).to_numpy()
        & (trucks["direction"].astype(str) == "export").to_numpy()
        & (spoiled <= 0)
    )
    per_truck = pd.DataFrame(
        {
            "gate": trucks["gate"].astype(str).to_numpy(),
            "direction": trucks["direction"].astype(str).to_numpy(),
            "cost_waiting_usd": _column(trucks, "waiting_cost_usd"),
            "cost_held_usd": _column(trucks, "upstream_cost_usd"),
            "cost_spoiled_usd": spoiled,
            "cost_lost_exports_usd": np.where(lost, _column(trucks, "value_usd") * share, 0.0),
        }
    )
    per_truck = per_truck[(ready >= scenario.run.warmup).to_numpy()]
    by_flow = per_truck.groupby(["gate", "direction"]).sum()
    province = by_flow[~by_flow.index.get_level_values("gate").isin(outside_gates(scenario))]
    policy = policy_cost(scenario)
    records = []
    for gate, direction in rows:
        scope = by_flow if gate != ALL else province
        keep = np.ones(len(scope), bool)
        if gate != ALL:
            keep &= scope.index.get_level_values("gate") == gate
        if direction != ALL:
            keep &= scope.index.get_level_values("direction") == direction
        parts = scope[keep].sum().reindex(list(PARTS[:-1]), fill_value=0.0).to_dict()
        parts["cost_policy_usd"] = policy if (gate, direction) == (ALL, ALL) else 0.0
        values = {NET: sum(parts.values()), **parts}
        records += [(gate, direction, m.name, float(values[m.name])) for m in NET_COST_METRICS]
    return pd.DataFrame(records, columns=["gate", "direction", "metric", "value"])


def _holds_upstream(scenario: Scenario) -> bool:
    flows = [f for gate in scenario.gates.values() for f in (gate.export, gate.import_) if f is not None]
    return any(f.upstream is not None for f in flows)


def net_cost_not_modelled(scenario: Scenario, unmodelled: set[str]) -> set[str]:
    """The parts a scenario cannot produce, from the older metrics' flags (``unmodelled``); the net cost
    itself is unknown only when no part is modelled and the scenario states no cost of its own.

    The part held upstream differs from the older ``upstream_cost_usd``: a scenario with no holding scheme
    holds no truck at its origin (its trucks leave as they are ready), so that part is a true 0, and it
    is the 0 the net cost already adds. Calling it "not modelled" there made a policy's parts not add up
    to its net effect (the held cost's difference was missing against a base that holds nobody). It is
    unknown only when trucks are held and no holding cost is set."""
    out = set()
    if "waiting_cost_usd" in unmodelled:
        out.add("cost_waiting_usd")
    if "upstream_cost_usd" in unmodelled and _holds_upstream(scenario):
        out.add("cost_held_usd")  # trucks held, at a cost nobody set: unknown, not 0
    if "value_lost_usd" in unmodelled:
        out.add("cost_spoiled_usd")
    if {"trucks_turned_back", "trucks_cancelled"} <= unmodelled:
        out.add("cost_lost_exports_usd")
    priced = {"cost_waiting_usd", "cost_spoiled_usd", "cost_lost_exports_usd"}
    held_priced = _holds_upstream(scenario) and "cost_held_usd" not in out
    if priced <= out and not held_priced and scenario.cost is None:
        out.add(NET)  # nothing priced at all: the total is unknown, not 0
    return out
