"""Replication records: columnar tables, filled while the model runs.

Columns are ``array.array`` buffers of machine numbers (8 bytes a float), not lists of Python objects, so
memory grows by a few dozen bytes per truck-stage and the whole year of a province fits easily. At the
end of a run the buffers become pandas DataFrames with categorical names.

Tables (one replication):
- ``trucks``: one row per truck: id, gate, direction, truck class, commodity, value, tonnage, arrival,
  yard entry, cleared time (NaN while inside), status (``cleared`` / ``inside``), clearance time.
- ``stages``: one row per truck and completed stage: arrival at the stage's queue, service start, service
  end; so waiting = start - queued and service = end - start (the Time Release Study breakdown).
- ``gate_series`` and ``stage_series``: the state sampled at a fixed interval (hourly by default).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import pandas as pd

NAN = float("nan")


@dataclass
class Tables:
    """The tables of one replication."""

    trucks: pd.DataFrame
    stages: pd.DataFrame
    gate_series: pd.DataFrame
    stage_series: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {
            "trucks": self.trucks,
            "stages": self.stages,
            "gate_series": self.gate_series,
            "stage_series": self.stage_series,
        }


class Recorder:
    """Append-only column buffers. Index vocabularies (names of gates, flows, stages) are fixed at build."""

    def __init__(
        self,
        gate_names: list[str],
        flow_keys: list[tuple[str, str]],
        class_names: list[str],
        class_commodities: list[str],
        stage_keys: list[tuple[str, str, str]],
        resource_keys: list[tuple[str, str]],
    ):
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
        self.t_yard = array("d")
        self.t_cleared = array("d")
        # truck x stage
        self.s_truck = array("q")
        self.s_stage = array("i")
        self.s_queued = array("d")
        self.s_start = array("d")
        self.s_end = array("d")
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

    def new_truck(self, flow: int, klass: int, value: float, tonnage: float, arrival: float) -> int:
        self.t_flow.append(flow)
        self.t_class.append(klass)
        self.t_value.append(value)
        self.t_tonnage.append(tonnage)
        self.t_arrival.append(arrival)
        self.t_yard.append(NAN)
        self.t_cleared.append(NAN)
        return len(self.t_flow) - 1

    def tables(self, horizon: float) -> Tables:
        flows = np.frombuffer(self.t_flow, dtype=np.int32) if len(self.t_flow) else np.zeros(0, np.int32)
        gate_of_flow = np.array([self.gate_names.index(g) for g, _ in self.flow_keys], dtype=np.int32)
        dir_of_flow = np.array([0 if d == "export" else 1 for _, d in self.flow_keys], dtype=np.int32)
        classes = _ints(self.t_class)
        cleared = _floats(self.t_cleared)
        arrival = _floats(self.t_arrival)
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
                "value_usd": _floats(self.t_value),
                "tonnage_t": _floats(self.t_tonnage),
                "arrival": arrival,
                "yard_entry": _floats(self.t_yard),
                "cleared": cleared,
                "status": pd.Categorical(
                    np.where(np.isnan(cleared), "inside", "cleared"), categories=["cleared", "inside"]
                ),
                "clearance_time": cleared - arrival,
            }
        )
        stage_idx = _ints(self.s_stage)
        stages = pd.DataFrame(
            {
                "truck": _ints(self.s_truck, np.int64),
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
                "stage_order": _lookup(stage_idx, _order_in_flow(self.stage_keys)),
                "queued": _floats(self.s_queued),
                "start": _floats(self.s_start),
                "end": _floats(self.s_end),
            }
        )
        stages["wait"] = stages["start"] - stages["queued"]
        stages["service"] = stages["end"] - stages["start"]
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
        return Tables(trucks, stages, gate_series, stage_series)


def _floats(a: array) -> np.ndarray:
    return np.frombuffer(a, dtype=np.float64).copy() if len(a) else np.zeros(0, dtype=np.float64)


def _ints(a: array, dtype: type = np.int32) -> np.ndarray:
    if not len(a):
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(a, dtype=np.dtype(a.typecode if a.typecode != "q" else "int64")).astype(dtype)


def _lookup(idx: np.ndarray, table: list[int]) -> np.ndarray:
    return np.asarray(table, dtype=np.int32)[idx] if len(idx) else np.zeros(0, dtype=np.int32)


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


def _cat(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=names)
