"""POLICY files of ``assimilate``: each policy run from the posterior particles, paired with the scenario.

After the filter, the final particles are resampled to equal weights (systematic), so that each is one
draw of the posterior (inputs and seed). Every variant (the scenario, then each policy file, which
``extends:`` it) is run once per particle with that particle's inputs and its seed as the replication:
common random numbers, so a policy's difference from the scenario is paired particle by particle
(:func:`sim.analysis.compare.comparison`) and its decision summary is ``forecast``'s
(:func:`sim.analysis.decision.decide`). **Scheme**: as the filter re-simulates from the start, a policy
acts over the whole run to ``until + days`` (what its file says, from the dates its file gives); the
outcomes are of that run. A policy meant to start today says so by its own dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.compare import comparison
from sim.analysis.decision import DEFAULT_OBJECTIVE, Decision, MetricRef, decide
from sim.analysis.metrics import not_modelled, replication_metrics
from sim.analysis.smc import Filtered, systematic
from sim.errors import UserError
from sim.runner.pool import run_tasks
from sim.runner.tasks import Outcome, Task
from sim.scenario import load_scenario
from sim.scenario.uncertain import override

POLICY_SALT = 0x901


def check_policies(twin: Any, policies: Sequence[str | Path]) -> list[Any]:
    """Each policy file loaded (with the study's --set values) before anything runs; names distinct."""
    loaded = [load_scenario(p, twin.overrides).scenario for p in policies]
    names = [twin.scenario.name, *(s.name for s in loaded)]
    if len(set(names)) < len(names):
        raise UserError.single(
            None, "POLICY", f"two variants have the same name ({', '.join(names)}): rename one"
        )
    return loaded


def run_policies(
    twin: Any, found: Filtered, policies: Sequence[str | Path], end: datetime
) -> tuple[pd.DataFrame, dict[str, Decision]]:
    """The comparison table of the variants over the posterior particles, and each policy's decision."""
    rng = np.random.default_rng([twin.root_seed, POLICY_SALT])
    pick = systematic(found.weights, rng)
    u, seeds = found.u[pick], found.seeds[pick]
    hours = (end - twin.scenario.run.start) / timedelta(hours=1)
    run = [f"run.horizon={hours / twin.scenario.run.unit_hours!r}", "run.warmup=0"]
    paths = [twin.path, *policies]
    per_rep: dict[str, pd.DataFrame] = {}
    unmodelled: dict[str, set[str]] = {}
    for path in paths:
        tasks, name = [], ""
        for point, seed in zip(u, seeds, strict=True):
            sets = [override(k, v) for k, v in twin.inputs.settings(point).items()]
            s = load_scenario(path, [*twin.overrides, *run, *sets]).scenario
            name = s.name
            tasks.append(Task(s, twin.root_seed, int(seed), reduce=replication_metrics))
        frames: list[pd.DataFrame | None] = [None] * len(tasks)

        def collect(k: int, outcome: Outcome, frames=frames) -> None:
            outcome.raise_problems()
            if outcome.failed:
                raise RuntimeError(f"particle {k} failed: {outcome.error}")
            frames[k] = outcome.value.assign(replication=k)  # pairs by particle, not by seed

        run_tasks(tasks, twin.backend, collect)
        per_rep[name] = pd.concat(frames, ignore_index=True)
        unmodelled[name] = not_modelled(tasks[0].scenario)
    names = list(per_rep)
    comp = comparison(per_rep, names[0], unmodelled=unmodelled)
    ref = MetricRef(DEFAULT_OBJECTIVE)
    decisions = {n: decide(comp[comp["scenario"].isin([names[0], n])], ref) for n in names[1:]}
    return comp, decisions
