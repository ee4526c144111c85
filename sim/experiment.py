"""Experiments: replications of a scenario, written to the results store with a manifest.

Replication k of every scenario uses the k-th seed spawned from ``SeedSequence(root seed)``, so two
policies run with the same root seed are compared under common random numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from sim.analysis.summary import clearance_summary
from sim.model import run_replication
from sim.random_streams import replication_seed
from sim.results import staged_folder, versions, write_json_atomic, write_replication
from sim.scenario import LoadedScenario, resolved_yaml


@dataclass
class ExperimentResult:
    folder: Path
    summary: pd.DataFrame  # per gate and direction, averaged over replications
    trucks_simulated: int


def seed_record(root_seed: int, replication: int) -> dict[str, object]:
    seq = replication_seed(root_seed, replication)
    return {"replication": replication, "entropy": seq.entropy, "spawn_key": list(seq.spawn_key)}


def run_experiment(
    loaded: LoadedScenario,
    out: Path,
    seed: int,
    replications: int,
    argv: Sequence[str] = (),
    on_progress: Callable[[int], None] | None = None,
) -> ExperimentResult:
    """Run ``replications`` replications one after another into the run folder ``out`` (atomically)."""
    scenario = loaded.scenario
    started_at = datetime.now().astimezone()
    summaries = []
    timings = []
    trucks_total = 0
    with staged_folder(out) as tmp:
        (tmp / "scenario.yaml").write_text(resolved_yaml(loaded), encoding="utf-8")
        for rep in range(replications):
            t0 = time.perf_counter()
            tables = run_replication(scenario, replication_seed(seed, rep))
            write_replication(tmp, rep, tables)
            timings.append(time.perf_counter() - t0)
            trucks_total += len(tables.trucks)
            s = clearance_summary(tables.trucks, scenario.run.unit_hours, scenario.run.warmup)
            s.insert(0, "replication", rep)
            summaries.append(s)
            if on_progress is not None:
                on_progress(rep + 1)
        per_rep = pd.concat(summaries, ignore_index=True)
        per_rep.to_csv(tmp / "summary_by_replication.csv", index=False)
        mean = (
            per_rep.drop(columns="replication")
            .groupby(["gate", "direction"], sort=False, observed=True)
            .mean(numeric_only=True)
            .reset_index()
        )
        manifest = {
            "scenario": scenario.name,
            "scenario_files": [str(f) for f in loaded.files],
            "overrides": list(loaded.overrides),
            "root_seed": seed,
            "replications": replications,
            "seeds": [seed_record(seed, r) for r in range(replications)],
            "versions": versions(),
            "command": list(argv),
            "started": started_at.isoformat(),
            "finished": datetime.now().astimezone().isoformat(),
            "replication_seconds": timings,
            "trucks_simulated": trucks_total,
            "counts": per_rep.loc[
                per_rep["gate"] == "all", ["replication", "arrived", "cleared", "inside"]
            ].to_dict(orient="records"),
            "time_unit": scenario.run.time_unit,
            "calendar_start": scenario.run.start.isoformat(),
        }
        write_json_atomic(tmp / "manifest.json", manifest)
    return ExperimentResult(out, mean, trucks_total)
