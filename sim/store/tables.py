"""Per-replication tables of a run folder: one Parquet file per table per replication.

Layout of one run folder (see results/README.md)::

    manifest.json        what produced it (sim.store.manifest)
    scenario.yaml        the fully resolved scenario (extends and overrides applied)
    summary.csv          every metric across replications: mean and 95% t-interval (once complete)
    metrics/rep-0000.parquet                        one replication's metrics (written last: marks it done)
    trucks/rep-0000.parquet, stages/..., gate_series/..., stage_series/..., closures/...   its tables

Each replication's files are written as soon as it finishes, atomically; the metrics file is written after
the tables, so a replication whose metrics file exists is complete. An interrupted experiment therefore
keeps every finished replication readable, and resuming it runs exactly the replications without one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import UserError
from sim.model.records import Tables
from sim.store.atomic import unsafe_cell, write_parquet_atomic

TABLES = tuple(f.name for f in dataclasses.fields(Tables))
METRICS = "metrics"  # per-replication metrics; its file marks a replication as done
_REP_FILE = re.compile(r"rep-(\d+)\.parquet")


def table_file(folder: Path, name: str, replication: int) -> Path:
    """Where replication ``replication``'s table ``name`` lives in a run folder."""
    return Path(folder) / name / f"rep-{replication:04d}.parquet"


def write_table(folder: Path, name: str, replication: int, df: pd.DataFrame) -> None:
    """Write one table of one replication atomically, with a ``replication`` column in front."""
    df = df.copy()
    df.insert(0, "replication", replication)
    write_parquet_atomic(table_file(folder, name, replication), df)


def write_replication(
    folder: Path,
    replication: int,
    tables: Tables | None,
    metrics: pd.DataFrame | None = None,
    derived: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Write one replication: its tables (if kept) and the small tables derived from them (if any), then
    its metrics, which mark it as done."""
    if tables is not None:
        for name, df in tables.as_dict().items():
            write_table(folder, name, replication, df)
    for name, df in (derived or {}).items():
        write_table(folder, name, replication, df)
    if metrics is not None:
        write_table(folder, METRICS, replication, metrics)


def intact(path: Path) -> bool:
    """Whether a Parquet file is whole: its footer reads (a truncated or overwritten file's does not)."""
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException, ValueError):
        return False
    return True


def damaged_files(folder: Path, replication: int, names: Iterable[str]) -> list[Path]:
    """The files of one replication's tables ``names`` that are missing or not whole."""
    files = [table_file(folder, name, replication) for name in names]
    return [f for f in files if not f.is_file() or not intact(f)]


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """One Parquet file; a damaged or unreadable one is a UserError naming it (not a pyarrow traceback)."""
    try:
        return pd.read_parquet(path, columns=columns)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise UserError.single(
            str(path),
            "",
            f"cannot read this results file, it is damaged or truncated ({str(exc)[:120]}); "
            "rerun its replication (run with --out <its run folder> --resume)",
        ) from None


def read_csv(
    path: Path, *, required: Iterable[str] = (), numeric: Iterable[str] = (), **options: Any
) -> pd.DataFrame:
    """One of the store's CSV tables as it was written (text cells a spreadsheet would run were written
    with a leading ``'``: taken off again); a damaged or unreadable file, or one without the ``required``
    columns or with text in a ``numeric`` one (edited by hand?), is a UserError naming it."""
    try:
        table = pd.read_csv(path, **options)
    except (OSError, ValueError) as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise UserError.single(
            str(path),
            "",
            f"cannot read this table, it is damaged ({why}); run the study again into a new folder",
        ) from None
    missing = [c for c in required if c not in table.columns]
    wrong = [c for c in numeric if c in table.columns and not pd.api.types.is_numeric_dtype(table[c])]
    if missing or wrong:
        what = (
            f"no column {', '.join(missing)}" if missing else f"text in the number column {', '.join(wrong)}"
        )
        raise UserError.single(
            str(path), (missing or wrong)[0], f"damaged table: {what}; run the study again into a new folder"
        )
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    for c in text:
        table[c] = table[c].map(unsafe_cell)
    table.columns = [unsafe_cell(c) for c in table.columns]
    return table


def done_replications(folder: Path) -> set[int]:
    """Replications of a run folder whose files are all written (their metrics file exists)."""
    files = (Path(folder) / METRICS).glob("rep-*.parquet")
    return {int(m.group(1)) for f in files if (m := _REP_FILE.fullmatch(f.name))}


def remove_partial_files(folder: Path) -> None:
    """Delete temporary files a stopped worker left behind (never a finished file)."""
    for stale in Path(folder).glob("*/.rep-*.tmp"):
        stale.unlink(missing_ok=True)


def read_table(folder: Path, name: str, replications: Iterable[int] | None = None) -> pd.DataFrame:
    """All replications of a table (or those listed), concatenated; column ``replication`` tells which."""
    files = sorted((Path(folder) / name).glob("rep-*.parquet"))
    if replications is not None:
        wanted = {table_file(folder, name, r).name for r in replications}
        files = [f for f in files if f.name in wanted]
    if not files:
        raise FileNotFoundError(f"no '{name}' table under {folder}")
    return pd.concat((read_parquet(f) for f in files), ignore_index=True)
