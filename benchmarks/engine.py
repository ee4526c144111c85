"""Engine overhead benchmark: the scenario engine against a bare SimPy model of the same tandem queue,
and against Ciw (a queueing-network library) simulating the same network.

What is compared
    * engine: ``scenarios/examples/tandem.yaml`` (three M/M/c stations in series: 1, 2 and 3 servers,
      exponential service with means 0.25, 0.6 and 1.05 h, Poisson arrivals at 2.0/h) built by
      :class:`sim.model.Model` and run with ``Model.run()``, which also builds the result DataFrames.
    * bare: the same three stations written by hand the way SimPy's documentation writes models: plain
      ``simpy.Resource``, one process per truck, ``with res.request() as req: yield req; yield
      env.timeout(...)``, and nothing recorded except two integers (trucks created, trucks finished).

Why the comparison is fair
    * Same work for SimPy. Both models schedule the same kinds of events (one arrival timeout per truck,
      then a request and a service timeout per stage) on the same SimPy version in the same process.
    * Same random numbers, drawn the same way. The bare model takes plain ``numpy.random.Generator``
      objects; this script builds them with the engine's stream names
      (``sim.model.random_streams.stream`` only
      constructs a Generator), so both models simulate the very same trucks: the finished counts must
      agree, which the script checks. Random numbers are PRE-DRAWN IN NUMPY BLOCKS of 2048 in both
      models (interarrival gaps cumulated into arrival times, service times drawn per stage), exactly as
      the engine does; neither model pays for scalar ``Generator`` calls. Service times are drawn when a
      truck is created, in both models.
    * Same clock. Each model is timed from building its environment to having its results: for the
      engine that includes building the Model (pools, streams, recorder) and the end-of-run table
      building (``Recorder.tables``), which is also timed on its own. Reading and validating the YAML is
      done once, outside the timings.
    * Same conditions. The two alternate in one process for several rounds (the order flips every
      round), after an untimed warm-up of both, with a ``gc.collect()`` before every timed run; the
      figure reported is the median over rounds of (engine seconds per truck) / (bare seconds per truck).

What the ratio therefore measures is the engine's own overhead: the scenario layer (priority checks,
generic stage loop, monitor process sampling queue lengths every ``monitor_interval``) and, above all,
recording every truck-stage's queued/start/end times into columnar ``array`` buffers and turning them into
DataFrames at the end. The bare model records none of that.

Memory is measured in a separate, untimed pass under ``tracemalloc`` (which slows Python down several
times): the peak traced bytes of one engine run (build + run + tables), divided by trucks x 3 stages.

Ciw: the same three M/M/c stations written as a Ciw network (``ciw.create_network`` with a routing
matrix), run to the same horizon with its own random numbers (so the trucks differ; the number of trucks
is the same in expectation and the figure is per truck). Ciw comes with the ``bench`` extra
(``pip install -e ".[bench]"``); without it the Ciw column is skipped.

Goals (issue 10): cost ratio engine / bare SimPy <= 1.1, engine >= 2.5x faster than Ciw per truck, and
peak memory < 400 bytes per truck-stage. The script always exits 0 (it is a
measurement, not a test) and prints whether each goal was met.

Usage::

    python benchmarks/engine.py                  # 200,000 trucks, 3 rounds
    python benchmarks/engine.py --smoke          # 20,000 trucks, 1 round (CI)
    python benchmarks/engine.py --trucks 500000 --rounds 5 --json results.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim.model import Model
from sim.model.random_streams import replication_seed, stream
from sim.model.records import Tables
from sim.scenario import Scenario, load_scenario
from sim.scenario import schema as S

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "examples" / "tandem.yaml"

# The tandem queue, as the bare model hard-codes it (checked against the scenario file at start-up).
RATE = 2.0  # trucks per hour
STAGES = ("declaration", "customs", "crossing")
SERVERS = (1, 2, 3)
MEANS = (0.25, 0.6, 1.05)  # hours
BLOCK = 2048  # numpy draws per block, as in sim.model.random_streams

COST_RATIO_GOAL = 1.1
CIW_SPEEDUP_GOAL = 2.5
BYTES_PER_TRUCK_STAGE_GOAL = 400.0
SMOKE_TRUCKS = 20_000
WARMUP_TRUCKS = 2_000


# ------------------------------------------------------------------------------------------------------
# The bare SimPy model
# ------------------------------------------------------------------------------------------------------
def _blocks(gen: np.random.Generator, mean: float) -> Iterator[float]:
    """Exponential draws with ``mean``, fetched from numpy BLOCK at a time (pre-drawn, not scalar calls).

    Drawn by inversion of uniforms, -mean * log(1 - U), as the engine draws service times (so that a
    truck keeps its quantile under every policy): both models then simulate the very same trucks."""
    while True:
        yield from (-mean * np.log1p(-gen.random(BLOCK))).tolist()


def _arrival_times(gen: np.random.Generator, rate: float, horizon: float) -> Iterator[float]:
    """Poisson arrival times in [0, horizon): gaps pre-drawn in numpy blocks and cumulated."""
    t = 0.0
    while t < horizon:
        times = t + np.cumsum(gen.exponential(1.0 / rate, BLOCK))
        t = float(times[-1])
        yield from times[times < horizon].tolist()


@dataclass
class BareCounts:
    created: int = 0
    finished: int = 0


def bare_tandem(
    horizon: float, arrivals: np.random.Generator, services: list[np.random.Generator]
) -> BareCounts:
    """The tandem queue in plain SimPy; returns only how many trucks were created and finished."""
    env = simpy.Environment()
    stations = [simpy.Resource(env, capacity=c) for c in SERVERS]
    service_draws = [_blocks(gen, mean).__next__ for gen, mean in zip(services, MEANS, strict=True)]
    counts = BareCounts()

    def truck(env: simpy.Environment, service_times: list[float]) -> Generator[simpy.Event, Any, None]:
        for station, service_time in zip(stations, service_times, strict=True):
            with station.request() as req:
                yield req
                yield env.timeout(service_time)
        counts.finished += 1

    def source(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        for t in _arrival_times(arrivals, RATE, horizon):
            yield env.timeout(t - env.now)
            counts.created += 1
            env.process(truck(env, [draw() for draw in service_draws]))

    env.process(source(env))
    env.run(until=horizon)
    return counts


def bare_generators(seed: np.random.SeedSequence) -> tuple[np.random.Generator, list[np.random.Generator]]:
    """Generators seeded like the engine's streams of tandem.yaml, so both models see the same trucks."""
    arrivals = stream(seed, "arrivals", "trucks")
    services = [stream(seed, "service", "gate", "export", name) for name in STAGES]
    return arrivals, services


# ------------------------------------------------------------------------------------------------------
# Runs
# ------------------------------------------------------------------------------------------------------
@dataclass
class EngineRun:
    seconds: float
    tables_seconds: float
    trucks: int
    cleared: int
    truck_stages: int


@dataclass
class BareRun:
    seconds: float
    trucks: int
    cleared: int


def check_scenario(scenario: Scenario) -> None:
    """Fail loudly if tandem.yaml no longer describes the queue the bare model hard-codes."""
    flow = scenario.gates["gate"].export
    assert flow is not None
    found = [
        (name, st.servers, st.service.mean if isinstance(st.service, S.Exponential) else None, st.hours)
        for name, st in flow.stages.items()
    ]
    expected = [(n, c, m, None) for n, c, m in zip(STAGES, SERVERS, MEANS, strict=True)]
    rates = [
        (a.rate, a.per, a.hour_factors, a.weekday_factors, a.month_factors)
        for a in scenario.arrivals.values()
    ]
    if found != expected or rates != [(RATE, "time_unit", None, None, None)] or scenario.run.unit_hours != 1:
        raise SystemExit(f"{SCENARIO} no longer matches the bare model: stages {found}, arrivals {rates}")


def run_engine(scenario: Scenario, seed: int) -> tuple[EngineRun, Tables]:
    t0 = time.perf_counter()
    model = Model(scenario, replication_seed(seed, 0))
    build_tables = model.recorder.tables
    tables_seconds = 0.0

    def timed_tables(*args: float) -> Tables:  # times the table building inside Model.run()
        nonlocal tables_seconds
        t = time.perf_counter()
        out = build_tables(*args)
        tables_seconds = time.perf_counter() - t
        return out

    model.recorder.tables = timed_tables  # type: ignore[method-assign]
    tables = model.run()
    seconds = time.perf_counter() - t0
    cleared = int((tables.trucks["status"] == "cleared").sum())
    return EngineRun(seconds, tables_seconds, len(tables.trucks), cleared, len(tables.stages)), tables


def run_bare(horizon: float, seed: int) -> BareRun:
    arrivals, services = bare_generators(replication_seed(seed, 0))  # seeding is not timed
    t0 = time.perf_counter()
    counts = bare_tandem(horizon, arrivals, services)
    seconds = time.perf_counter() - t0
    return BareRun(seconds, counts.created, counts.finished)


@dataclass
class CiwRun:
    seconds: float
    trucks: int
    cleared: int


def run_ciw(horizon: float, seed: int) -> CiwRun | None:
    """The tandem queue as a Ciw network, to the same horizon (None if Ciw is not installed)."""
    try:
        import ciw
    except ImportError:
        return None
    t0 = time.perf_counter()
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE), None, None],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / m) for m in MEANS],
        routing=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        number_of_servers=list(SERVERS),
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(horizon)
    records = simulation.get_all_records()
    seconds = time.perf_counter() - t0
    cleared = sum(1 for r in records if r.node == len(SERVERS))
    arrived = sum(1 for r in records if r.node == 1) + len(simulation.nodes[1].all_individuals)
    return CiwRun(seconds, arrived, cleared)


def load(trucks: int, monitor_interval: float) -> Scenario:
    horizon = trucks / RATE
    loaded = load_scenario(
        SCENARIO, overrides=[f"run.horizon={horizon}", f"run.monitor_interval={monitor_interval}"]
    )
    check_scenario(loaded.scenario)
    return loaded.scenario


@dataclass
class Memory:
    engine_peak_bytes: int
    engine_sim_peak_bytes: int  # peak before the tables are built (SimPy state + column buffers)
    engine_tables_bytes: int  # the final DataFrames (deep)
    bare_peak_bytes: int
    truck_stages: int

    @property
    def bytes_per_truck_stage(self) -> float:
        return self.engine_peak_bytes / self.truck_stages


def measure_memory(scenario: Scenario, seed: int, trucks: int) -> Memory:
    """Peak traced memory of one engine run and one bare run (untimed: tracemalloc is slow)."""
    gc.collect()
    tracemalloc.start()
    model = Model(scenario, replication_seed(seed, 0))
    build_tables = model.recorder.tables
    sim_peak = 0

    def traced_tables(*args: float) -> Tables:
        nonlocal sim_peak
        sim_peak = tracemalloc.get_traced_memory()[1]
        return build_tables(*args)

    model.recorder.tables = traced_tables  # type: ignore[method-assign]
    tables = model.run()
    engine_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    tables_bytes = sum(int(df.memory_usage(deep=True).sum()) for df in tables.as_dict().values())
    del model, tables
    gc.collect()
    arrivals, services = bare_generators(replication_seed(seed, 0))
    tracemalloc.start()
    bare_tandem(trucks / RATE, arrivals, services)
    bare_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Memory(engine_peak, sim_peak, tables_bytes, bare_peak, trucks * len(STAGES))


# ------------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------------
@dataclass
class Round:
    index: int
    order: str
    engine: EngineRun
    bare: BareRun
    ciw: CiwRun | None = None

    @property
    def ciw_speedup(self) -> float | None:
        """(Ciw s/truck) / (engine s/truck): how many times faster the engine is."""
        if self.ciw is None:
            return None
        return (self.ciw.seconds / self.ciw.trucks) / (self.engine.seconds / self.engine.trucks)

    @property
    def engine_rate(self) -> float:
        return self.engine.trucks / self.engine.seconds

    @property
    def bare_rate(self) -> float:
        return self.bare.trucks / self.bare.seconds

    @property
    def ratio(self) -> float:
        return self.bare_rate / self.engine_rate  # (engine s/truck) / (bare s/truck)


@dataclass
class Report:
    trucks_requested: int
    rounds: list[Round] = field(default_factory=list)
    memory: Memory | None = None

    @property
    def median_ratio(self) -> float:
        return statistics.median(r.ratio for r in self.rounds)

    @property
    def median_ciw_speedup(self) -> float | None:
        found = [r.ciw_speedup for r in self.rounds if r.ciw_speedup is not None]
        return statistics.median(found) if found else None

    def as_json(self, args: argparse.Namespace) -> dict[str, Any]:
        assert self.memory is not None
        return {
            "benchmark": "engine",
            "when": datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {
                "python": platform.python_version(),
                "simpy": simpy.__version__,
                "numpy": np.__version__,
                "pandas": pd.__version__,
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "settings": {
                "scenario": str(SCENARIO.relative_to(ROOT)),
                "trucks": self.trucks_requested,
                "horizon_hours": self.trucks_requested / RATE,
                "rounds": len(self.rounds),
                "seed": args.seed,
                "monitor_interval_hours": args.monitor_interval,
                "random_numbers": f"pre-drawn in numpy blocks of {BLOCK} in both models",
            },
            "rounds": [
                {
                    "round": r.index,
                    "order": r.order,
                    "engine": asdict(r.engine),
                    "bare": asdict(r.bare),
                    "engine_trucks_per_s": r.engine_rate,
                    "bare_trucks_per_s": r.bare_rate,
                    "cost_ratio": r.ratio,
                    "ciw": asdict(r.ciw) if r.ciw is not None else None,
                    "ciw_speedup": r.ciw_speedup,
                }
                for r in self.rounds
            ],
            "median_cost_ratio": self.median_ratio,
            "median_ciw_speedup": self.median_ciw_speedup,
            "memory": {**asdict(self.memory), "bytes_per_truck_stage": self.memory.bytes_per_truck_stage},
            "goals": {
                "cost_ratio": {"goal": COST_RATIO_GOAL, "met": self.median_ratio <= COST_RATIO_GOAL},
                "ciw_speedup": {
                    "goal": CIW_SPEEDUP_GOAL,
                    "met": (self.median_ciw_speedup or 0.0) >= CIW_SPEEDUP_GOAL,
                },
                "bytes_per_truck_stage": {
                    "goal": BYTES_PER_TRUCK_STAGE_GOAL,
                    "met": self.memory.bytes_per_truck_stage < BYTES_PER_TRUCK_STAGE_GOAL,
                },
            },
        }


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--trucks", type=int, default=200_000, help="expected trucks a run (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="engine/bare alternations (default 3)")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_TRUCKS} trucks, 1 round (CI)")
    parser.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    parser.add_argument("--monitor-interval", type=float, default=1.0, help="engine sampling, hours (1)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.smoke:
        args.trucks, args.rounds = SMOKE_TRUCKS, 1
    if args.trucks < 1 or args.rounds < 1:
        parser.error("--trucks and --rounds must be positive")

    print(
        f"engine benchmark: {SCENARIO.relative_to(ROOT)}, {args.trucks:,} trucks "
        f"(horizon {args.trucks / RATE:,.0f} h at {RATE}/h), {args.rounds} round(s), seed {args.seed}"
    )
    print(
        f"Python {platform.python_version()}, SimPy {simpy.__version__}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, {os.cpu_count()} CPUs"
    )
    print(
        "engine: Model(...).run(): records every truck-stage's queued/start/end times into columnar "
        "buffers,\n        samples queues every monitor interval and builds DataFrames at the end "
        "(included in its time)."
    )
    print("bare:   plain SimPy, one process per truck, records only a count of created/finished trucks.")
    print(f"both:   random numbers pre-drawn in numpy blocks of {BLOCK}, same streams (same trucks).")
    print("ciw:    the same network in Ciw, its own random numbers, compared per truck.\n")

    scenario = load(args.trucks, args.monitor_interval)
    warm = load(WARMUP_TRUCKS, args.monitor_interval)
    run_engine(warm, args.seed)  # untimed warm-up: first-call costs (pandas paths, caches)
    run_bare(WARMUP_TRUCKS / RATE, args.seed)
    run_ciw(WARMUP_TRUCKS / RATE, args.seed)

    report = Report(args.trucks)
    header = (
        f"{'round':>5} {'order':<16} {'engine trucks/s':>15} {'(tables s)':>10} "
        f"{'bare trucks/s':>13} {'ratio':>6} {'ciw trucks/s':>12} {'x ciw':>6}  same trucks"
    )
    print(header)
    print("-" * len(header))
    for k in range(1, args.rounds + 1):
        engine_first = k % 2 == 1
        engine = bare = ciw_run = None
        order = ("engine", "bare", "ciw") if engine_first else ("ciw", "bare", "engine")
        for which in order:
            gc.collect()
            if which == "engine":
                engine, tables = run_engine(scenario, args.seed)
                del tables
            elif which == "bare":
                bare = run_bare(scenario.run.horizon, args.seed)
            else:
                ciw_run = run_ciw(scenario.run.horizon, args.seed)
        assert engine is not None and bare is not None
        rnd = Round(k, ",".join(order), engine, bare, ciw_run)
        report.rounds.append(rnd)
        same = engine.trucks == bare.trucks and engine.cleared == bare.cleared
        print(
            f"{k:>5} {rnd.order:<16} {rnd.engine_rate:>15,.0f} {engine.tables_seconds:>10.3f} "
            f"{rnd.bare_rate:>13,.0f} {rnd.ratio:>6.2f} "
            + (
                f"{ciw_run.trucks / ciw_run.seconds:>12,.0f} {rnd.ciw_speedup:>6.2f}  "
                if ciw_run is not None
                else f"{'(no ciw)':>12} {'':>6}  "
            )
            + f"{'yes' if same else 'NO'} ({engine.trucks:,} created, {engine.cleared:,} finished"
            + ("" if same else f"; bare {bare.trucks:,} / {bare.cleared:,}")
            + ")"
        )
        sys.stdout.flush()

    gc.collect()
    report.memory = mem = measure_memory(scenario, args.seed, report.rounds[0].engine.trucks)
    ratio_met = report.median_ratio <= COST_RATIO_GOAL
    mem_met = mem.bytes_per_truck_stage < BYTES_PER_TRUCK_STAGE_GOAL
    per_ts = float(mem.truck_stages)
    last = report.rounds[-1].engine
    print()
    print(
        f"engine table building: {statistics.median(r.engine.tables_seconds for r in report.rounds):.3f} s "
        f"median ({100 * last.tables_seconds / last.seconds:.1f}% of the last engine run)"
    )
    print(
        f"median cost ratio (engine s/truck / bare s/truck): {report.median_ratio:.2f}   "
        f"goal <= {COST_RATIO_GOAL}: {_verdict(ratio_met)}"
    )
    speedup = report.median_ciw_speedup
    if speedup is None:
        print("Ciw not installed (pip install -e '.[bench]'): no Ciw comparison")
    else:
        print(
            f"median speed-up over Ciw (Ciw s/truck / engine s/truck): {speedup:.2f}   "
            f"goal >= {CIW_SPEEDUP_GOAL}: {_verdict(speedup >= CIW_SPEEDUP_GOAL)}"
        )
    print(
        f"engine peak memory (tracemalloc, separate untimed pass): "
        f"{mem.engine_peak_bytes / 2**20:,.1f} MiB "
        f"= {mem.bytes_per_truck_stage:.0f} bytes per truck-stage   "
        f"goal < {BYTES_PER_TRUCK_STAGE_GOAL:.0f}: {_verdict(mem_met)}"
    )
    print(
        f"  peak before table building {mem.engine_sim_peak_bytes / per_ts:.0f} B/truck-stage; "
        f"final DataFrames {mem.engine_tables_bytes / per_ts:.0f} B/truck-stage; "
        f"bare model peak {mem.bare_peak_bytes / per_ts:.1f} B/truck-stage"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_json(args), indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0  # a measurement, not a test: goals are reported, never enforced


if __name__ == "__main__":
    sys.exit(main())
