"""Golden-file regression check: fingerprints of every table of every committed scenario.

This is *not* a theory test: it pins the exact output of the model for the same seed, so that a change
meant to leave results alone (moving modules, speeding up the engine without changing its event order)
can prove it did. When a change legitimately alters the output (a new rule, a different but equally valid
event order), regenerate the file with ``python -m tests.golden.tables`` and say why in the commit; the
theory and property tests are what show the new output is still right.

Each scenario runs one replication from seed 2021 over a short horizon (a week, or 1000 h for the
queueing examples), and each table (and the replication's metrics) is reduced to a SHA-256 of its
values (:func:`table_digest`): a digest of what the table says, not of how a library stores it, so that
pandas 2 and 3 (categorical, object or ``str`` text; int32 or int64) give the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
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


def column_bytes(column: pd.Series) -> bytes:
    """The values of a column in one canonical form per kind: booleans as bytes, integers as little-endian
    int64, reals as little-endian float64 (one NaN, no negative zero), anything else (categorical, object or
    string text) as the JSON list of its values' text, a missing value as null. Each is prefixed by its
    kind, so that ``1`` and ``"1"`` differ."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return b"b" + column.to_numpy(dtype=np.uint8).tobytes()
    if pd.api.types.is_integer_dtype(column.dtype) and not column.hasnans:
        return b"i" + column.to_numpy(dtype="<i8").tobytes()
    if pd.api.types.is_float_dtype(column.dtype):
        reals = column.to_numpy(dtype="<f8", na_value=np.nan) + 0.0  # -0.0 + 0.0 is 0.0
        return b"f" + np.where(np.isnan(reals), np.nan, reals).astype("<f8").tobytes()
    text = [None if pd.isna(v) else str(v) for v in column.astype(object).tolist()]
    return b"s" + json.dumps(text, ensure_ascii=False).encode("utf-8")


def table_digest(df: pd.DataFrame) -> str:
    """SHA-256 of a table's column names and values (see :func:`column_bytes`), row order included."""
    h = hashlib.sha256()
    h.update(str(len(df)).encode())
    for name in df.columns:
        data = column_bytes(df[name])
        h.update(f"\x1e{name}\x1e{len(data)}\x1e".encode())
        h.update(data)
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
