"""Time and memory of ``assimilate`` (issue 30, row 5): 64 particles over the winter replay with 10
observations, or (``--smoke``) 8 particles over the M/M/1 twin. Prints wall time, the filter's runs and
the peak resident memory of this process and of its workers (each particle keeps its counts only; the
workers' peaks are sampled from /proc every second, so Linux only).

    python benchmarks/assimilate.py --smoke
    python benchmarks/assimilate.py            # the winter replay (each particle simulates the span once)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's sim, not an installed one


def _tree_peaks(root: int) -> dict[int, int]:
    """Each live descendant process's peak resident memory in kB (VmHWM, Linux /proc): the workers are
    children of the forkserver, not of this process, so getrusage(RUSAGE_CHILDREN) never sees them."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parents[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    peaks = {}
    for pid in tree - {root}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1])
        except OSError:
            continue
    return peaks


def _watch(peaks: dict[int, int], stop: threading.Event) -> None:
    """Sample the process tree's peaks every second until ``stop``."""
    me = os.getpid()
    while not stop.wait(1.0):
        for pid, kb in _tree_peaks(me).items():
            peaks[pid] = max(kb, peaks.get(pid, 0))


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
    peaks: dict[int, int] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(peaks, stop), daemon=True)
    watcher.start()
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
    stop.set()
    watcher.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = max(peaks.values(), default=0) / 1024
    print(
        f"{scenario.name}: {particles} particles, {len(result.ess)} steps, {result.runs} runs "
        f"(segments), {result.simulated_days:.0f} particle-days simulated"
    )
    print(
        f"wall {seconds:.1f} s ({seconds / max(result.runs, 1):.1f} s a run with {args.jobs} jobs); "
        f"peak memory: command {own:.0f} MB, largest worker {workers:.0f} MB (of {len(peaks)} processes)"
    )


if __name__ == "__main__":
    main()
