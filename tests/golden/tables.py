"""Golden-file regression check: fingerprints of every table of every committed scenario.

This is *not* a theory test: it pins the exact output of the model for the same seed, so that a change
meant to leave results alone (moving modules, speeding up the engine without changing its event order)
can prove it did. When a change legitimately alters the output (a new rule, a different but equally valid
event order), regenerate the file with ``python -m tests.golden.tables`` and say why in the commit; the
theory and property tests are what show the new output is still right.

Each scenario runs one replication from seed 2021 over a short horizon (a week, or 1000 h for the
queueing examples), and each table (and the replication's metrics) is reduced to a SHA-256 of
pandas' row hashes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
GOLDEN = Path(__file__).with_name("tables.json")
SEED = 2021


def committed_scenarios() -> list[Path]:
    return sorted(SCENARIOS.rglob("*.yaml"))


def short_run(path: Path, horizon: float) -> list[str]:
    """Overrides that cut a scenario to ``horizon``: a warm-up at least as long is dropped (the window
    would be all warm-up; the winter replay's is its November)."""
    from sim.scenario import load_scenario

    warmup = load_scenario(path).scenario.run.warmup
    return [f"run.horizon={horizon:g}", *(["run.warmup=0"] if warmup >= horizon else [])]


def horizon_override(path: Path) -> list[str]:
    return short_run(path, 1000 if "examples" in path.parts else 168)


def table_digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(",".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def fingerprints(path: Path) -> dict[str, str]:
    from sim.analysis.metrics import replication_metrics
    from sim.model import run_replication
    from sim.model.random_streams import replication_seed
    from sim.scenario import load_scenario

    scenario = load_scenario(path, horizon_override(path)).scenario
    tables = run_replication(scenario, replication_seed(SEED, 0))
    digests = {name: table_digest(df) for name, df in tables.as_dict().items()}
    digests["metrics"] = table_digest(replication_metrics(tables, scenario))
    return digests


def main() -> None:
    data = {p.relative_to(ROOT).as_posix(): fingerprints(p) for p in committed_scenarios()}
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} ({len(data)} scenarios)")


if __name__ == "__main__":
    main()
