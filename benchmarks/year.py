"""The calibrated Lang Son year: engine cost, its ratio to a plain heapq loop, the winter replay, memory,
the standard study's projected time, and cost against the number of trucks.

What runs, all in this one process, one core, side by side (the order of the three alternates by round):
    * engine (SimPy): ``run_replication`` on ``scenarios/lang_son/base_2021_calibrated.yaml``, SimPy's
      event loop as the kernel (the default, the reference), tables built at the end (included);
    * engine (heap): the same model on the bare heapq kernel (``run.kernel: heap``);
    * plain: ``benchmarks/plain_year.py``, the same rules written as one flat heapq loop by hand, writing
      the same record buffers and building the same tables.
    The three must give identical tables for the seed (checked before any ratio is printed): the ratio
    then compares the same work. CPU time is ``time.process_time`` around build + run + tables.

Then (engine, SimPy kernel):
    * winter replay ``winter_2021_22.yaml`` (151 days from 1 Nov 2021: closures, caps and backlogs): CPU
      per truck against the year's (goal: no slower per truck);
    * memory: a fresh child process runs the year and reports its peak resident memory above what it
      held before the run, per truck-stage (goal <= 300 B);
    * the standard study (7 policies x 20 replications of the year) projected on 2 cores from the measured
      CPU per replication (simulation + the replication's metrics) (goal <= 12 minutes);
    * scaling: 0.25x, 0.5x, 1x, 2x and 4x the year's arrivals (``demand.scale``) and a 4-year horizon;
      CPU per truck should stay flat (cost linear in trucks).

Goals (issue 10): year <= 10 s CPU on a quiet machine; engine / plain <= 1.5; winter per truck <= year
per truck; <= 300 B per truck-stage; study <= 12 min on 2 cores. The script always exits 0 (a
measurement, not a test) and prints whether each goal was met, with the machine and its load.

Usage::

    python benchmarks/year.py                 # 2 rounds of the year, winter, memory, scaling (~6 min)
    python benchmarks/year.py --smoke         # one week of each, seconds (CI)
    python benchmarks/year.py --rounds 3 --no-scaling --json /tmp/year.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_year import plain_year

from sim.analysis.metrics import replication_metrics
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.model.records import Tables
from sim.scenario import Scenario, load_scenario
from sim.version import build

ROOT = Path(__file__).resolve().parent.parent
YEAR = ROOT / "scenarios" / "lang_son" / "base_2021_calibrated.yaml"
WINTER = ROOT / "scenarios" / "lang_son" / "winter_2021_22.yaml"
SEED = 2021
YEAR_CPU_GOAL = 10.0
PLAIN_RATIO_GOAL = 1.5
BYTES_GOAL = 300.0
STUDY_GOAL_MIN = 12.0
STUDY_RUNS, STUDY_CORES = 7 * 20, 2
SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "load_average": os.getloadavg(),
        "build": build(),  # the model's core interpreted or compiled with mypyc (issue 32)
        "sim": str(Path(sys.modules["sim"].__file__ or "?").parent),  # which tree was measured
    }


def cpu(fn: Callable[[], Tables]) -> tuple[float, Tables]:
    """CPU seconds of one call (after a garbage collection), and its result."""
    gc.collect()
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def load(path: Path, *overrides: str) -> Scenario:
    return load_scenario(path, list(overrides)).scenario


def same_tables(a: Tables, b: Tables) -> bool:
    for name, table in a.as_dict().items():
        try:
            pd.testing.assert_frame_equal(table, b.as_dict()[name], check_exact=True)
        except AssertionError:
            return False
    return True


def compare_year(scenario: Scenario, rounds: int) -> dict[str, Any]:
    """Engine (SimPy kernel), engine (heap kernel) and the plain loop, alternating, on one core."""
    runs: dict[str, Callable[[], Tables]] = {
        "engine (SimPy)": lambda: run_replication(scenario, replication_seed(SEED, 0), kernel="simpy"),
        "engine (heap)": lambda: run_replication(scenario, replication_seed(SEED, 0), kernel="heap"),
        "plain heapq": lambda: plain_year(scenario, replication_seed(SEED, 0)),
    }
    names = list(runs)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    identical = None
    size = (0, 0)
    for k in range(rounds):
        order = names if k % 2 == 0 else names[::-1]
        results = {}
        for name in order:
            s, results[name] = cpu(runs[name])
            seconds[name].append(s)
        if identical is None:
            ref = results[names[0]]
            identical = all(same_tables(ref, results[n]) for n in names[1:])
            size = (len(ref.trucks), len(ref.stages))
        print(
            f"  round {k + 1} ({', '.join(order)}): "
            + ", ".join(f"{n} {seconds[n][-1]:.2f} s" for n in names)
        )
        sys.stdout.flush()
        del results
    median = {n: statistics.median(v) for n, v in seconds.items()}
    return {
        "seconds": seconds,
        "median": median,
        "identical": identical,
        "trucks": size[0],
        "truck_stages": size[1],
    }


def per_truck_us(path: Path, *overrides: str) -> dict[str, Any]:
    """Engine CPU per truck (microseconds) for one scenario."""
    scenario = load(path, *overrides)
    s, tables = cpu(lambda: run_replication(scenario, replication_seed(SEED, 0)))
    n = len(tables.trucks)
    return {"cpu_s": s, "trucks": n, "truck_stages": len(tables.stages), "us_per_truck": 1e6 * s / max(n, 1)}


_MEMORY_CHILD = """
import json, sys
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'):
            return int(line.split()[1]) * 1024
s = load_scenario(sys.argv[1], sys.argv[2:]).scenario
before = status('VmRSS')
t = run_replication(s, replication_seed(%d, 0))
peak = status('VmHWM')  # not ru_maxrss: it keeps the forking parent's size across exec
print(json.dumps({'before': before, 'peak': peak, 'truck_stages': len(t.stages), 'trucks': len(t.trucks)}))
"""


def memory(path: Path, *overrides: str) -> dict[str, Any]:
    """Peak resident memory of a fresh process running one replication, above what it held before."""
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD % SEED, str(path), *overrides],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    found["bytes_per_truck_stage"] = (found["peak"] - found["before"]) / max(found["truck_stages"], 1)
    return found


def study_projection(scenario: Scenario) -> dict[str, Any]:
    """Minutes for 7 policies x 20 replications on 2 cores, from one replication's CPU (with metrics)."""

    def one() -> Tables:
        tables = run_replication(scenario, replication_seed(SEED, 1))
        replication_metrics(tables, scenario)
        return tables

    s, _ = cpu(one)
    return {"cpu_per_replication_s": s, "minutes": STUDY_RUNS * s / STUDY_CORES / 60.0}


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the three (default 2)")
    parser.add_argument("--smoke", action="store_true", help="one simulated week of everything (CI)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling runs")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    # one week, with no warm-up (the winter replay's warm-up of November is longer than a week)
    short = ("run.horizon=168", "run.warmup=0") if args.smoke else ()
    rounds = 1 if args.smoke else args.rounds
    info = machine()
    print(
        f"year benchmark on {info['cpu']} ({info['cpus']} CPUs), "
        f"Python {info['python']}, SimPy {info['simpy']}"
    )
    print(f"model core: {info['build']} ({info['sim']})")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in info['load_average'])}")
    report: dict[str, Any] = {"machine": info, "smoke": args.smoke}

    year = load(YEAR, *short)
    run_replication(load(YEAR, "run.horizon=48"), replication_seed(SEED, 0))  # warm-up, untimed
    print(f"\n1. {YEAR.relative_to(ROOT)}{' (one week)' if args.smoke else ''}: CPU s, build + run + tables")
    cmp = report["year"] = compare_year(year, rounds)
    med = cmp["median"]
    ratio = med["engine (SimPy)"] / med["plain heapq"]
    heap_ratio = med["engine (heap)"] / med["plain heapq"]
    print(
        f"  {cmp['trucks']:,} trucks, {cmp['truck_stages']:,} truck-stages; identical tables: "
        f"{'yes' if cmp['identical'] else 'NO'}"
    )
    print("  median CPU: " + ", ".join(f"{n} {s:.2f} s" for n, s in med.items()))
    print(
        f"  engine (SimPy) / plain = {ratio:.2f}; engine (heap) / plain = {heap_ratio:.2f}"
        f"   goal <= {PLAIN_RATIO_GOAL}: SimPy {verdict(ratio <= PLAIN_RATIO_GOAL)}, "
        f"heap {verdict(heap_ratio <= PLAIN_RATIO_GOAL)}"
    )
    if not args.smoke:
        print(
            f"  year CPU, SimPy kernel {med['engine (SimPy)']:.2f} s, "
            f"heap kernel {med['engine (heap)']:.2f} s   goal <= {YEAR_CPU_GOAL:.0f} s: "
            f"SimPy {verdict(med['engine (SimPy)'] <= YEAR_CPU_GOAL)}, "
            f"heap {verdict(med['engine (heap)'] <= YEAR_CPU_GOAL)}"
        )
    report["ratios"] = {"engine_simpy_over_plain": ratio, "engine_heap_over_plain": heap_ratio}

    print(f"\n2. winter replay {WINTER.relative_to(ROOT)} against the year, per truck (engine, SimPy kernel)")
    normal = per_truck_us(YEAR, *short)
    winter = per_truck_us(WINTER, *short)
    report["winter"] = {"year": normal, "winter": winter}
    print(
        f"  year   {normal['trucks']:>9,} trucks {normal['cpu_s']:7.2f} s  "
        f"{normal['us_per_truck']:6.1f} us/truck"
    )
    print(
        f"  winter {winter['trucks']:>9,} trucks {winter['cpu_s']:7.2f} s  "
        f"{winter['us_per_truck']:6.1f} us/truck"
        f"   goal <= year: {verdict(winter['us_per_truck'] <= normal['us_per_truck'])}"
        f" ({winter['us_per_truck'] / normal['us_per_truck']:.2f}x)"
    )

    print("\n3. memory: a fresh process runs the year; peak resident memory above its size before the run")
    mem = report["memory"] = memory(YEAR, *short)
    print(
        f"  {(mem['peak'] - mem['before']) / 2**20:,.0f} MiB for {mem['truck_stages']:,} truck-stages = "
        f"{mem['bytes_per_truck_stage']:.0f} B/truck-stage   goal <= {BYTES_GOAL:.0f}: "
        f"{verdict(mem['bytes_per_truck_stage'] <= BYTES_GOAL)}"
    )

    print(f"\n4. the standard study ({STUDY_RUNS} replications of the year) projected on {STUDY_CORES} cores")
    study = report["study"] = study_projection(year)
    print(
        f"  {study['cpu_per_replication_s']:.2f} s CPU a replication (simulation + metrics) -> "
        f"{study['minutes']:.1f} min"
        + (
            ""
            if args.smoke
            else f"   goal <= {STUDY_GOAL_MIN:.0f}: {verdict(study['minutes'] <= STUDY_GOAL_MIN)}"
        )
    )

    if not args.no_scaling:
        print(
            "\n5. scaling: CPU per truck against arrivals (demand.scale x the calibrated scale) and horizon"
        )
        base_scale = year.demand.scale if year.demand is not None else 1.0
        rows = []
        cases = [(f"{f}x arrivals", (f"demand.scale={base_scale * f}",)) for f in SCALES]
        cases.append(("4-year horizon", ("run.horizon=35040",)))
        for label, overrides in cases:
            found = per_truck_us(YEAR, *overrides, *short)
            rows.append({"case": label, **found})
            print(
                f"  {label:<15} {found['trucks']:>10,} trucks {found['cpu_s']:8.2f} s "
                f"{found['us_per_truck']:6.1f} us/truck"
            )
            sys.stdout.flush()
        report["scaling"] = rows
        per = [r["us_per_truck"] for r in rows]
        print(f"  us/truck from {min(per):.1f} to {max(per):.1f} (max/min {max(per) / min(per):.2f})")
    info_end = os.getloadavg()
    report["load_average_at_end"] = info_end
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in info_end)}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
