"""The results store: Parquet tables and a manifest, written so that a crash never leaves half a result.

Layout of one run folder ``results/<scenario>/<label>/``::

    manifest.json        what produced it: scenario files, overrides, seeds, versions, times, counts
    scenario.yaml        the fully resolved scenario (extends and overrides applied)
    trucks/rep-0000.parquet, stages/..., gate_series/..., stage_series/...   one file per replication

A run is assembled in a hidden temporary folder beside its final place and renamed into place when
complete; a single file is written to a temporary name and ``os.replace``d.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim.records import Tables

TABLES = ("trucks", "stages", "gate_series", "stage_series")


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


def write_replication(folder: Path, replication: int, tables: Tables) -> None:
    """Write one replication's tables, each file atomically."""
    for name, df in tables.as_dict().items():
        df = df.copy()
        df.insert(0, "replication", replication)
        target = folder / name / f"rep-{replication:04d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        try:
            df.to_parquet(tmp, index=False)
            _publish(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def read_table(folder: Path, name: str) -> pd.DataFrame:
    """All replications of one table, concatenated (column ``replication`` tells them apart)."""
    files = sorted((Path(folder) / name).glob("rep-*.parquet"))
    if not files:
        raise FileNotFoundError(f"no '{name}' table under {folder}")
    return pd.concat((pd.read_parquet(f) for f in files), ignore_index=True)


def default_label() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success rename it to ``final``, on failure remove it."""
    if final.exists():
        raise FileExistsError(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".partial"))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
