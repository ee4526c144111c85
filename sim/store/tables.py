"""The results store: Parquet tables and a manifest, written so that a crash never leaves half a file.

Layout of one run folder ``results/<scenario>/<label>/``::

    manifest.json        what produced it: scenario files, overrides, seeds, versions, times, counts, and
                         whether the run is complete (``complete``, ``done``, ``missing``, ``failed``)
    scenario.yaml        the fully resolved scenario (extends and overrides applied)
    summary.csv          every metric across replications: mean and 95% t-interval (once complete)
    metrics/rep-0000.parquet                        one replication's metrics (written last: marks it done)
    trucks/rep-0000.parquet, stages/..., gate_series/..., stage_series/..., closures/...   its tables

Each replication's files are written as soon as it finishes, each to a temporary name and then
``os.replace``d, so any file that exists is whole; the metrics file is written after the tables, so a
replication whose metrics file exists is complete. An interrupted experiment therefore keeps every
finished replication readable, and resuming it runs exactly the replications without a metrics file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim.model.records import Tables

TABLES = tuple(f.name for f in dataclasses.fields(Tables))
METRICS = "metrics"  # per-replication metrics; its file marks a replication as done
MANIFEST = "manifest.json"
_REP_FILE = re.compile(r"rep-(\d+)\.parquet")


def versions() -> dict[str, str]:
    import numpy
    import pyarrow
    import pydantic
    import simpy

    return {
        "bordersim": sim.__version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
        "pydantic": pydantic.__version__,
    }


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: str | Path, target: Path, mode: int = 0o666) -> None:
    """Give a temporary file the permissions a plain write would have, then move it into place."""
    os.chmod(tmp, mode & ~_umask())
    os.replace(tmp, target)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    write_bytes_atomic(path, (json.dumps(obj, indent=2, default=str) + "\n").encode("utf-8"))


def write_table(folder: Path, name: str, replication: int, df: pd.DataFrame) -> None:
    """Write one table of one replication to ``folder/name/rep-NNNN.parquet`` atomically."""
    df = df.copy()
    df.insert(0, "replication", replication)
    target = Path(folder) / name / f"rep-{replication:04d}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        _publish(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_replication(
    folder: Path, replication: int, tables: Tables | None, metrics: pd.DataFrame | None = None
) -> None:
    """Write one replication: its tables (if kept), then its metrics, which mark it as done."""
    if tables is not None:
        for name, df in tables.as_dict().items():
            write_table(folder, name, replication, df)
    if metrics is not None:
        write_table(folder, METRICS, replication, metrics)


def done_replications(folder: Path) -> set[int]:
    """Replications of a run folder whose files are all written (their metrics file exists)."""
    files = (Path(folder) / METRICS).glob("rep-*.parquet")
    return {int(m.group(1)) for f in files if (m := _REP_FILE.fullmatch(f.name))}


def read_table(folder: Path, name: str, replications: Iterable[int] | None = None) -> pd.DataFrame:
    """All replications of a table (or those listed), concatenated; column ``replication`` tells which."""
    files = sorted((Path(folder) / name).glob("rep-*.parquet"))
    if replications is not None:
        wanted = {f"rep-{r:04d}.parquet" for r in replications}
        files = [f for f in files if f.name in wanted]
    if not files:
        raise FileNotFoundError(f"no '{name}' table under {folder}")
    return pd.concat((pd.read_parquet(f) for f in files), ignore_index=True)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a run folder, or None if it has none (or an unreadable one)."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def default_label() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")
