"""Parallel replications benchmark: the same experiment with --jobs 1 and --jobs 2, wall time and speed-up.

What is measured
    ``scenarios/lang_son_minimal.yaml`` with its horizon stretched (default 16 weeks instead of 4, so one
    replication takes a few seconds and start-up costs do not flatter or hide anything), 8 replications,
    run exactly as ``bordersim run`` runs them:
    :func:`sim.runner.experiment.run_experiments` on a local process
    pool, every table and the metrics written to Parquet in a fresh run folder, the manifest updated after
    every replication and the summary written at the end. The wall time covers all of it, pool start-up
    included.

Why the comparison is fair
    Both runs do the same work: same scenario, root seed and replications (the script checks that the
    two folders hold identical metrics). An untimed warm-up run first starts the fork server that local
    workers are forked from (a once-per-process cost of about a second), so neither setting pays it
    alone. They alternate over rounds (``--jobs 1`` first, then second), and
    the speed-up reported is the median over rounds of (time with 1 job) / (time with 2 jobs).

Goal: speed-up >= 1.8 on 2 cores. The script always exits 0 (a measurement, not a test) and prints
whether the goal was met. ``--smoke`` (CI) runs 2 short replications per setting, one round: it checks
that the benchmark and the parallel path run, not the speed-up.

Usage::

    python benchmarks/parallel.py                    # 8 replications x 2688 h, 2 rounds
    python benchmarks/parallel.py --smoke            # CI: 2 replications x 96 h, 1 round
    python benchmarks/parallel.py --replications 16 --horizon 8760 --rounds 3 --json parallel.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

from sim.runner.backends import Backend
from sim.runner.experiment import NEW, Experiment, plan, run_experiments
from sim.scenario import load_scenario
from sim.store.tables import METRICS, read_table

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "lang_son_minimal.yaml"
SPEEDUP_GOAL = 1.8


def timed_run(horizon: float, replications: int, jobs: int, seed: int, folder: Path) -> tuple[float, int]:
    """Wall seconds of one experiment with ``jobs`` workers, and the trucks it simulated."""
    loaded = load_scenario(SCENARIO, [f"run.horizon={horizon}"])
    exp = Experiment(loaded, folder, seed, replications)
    plan(exp, NEW)
    t0 = time.perf_counter()
    failures = run_experiments([exp], Backend(jobs=jobs))
    seconds = time.perf_counter() - t0
    if failures:
        raise SystemExit(f"replication {failures[0].replication} failed: {failures[0].error}")
    return seconds, sum(info["trucks"] for info in exp.info.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--replications", type=int, default=8, help="replications per run (default 8)")
    parser.add_argument("--horizon", type=float, default=2688.0, help="hours (default 2688 = 16 weeks)")
    parser.add_argument("--rounds", type=int, default=2, help="jobs-1/jobs-2 alternations (default 2)")
    parser.add_argument("--seed", type=int, default=2021, help="root seed (default 2021)")
    parser.add_argument("--smoke", action="store_true", help="2 replications x 96 h, 1 round (CI)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.smoke:
        args.replications, args.horizon, args.rounds = 2, 96.0, 1
    if args.replications < 1 or args.rounds < 1 or args.horizon <= 48:
        parser.error("--replications and --rounds must be positive and --horizon over 48 h (the warm-up)")

    print(
        f"parallel benchmark: {SCENARIO.relative_to(ROOT)} with run.horizon={args.horizon:g} h, "
        f"{args.replications} replications, root seed {args.seed}, {args.rounds} round(s)"
    )
    print(f"Python {platform.python_version()}, pandas {pd.__version__}, {os.cpu_count()} CPUs")
    print("each run: bordersim's own path (local process pool, Parquet tables + metrics, manifest)\n")
    print(f"{'round':>5} {'jobs':>4} {'wall s':>8} {'s/replication':>13} {'trucks':>10}")
    scratch = Path(tempfile.mkdtemp(prefix="bordersim-parallel-"))
    rounds = []
    try:
        # untimed warm-up: start the fork server (it imports the package once per process) and the
        # first-call costs, so that neither setting pays them alone
        timed_run(96.0, 2, 2, args.seed, scratch / "warm-up")
        for k in range(1, args.rounds + 1):
            times = {}
            for jobs in (1, 2):
                folder = scratch / f"round{k}-jobs{jobs}"
                seconds, trucks = timed_run(args.horizon, args.replications, jobs, args.seed, folder)
                times[jobs] = seconds
                print(
                    f"{k:>5} {jobs:>4} {seconds:>8.2f} {seconds / args.replications:>13.2f} {trucks:>10,}",
                    flush=True,
                )
            same = read_table(scratch / f"round{k}-jobs1", METRICS).equals(
                read_table(scratch / f"round{k}-jobs2", METRICS)
            )
            rounds.append({"round": k, "jobs1_s": times[1], "jobs2_s": times[2], "identical": same})
            shutil.rmtree(scratch / f"round{k}-jobs1")
            shutil.rmtree(scratch / f"round{k}-jobs2")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    speedup = statistics.median(r["jobs1_s"] / r["jobs2_s"] for r in rounds)
    identical = all(r["identical"] for r in rounds)
    met = speedup >= SPEEDUP_GOAL
    print(f"\nidentical metrics with 1 and 2 jobs: {'yes' if identical else 'NO'}")
    print(
        f"median speed-up (wall time with 1 job / with 2 jobs): {speedup:.2f}   goal >= {SPEEDUP_GOAL}: "
        + ("MET" if met else "NOT MET")
        + (" (smoke run: too short to judge)" if args.smoke else "")
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "benchmark": "parallel",
            "when": datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
            "settings": {
                "scenario": str(SCENARIO.relative_to(ROOT)),
                "horizon_hours": args.horizon,
                "replications": args.replications,
                "seed": args.seed,
                "smoke": args.smoke,
            },
            "rounds": rounds,
            "median_speedup": speedup,
            "identical": identical,
            "goal": {"speedup": SPEEDUP_GOAL, "met": met},
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0  # a measurement, not a test


if __name__ == "__main__":
    sys.exit(main())
