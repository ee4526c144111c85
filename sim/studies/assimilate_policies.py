"""POLICY files of ``assimilate``: each policy run from the posterior particles, paired with the scenario.

After the filter, the final particles are resampled to equal weights (systematic), so that each is one
draw of the posterior (its inputs and its state at the last observation time). Every variant (the
scenario, then each policy file, which ``extends:`` it) continues each particle from that state to
``until + days`` with the particle's inputs (the forecast's scheme: a scenario whose ``run.start`` is the
last observation time and whose ``run.initial_state`` is the particle's state), the same seed for every
variant: common random numbers, so a policy's difference from the scenario is paired particle by
particle (:func:`sim.analysis.compare.comparison`) and its decision summary is ``forecast``'s
(:func:`sim.analysis.decision.decide`). A policy acts from the last observation on: what its file
changes before that time is already in the state (a dated change before it acts from the start of the
run, as in ``forecast``); its outcomes are of the days from that time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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
from sim.scenario.loader import read_document

POLICY_SALT = 0x901
SEED_SALT = 0xA551


def derived_seed(root_seed: int, salt: int) -> int:
    """The root seed of one filter's (or the policies') runs: the study's own for salt 0, else one drawn
    from both. Replications stay small numbers (a replication's seed is spawned from its root, at a cost
    that grows with its number)."""
    if salt == 0:
        return root_seed
    return int(np.random.SeedSequence([root_seed, SEED_SALT, salt]).generate_state(1, np.uint64)[0] >> 1)


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
    twin: Any, found: Filtered, policies: Sequence[str | Path], start: datetime, end: datetime
) -> tuple[pd.DataFrame, dict[str, Decision]]:
    """The comparison table of the variants over the posterior particles, and each policy's decision."""
    rng = np.random.default_rng([twin.root_seed, POLICY_SALT])
    pick = systematic(found.weights, rng)
    u = found.u[pick]
    states = [found.states[i] if found.states is not None else None for i in pick]
    documents = [twin.document, *((Path(p), *read_document(p)) for p in policies)]
    per_rep: dict[str, pd.DataFrame] = {}
    root = derived_seed(twin.root_seed, POLICY_SALT)  # apart from the segments; the same for every variant
    unmodelled: dict[str, set[str]] = {}
    for document in documents:
        tasks, name = [], ""
        for k, (point, state) in enumerate(zip(u, states, strict=True)):
            s = twin.particle_scenario(point, start, end, state, document)
            name = s.name
            tasks.append(Task(s, root, k, reduce=replication_metrics))
        frames: list[pd.DataFrame | None] = [None] * len(tasks)

        def collect(k: int, outcome: Outcome, frames=frames) -> None:
            outcome.raise_problems()
            if outcome.failed:
                raise RuntimeError(f"particle {k} failed: {outcome.error}")
            frames[k] = outcome.value.assign(replication=k)  # pairs by particle, not by seed

        run_tasks(tasks, twin.backend, collect, pool=twin.pool)
        per_rep[name] = pd.concat(frames, ignore_index=True)
        unmodelled[name] = not_modelled(tasks[0].scenario)
    names = list(per_rep)
    comp = comparison(per_rep, names[0], unmodelled=unmodelled)
    ref = MetricRef(DEFAULT_OBJECTIVE)
    decisions = {n: decide(comp[comp["scenario"].isin([names[0], n])], ref) for n in names[1:]}
    return comp, decisions
