"""Replication records: columnar tables, filled while the model runs.

Columns are ``array.array`` buffers of machine numbers (8 bytes a float), not lists of Python objects, so
memory grows by a few dozen bytes per truck-stage and the whole year of a province fits easily. At the
end of a run the buffers become pandas DataFrames with categorical names.

Tables (one replication):
- ``trucks``: one row per truck at a gate: id, gate, direction, truck class, commodity, value, tonnage,
  arrival (at this gate), origin arrival (in the province: differs for a diverted truck), yard entry,
  cleared time, exit time, status (``cleared``, ``inside`` at the horizon, ``turned_back``,
  ``diverted``), clearance time, service and waiting hours, spoilage and waiting cost. A truck that
  diverts gets a second row at the gate that received it (``diverted_from`` names its first row).
- ``stages``: one row per truck and completed stage: arrival at the stage's queue, service start, service
  end, and when its server was free again (later than the end for a border driver's return trip);
  waiting = start - queued and service = end - start (the Time Release Study breakdown).
- ``gate_series`` and ``stage_series``: the state sampled at a fixed interval (hourly by default).
- ``backlog_series``: the exact backlog, a step series per gate and direction with one row at every
  change: trucks ``before_yard`` (arrived at the gate, in the stages before the yard), ``outside`` (done
  with those, queueing for a yard place: the highway queue), ``in_yard`` (from yard entry to crossing) and
  ``waiting`` (their sum: arrived at the gate and not yet crossed, turned back or diverted). A row holds
  from its time until the next row of the same gate and direction; several rows at one time are applied
  in order, the last one is the state after that instant.
- ``closures``: every scheduled or random closure and every ban, for plots and checks.

Scenarios that hold trucks upstream (``upstream`` on a flow, :mod:`sim.model.upstream`) add, and only
they: a ``held_upstream`` count to ``backlog_series`` (trucks of the flow held at their origin, not part
of ``waiting``); ``held_upstream_h`` and ``upstream_cost_usd`` to ``trucks``; and two statuses, a row
with no gate arrival (``arrival`` NaN, ``origin_arrival`` = when it was ready) for a shipment that was
``cancelled`` upstream or is still ``held_upstream`` at the horizon. So generated = still held +
arrived + cancelled (tests/test_levers.py).

Spoilage: a perishable cargo spoils when the time from its arrival in the province to its clearance (or
to the truck turning back, or to the horizon if still inside) exceeds the shelf life it had left on
arrival. It is judged once per truck, on its last row (a diverted row is not the last).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.model.resources import Pool

NAN = float("nan")
_CHUNK = 4096
_NAN_CHUNK = array("d", [NAN] * _CHUNK)
INSIDE, CLEARED, TURNED_BACK, DIVERTED = 0, 1, 2, 3
CANCELLED, HELD_UPSTREAM = 4, 5  # only in scenarios that hold trucks upstream (sim/model/upstream.py)
BEFORE_YARD, OUTSIDE, IN_YARD, GONE = 0, 1, 2, 3  # where a truck is, for the exact backlog counters
_INSIDE_CHUNK = array("b", [INSIDE] * _CHUNK)
STATUSES = ["inside", "cleared", "turned_back", "diverted"]
UPSTREAM_STATUSES = [*STATUSES, "cancelled", "held_upstream"]
_NO_ROWS = np.zeros((0, 6), dtype=np.float64)


@dataclass
class Tables:
    """The tables of one replication."""

    trucks: pd.DataFrame
    stages: pd.DataFrame
    gate_series: pd.DataFrame
    stage_series: pd.DataFrame
    closures: pd.DataFrame
    backlog_series: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """The tables by name (the names of their Parquet files)."""
        return {
            "trucks": self.trucks,
            "stages": self.stages,
            "gate_series": self.gate_series,
            "stage_series": self.stage_series,
            "closures": self.closures,
            "backlog_series": self.backlog_series,
        }


class Recorder:
    """Everything a replication writes, in one place: column buffers and the per-gate counters.

    The model reports what happens to a truck (it arrives, finishes a stage, enters the yard, clears,
    turns back or diverts) through the methods below and never touches the buffers itself, so that a
    new count (e.g. backlogs per gate and direction) hooks in here. Index vocabularies (names of gates,
    flows, stages) are fixed at build."""

    def __init__(
        self,
        gate_names: list[str],
        flow_keys: list[tuple[str, str]],
        class_names: list[str],
        class_commodities: list[str],
        stage_keys: list[tuple[str, str, str]],
        resource_keys: list[tuple[str, str]],
        upstream: bool = False,
    ):
        self.upstream = upstream  # trucks may be held upstream: extra columns and statuses (issue 22)
        self.gate_names = gate_names
        self.flow_keys = flow_keys
        self.class_names = class_names
        self.class_commodities = class_commodities
        self.stage_keys = stage_keys
        self.resource_keys = resource_keys
        # trucks
        self.t_flow = array("i")
        self.t_class = array("i")
        self.t_value = array("d")
        self.t_tonnage = array("d")
        self.t_arrival = array("d")
        self.t_origin = array("d")
        self.t_yard = array("d")
        self.t_cleared = array("d")
        self.t_exit = array("d")
        self.t_status = array("b")
        self.t_shelf = array("d")  # shelf life left on arrival in the province, hours (inf: not perishable)
        self.t_cost = array("d")  # waiting cost, USD per truck-day
        self.t_from = array("q")  # the row this truck diverted from, or -1
        # truck x stage: six numbers a row (truck, stage, queued, start, end, released) in one buffer,
        # one ``extend`` per truck-stage (the hot path)
        self.s_rows = array("d")
        self.closures: list[tuple[str, str, float, float, str]] = []
        # per-gate counters, sampled by ``snapshot``
        self.in_yard = [0] * len(gate_names)  # trucks past yard entry, not yet gone (any yard size)
        self.cleared_per_gate = [0] * len(gate_names)
        # exact backlog: where each truck row is, counts per flow, and one row per change
        self.t_where = array("b")
        self.b_counts = [[0, 0, 0] for _ in flow_keys]  # before the yard, outside it, in it
        self.b_time = array("d")
        self.b_flow = array("i")
        self.b_before = array("q")
        self.b_outside = array("q")
        self.b_yard = array("q")
        self.cleared_per_flow = [0] * len(flow_keys)  # read by route choice (announced waits)
        # upstream holding (only filled when ``upstream``): trucks held per flow, each row's count, and
        # per truck row the hours it was held and what holding it cost
        self.held_per_flow = [0] * len(flow_keys)
        self.b_held = array("q")
        self.t_held_h = array("d")
        self.t_upstream_cost = array("d")
        # sampled series
        self.g_time = array("d")
        self.g_gate = array("i")
        self.g_outside = array("q")
        self.g_yard = array("q")
        self.g_cleared = array("q")
        self.r_time = array("d")
        self.r_resource = array("i")
        self.r_queue = array("q")
        self.r_busy = array("q")

    def new_truck(
        self,
        *,
        flow: int,
        truck_class: int,
        value: float,
        tonnage: float,
        arrival: float,
        origin: float,
        shelf_left_h: float,
        cost_per_day: float,
        diverted_from: int = -1,
        held_h: float = 0.0,
        upstream_cost: float = 0.0,
    ) -> int:
        """A truck arrives at a gate (in the province, or by diversion from another gate): its row id.

        ``held_h`` and ``upstream_cost`` are the hours it was held upstream and what that cost (recorded
        only in scenarios that hold trucks)."""
        self.t_flow.append(flow)
        self.t_class.append(truck_class)
        self.t_value.append(value)
        self.t_tonnage.append(tonnage)
        self.t_arrival.append(arrival)
        self.t_origin.append(origin)
        tid = len(self.t_flow) - 1
        if tid >= len(self.t_status):  # columns filled in later grow a chunk at a time (hot path)
            self.t_yard.extend(_NAN_CHUNK)
            self.t_cleared.extend(_NAN_CHUNK)
            self.t_exit.extend(_NAN_CHUNK)
            self.t_status.extend(_INSIDE_CHUNK)
        self.t_shelf.append(shelf_left_h)
        self.t_cost.append(cost_per_day)
        self.t_from.append(diverted_from)
        if self.upstream:
            self.t_held_h.append(held_h)
            self.t_upstream_cost.append(upstream_cost)
        if arrival != arrival:  # NaN: a held truck's row, it never reached the gate (no backlog count)
            self.t_where.append(GONE)
            return tid
        self.t_where.append(BEFORE_YARD)
        counts = self.b_counts[flow]
        counts[BEFORE_YARD] += 1
        # a truck of the starting state arrived before the run: it is counted from time 0
        self._backlog_row(arrival if arrival > 0.0 else 0.0, flow, counts)
        return tid

    def _backlog_row(self, now: float, flow: int, counts: list[int]) -> None:
        self.b_time.append(now)
        self.b_flow.append(flow)
        self.b_before.append(counts[0])
        self.b_outside.append(counts[1])
        self.b_yard.append(counts[2])
        if self.upstream:
            self.b_held.append(self.held_per_flow[flow])

    def held(self, flow: int, now: float, change: int) -> None:
        """``change`` trucks of ``flow`` start (+) or stop (-) being held upstream at ``now``."""
        self.held_per_flow[flow] += change
        self._backlog_row(now, flow, self.b_counts[flow])

    def left_upstream(
        self,
        *,
        flow: int,
        truck_class: int,
        value: float,
        tonnage: float,
        generated: float,
        when: float,
        shelf_left_h: float,
        cost_per_day: float,
        held_h: float,
        upstream_cost: float,
        cancelled: bool,
    ) -> None:
        """A held truck's row without a gate arrival: its shipment cancelled at ``when``, or (``cancelled``
        False) still held at the horizon. ``shelf_left_h`` is what its cargo had left then."""
        tid = self.new_truck(
            flow=flow,
            truck_class=truck_class,
            value=value,
            tonnage=tonnage,
            arrival=NAN,
            origin=generated,
            shelf_left_h=shelf_left_h,
            cost_per_day=cost_per_day,
            held_h=held_h,
            upstream_cost=upstream_cost,
        )
        self.t_exit[tid] = when if cancelled else NAN
        self.t_status[tid] = CANCELLED if cancelled else HELD_UPSTREAM

    def _move(self, truck: int, to: int, now: float) -> None:
        """The exact backlog counters: truck row ``truck`` moves to ``to`` at ``now``."""
        flow = self.t_flow[truck]
        counts = self.b_counts[flow]
        counts[self.t_where[truck]] -= 1
        if to != GONE:
            counts[to] += 1
        self.t_where[truck] = to
        self._backlog_row(now, flow, counts)

    def outside(self, truck: int, now: float) -> None:
        """A truck done with the stages before the yard found it full: it queues outside (the backlog)."""
        self._move(truck, OUTSIDE, now)

    def stage_done(
        self, truck: int, stage: int, queued: float, start: float, end: float, released: float
    ) -> None:
        """A truck finished a stage: when it queued, started, ended, and when its server was free again."""
        self.s_rows.extend((truck, stage, queued, start, end, released))

    def entered_yard(self, truck: int, gate: int, now: float) -> None:
        """A truck passed the gate's yard entry."""
        self.t_yard[truck] = now
        self.in_yard[gate] += 1
        self._move(truck, IN_YARD, now)

    def cleared(self, truck: int, gate: int, now: float, in_yard: bool) -> None:
        """A truck crossed: it leaves the model (and the yard, if it had entered it)."""
        if in_yard:
            self.in_yard[gate] -= 1
        self.t_cleared[truck] = now
        self.t_exit[truck] = now
        self.t_status[truck] = CLEARED
        self.cleared_per_gate[gate] += 1
        self.cleared_per_flow[self.t_flow[truck]] += 1
        self._move(truck, GONE, now)

    def gave_up(self, truck: int, gate: int, when: float, in_yard: bool, diverted: bool) -> None:
        """A truck stopped waiting: it turned back, or left for another gate (a new row records it there)."""
        if in_yard:
            self.in_yard[gate] -= 1
        self.t_exit[truck] = when
        self.t_status[truck] = DIVERTED if diverted else TURNED_BACK
        self._move(truck, GONE, when)

    def snapshot(self, now: float, outside: list[int], pools: list[Pool]) -> None:
        """The state of every gate (trucks waiting outside, in the yard, cleared so far) and of every pool
        (queue, servers busy) at ``now``."""
        for gate, waiting in enumerate(outside):
            self.g_time.append(now)
            self.g_gate.append(gate)
            self.g_outside.append(waiting)
            self.g_yard.append(self.in_yard[gate])
            self.g_cleared.append(self.cleared_per_gate[gate])
        for index, pool in enumerate(pools):
            self.r_time.append(now)
            self.r_resource.append(index)
            self.r_queue.append(pool.waiting())
            self.r_busy.append(pool.busy)

    def tables(self, horizon: float, unit_hours: float = 1.0) -> Tables:
        """The buffers as DataFrames: names as categoricals, derived columns (waiting, costs) computed."""
        flows = np.frombuffer(self.t_flow, dtype=np.int32) if len(self.t_flow) else np.zeros(0, np.int32)
        gate_of_flow = np.array([self.gate_names.index(g) for g, _ in self.flow_keys], dtype=np.int32)
        dir_of_flow = np.array([0 if d == "export" else 1 for _, d in self.flow_keys], dtype=np.int32)
        classes = _ints(self.t_class)
        n = len(flows)
        cleared = _floats(self.t_cleared)[:n]
        arrival = _floats(self.t_arrival)
        origin = _floats(self.t_origin)
        exit_ = _floats(self.t_exit)[:n]
        status = _ints(self.t_status)[:n]
        end = np.where(np.isnan(exit_), horizon, exit_)
        # service hours per truck row (pure delays such as waiting for a test result count as service)
        # the stage buffer is read in place (no copy): its time columns become the table's columns
        rows = np.frombuffer(self.s_rows, dtype=np.float64).reshape(-1, 6) if len(self.s_rows) else _NO_ROWS
        s_truck = rows[:, 0].astype(np.int64)
        s_service = rows[:, 4] - rows[:, 3]
        service_h = np.bincount(s_truck, weights=s_service, minlength=len(flows)) * unit_hours
        waiting_h = np.maximum((end - arrival) * unit_hours - service_h, 0.0)
        shelf = _floats(self.t_shelf)
        final = status != DIVERTED
        spoiled = final & ((end - origin) * unit_hours > shelf)
        if self.upstream:  # a held truck's row: no wait at a gate; its cargo spoiled if it aged out upstream
            never_arrived = np.isnan(arrival)
            waiting_h = np.where(never_arrived, 0.0, waiting_h)
            spoiled = np.where(never_arrived, shelf < 0.0, spoiled)
        value = _floats(self.t_value)
        trucks = pd.DataFrame(
            {
                "truck": np.arange(len(flows), dtype=np.int64),
                "gate": _cat(gate_of_flow[flows], self.gate_names),
                "direction": _cat(dir_of_flow[flows], ["export", "import"]),
                "truck_class": _cat(classes, self.class_names),
                "commodity": pd.Categorical(
                    np.asarray(self.class_commodities, dtype=object)[classes]
                    if len(classes)
                    else np.array([], dtype=object)
                ),
                "value_usd": value,
                "tonnage_t": _floats(self.t_tonnage),
                "arrival": arrival,
                "origin_arrival": origin,
                "yard_entry": _floats(self.t_yard)[:n],
                "cleared": cleared,
                "exit": exit_,
                "status": _cat(status, UPSTREAM_STATUSES if self.upstream else STATUSES),
                "clearance_time": cleared - arrival,
                "diverted_from": _ints(self.t_from, np.int64),
                "shelf_left_h": shelf,
                "service_h": service_h,
                "waiting_h": waiting_h,
                "spoiled": spoiled,
                "value_lost_usd": np.where(spoiled, value, 0.0),
                "waiting_cost_usd": waiting_h / 24.0 * _floats(self.t_cost),
            },
            copy=False,
        )
        if self.upstream:
            trucks["held_upstream_h"] = _floats(self.t_held_h)
            trucks["upstream_cost_usd"] = _floats(self.t_upstream_cost)
        stage_idx = rows[:, 1].astype(np.int32)
        stages = pd.DataFrame(
            {
                "truck": s_truck,
                "gate": _cat(
                    _lookup(stage_idx, [self.gate_names.index(k[0]) for k in self.stage_keys]),
                    self.gate_names,
                ),
                "direction": _cat(
                    _lookup(stage_idx, [0 if k[1] == "export" else 1 for k in self.stage_keys]),
                    ["export", "import"],
                ),
                "stage": _cat(
                    _lookup(stage_idx, _first_index([k[2] for k in self.stage_keys])),
                    _unique([k[2] for k in self.stage_keys]),
                ),
                "stage_order": _lookup(stage_idx, _order_in_flow(self.stage_keys)).astype(np.int32),
                "queued": rows[:, 2],
                "start": rows[:, 3],
                "end": rows[:, 4],
                "released": rows[:, 5],
                "wait": rows[:, 3] - rows[:, 2],
                "service": s_service,
            },
            copy=False,  # a copy would double the largest table at the moment memory peaks
        )
        gate_series = pd.DataFrame(
            {
                "time": _floats(self.g_time),
                "gate": _cat(_ints(self.g_gate), self.gate_names),
                "outside_queue": _ints(self.g_outside, np.int64),
                "yard_occupancy": _ints(self.g_yard, np.int64),
                "cleared_total": _ints(self.g_cleared, np.int64),
            }
        )
        res_idx = _ints(self.r_resource)
        stage_series = pd.DataFrame(
            {
                "time": _floats(self.r_time),
                "gate": _cat(
                    _lookup(res_idx, [self.gate_names.index(k[0]) for k in self.resource_keys]),
                    self.gate_names,
                ),
                "resource": _cat(
                    _lookup(res_idx, _first_index([k[1] for k in self.resource_keys])),
                    _unique([k[1] for k in self.resource_keys]),
                ),
                "queue": _ints(self.r_queue, np.int64),
                "in_service": _ints(self.r_busy, np.int64),
            }
        )
        closures = pd.DataFrame(
            self.closures or None, columns=["gate", "applies_to", "start", "end", "kind"]
        ).astype({"start": float, "end": float})
        return Tables(trucks, stages, gate_series, stage_series, closures, self._backlog_table())

    def _backlog_table(self) -> pd.DataFrame:
        flows = _ints(self.b_flow)
        gate_of_flow = [self.gate_names.index(g) for g, _ in self.flow_keys]
        dir_of_flow = [0 if d == "export" else 1 for _, d in self.flow_keys]
        before = _ints(self.b_before, np.int64)
        outside = _ints(self.b_outside, np.int64)
        yard = _ints(self.b_yard, np.int64)
        table = pd.DataFrame(
            {
                "time": _floats(self.b_time),
                "gate": _cat(_lookup(flows, gate_of_flow), self.gate_names),
                "direction": _cat(_lookup(flows, dir_of_flow), ["export", "import"]),
                "before_yard": before,
                "outside": outside,
                "in_yard": yard,
                "waiting": before + outside + yard,
            }
        )
        if self.upstream:  # trucks of the flow held at their origin (not at the gate: not in ``waiting``)
            table["held_upstream"] = _ints(self.b_held, np.int64)
        return table


def _floats(a: array[float]) -> np.ndarray:
    return np.frombuffer(a, dtype=np.float64).copy() if len(a) else np.zeros(0, dtype=np.float64)


def _ints(a: array[int], dtype: type = np.int32) -> np.ndarray:
    if not len(a):
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(a, dtype=np.dtype(a.typecode if a.typecode != "q" else "int64")).astype(dtype)


def _lookup(idx: np.ndarray, table: list[int]) -> np.ndarray:
    """``table[idx]`` in the smallest integer type that holds it (categorical codes: a byte a row)."""
    dtype = np.int8 if max(table, default=0) < 127 else np.int32
    return np.asarray(table, dtype=dtype)[idx] if len(idx) else np.zeros(0, dtype=dtype)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _first_index(names: list[str]) -> list[int]:
    uniq = _unique(names)
    return [uniq.index(n) for n in names]


def _order_in_flow(stage_keys: list[tuple[str, str, str]]) -> list[int]:
    seen: dict[tuple[str, str], int] = {}
    out = []
    for g, d, _ in stage_keys:
        out.append(seen.get((g, d), 0))
        seen[(g, d)] = out[-1] + 1
    return out


def _cat(codes: np.ndarray, names: list[str]) -> pd.Categorical[str]:
    # the categories as an Index: the one overload of pandas-stubs for named categories (the same call)
    return pd.Categorical.from_codes(codes, categories=pd.Index(names))
