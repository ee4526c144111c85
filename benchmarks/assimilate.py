"""Time and memory of ``assimilate`` (issue 30, row 5): 64 particles over the winter replay with 10
observations, or (``--smoke``) 8 particles over the M/M/1 twin. Prints wall time, the filter's runs and
the peak resident memory of this process and of its workers (each particle keeps its counts only).

    python benchmarks/assimilate.py --smoke
    python benchmarks/assimilate.py            # the winter replay: long (each particle is one full run)
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's sim, not an installed one


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--particles", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    from sim.studies.assimilate import assimilate
    from sim.studies.options import StudyOptions

    if args.smoke:
        scenario = ROOT / "data" / "twins" / "mm1_twin.yaml"
        observed = ROOT / "data" / "twins" / "mm1_observed.csv"
        particles = args.particles or 8
    else:
        scenario = ROOT / "scenarios" / "lang_son" / "winter_2021_22.yaml"
        observed = ROOT / "data" / "assimilate_winter_twin.csv"
        particles = args.particles or 64
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        result = assimilate(
            scenario,
            StudyOptions(root=Path(root), jobs=args.jobs),
            observed=observed,
            particles=particles,
            days=3.0,
        )
        seconds = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{scenario.name}: {particles} particles, {len(result.ess)} steps, {result.runs} runs")
    print(f"wall {seconds:.1f} s; peak memory: command {own:.0f} MB, largest worker {workers:.0f} MB")


if __name__ == "__main__":
    main()
