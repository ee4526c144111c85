"""Atomic file writes: a file that exists is whole.

Every file of the results store goes through :func:`write_atomic`: it is written under a temporary name in
the target folder, flushed to disk, given the permissions a plain write would have, and renamed into place.
A crash, Ctrl-C or a full disk therefore leaves either the old file or the new one, never half of one.

The operating system's refusals (a read-only or full disk, a file where a folder should be, no
permission) are the user's to fix: they become a :class:`~sim.errors.UserError` naming the path and the
reason, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def os_error(path: Path, exc: OSError, doing: str = "cannot write") -> UserError:
    """An operating-system refusal as a message naming the path and the reason."""
    reason = exc.strerror or str(exc)
    where = exc.filename if isinstance(exc.filename, str) else str(path)
    return UserError.single(where, "", f"{doing}: {reason}")


@contextmanager
def store_errors(path: Path, doing: str = "cannot write") -> Iterator[None]:
    """Turn an OSError inside the block into a UserError about ``path``."""
    try:
        yield
    except OSError as exc:
        raise os_error(Path(path), exc, doing) from None


def make_folder(path: Path) -> Path:
    """Create a results folder (and its parents); a refusal is a UserError naming it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        raise UserError.single(str(blocker), "", "is a file, not a folder: nothing can go in it") from None
    except OSError as exc:
        raise os_error(path, exc, "cannot create this folder") from None
    return path


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """Create ``path`` through ``write(temporary_path)``, then fsync and rename it into place."""
    path = Path(path)
    make_folder(path.parent)
    with store_errors(path):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            write(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically."""
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically (values JSON cannot hold become strings)."""
    write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


# A spreadsheet runs a cell that starts with one of these as a formula (=cmd|'/c calc'!A1, @SUM(...)).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)
# quotes, then what a spreadsheet would run (or a line feed, which a carriage return is written as)
_QUOTED = re.compile(r"'*[=+\-@\t\r\n]")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert by a leading ``'``; anything else as
    it is (numbers, text written as a plain number such as ``-3.5``, a lone ``-``). Text that already
    starts with quotes before such a character gets one more, so :func:`unsafe_cell` gives back exactly
    what was written. A carriage return inside a cell becomes a line feed: the CSV writer quotes a cell
    with a line feed, not one with a bare carriage return, which would split the row in a spreadsheet."""
    if not isinstance(value, str):
        return value
    if _QUOTED.match(value) and value != "-" and not _PLAIN_NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def unsafe_cell(value: Any) -> Any:
    """The cell :func:`safe_cell` was given (for the store's readers: a scenario named ``-fast`` stays
    ``-fast`` when its comparison is read back)."""
    if isinstance(value, str) and value.startswith("'") and _QUOTED.match(value[1:]):
        return value[1:]
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its text cells and column names passed through :func:`safe_cell`; numeric columns
    are never touched (a negative number stays a number). The same frame when nothing needs it."""
    text = [
        c
        for c in df.columns
        if pd.api.types.is_object_dtype(df[c])
        or pd.api.types.is_string_dtype(df[c])
        or isinstance(df[c].dtype, pd.CategoricalDtype)
    ]
    changed = {c: df[c].astype(object).map(safe_cell) for c in text}
    changed = {c: v for c, v in changed.items() if not v.equals(df[c].astype(object))}
    names = [safe_cell(c) for c in df.columns]
    if not changed and names == list(df.columns):
        return df
    out = df.copy()
    for c, v in changed.items():
        out[c] = v
    out.columns = names
    return out


def csv_text(df: pd.DataFrame) -> str:
    """A table as CSV text (no index), safe to open in a spreadsheet (:func:`spreadsheet_safe`)."""
    return spreadsheet_safe(df).to_csv(index=False)


def write_csv_atomic(path: Path, df: pd.DataFrame) -> None:
    """Write a table as CSV (no index) atomically, safe to open in a spreadsheet."""
    write_text_atomic(path, csv_text(df))


def write_parquet_atomic(path: Path, df: pd.DataFrame) -> None:
    """Write a table as Parquet (no index) atomically."""
    write_atomic(path, lambda tmp: df.to_parquet(tmp, index=False))
