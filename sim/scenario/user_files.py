"""Reading a file the user names (a scenario, a state file, observations): the one careful reader.

A user's path may name a folder, a FIFO that would block forever, ``/dev/zero`` that never ends, a huge
file or bytes that are not text. Each is refused with a message naming the file and what is wrong, before
anything is read past the limit; nothing here ever raises a traceback for a user's file.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sim.errors import Problem, UserError

SHOWN_PATH = 200  # the most of an unusable path a message repeats


def read_user_text(path: Path | str, *, what: str, max_bytes: int, field: str = "", bom: bool = True) -> str:
    """The UTF-8 text of the user's file ``path`` (``what`` it should be, e.g. 'a CSV state file'), at most
    ``max_bytes``; a byte-order mark is dropped where ``bom`` (files saved by spreadsheets have one)."""
    where = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UserError.single(where, field, f"file not found: give {what}") from None
    except ValueError as exc:  # e.g. a NUL character in the path
        raise UserError.single(where[:SHOWN_PATH], field, f"not a usable file name ({exc})") from None
    except OSError as exc:
        reason = f"cannot read the file ({exc.strerror or exc})"
        raise UserError.single(where[:SHOWN_PATH], field, reason) from None
    if stat.S_ISDIR(info.st_mode):
        raise UserError.single(where, field, f"a folder, not a file: give {what}")
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block forever, /dev/zero never ends
        raise UserError.single(where, field, f"not a regular file (a pipe, device or socket): give {what}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise UserError.single(where, field, f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        raise UserError.single(where, field, f"larger than {max_bytes:,} bytes: too large for {what}")
    try:
        return raw.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        raise UserError.single(where, field, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


@dataclass
class NamedRows:
    """The rows of a user's CSV file as cells by column name, read by :func:`named_rows`; the problems
    with the file itself (header, cell counts, CSV syntax) collected in ``problems`` as it goes."""

    where: str
    required: tuple[str, ...]
    allowed: tuple[str, ...] | None = None  # None: other columns are kept and ignored
    problems: list[Problem] = field(default_factory=list)
    header: list[str] | None = None
    header_line: int = 0

    def rows(self, text: str, max_problems: int) -> Iterator[tuple[int, dict[str, str]]]:
        """``(line, {column: cell})`` for every non-blank row under the header, stopping at a bad header
        or once more than ``max_problems`` problems have been found (the caller's included)."""
        records = csv.reader(io.StringIO(text, newline=""))
        named = set(self.allowed or self.required)
        try:
            for record in records:
                if not any(cell.strip() for cell in record):
                    continue  # blank lines are allowed anywhere
                line = records.line_num
                if self.header is None:
                    if not self._read_header(record, line, named):
                        return
                    continue
                if len(record) != len(self.header):
                    cells = f"has {len(record)} cells, the header has {len(self.header)}"
                    self.problems.append(Problem(self.where, "", cells, line))
                    continue
                yield line, {h: v.strip() for h, v in zip(self.header, record, strict=True)}
                if len(self.problems) > max_problems:
                    return
        except csv.Error as exc:
            self.problems.append(Problem(self.where, "", f"not readable as CSV ({exc})", records.line_num))

    def _read_header(self, record: list[str], line: int, named: set[str]) -> bool:
        header = self.header = [cell.strip().lower() for cell in record]
        self.header_line = line
        columns = ", ".join(self.required)
        for c in (c for c in self.required if c not in header):
            has = ", ".join(repr(h) for h in header)
            self.problems.append(
                Problem(self.where, c, f"missing column: the header must name {columns} (it has {has})", line)
            )
        if self.allowed is not None:
            for c in (c for c in header if c not in self.allowed):
                known = ", ".join(self.allowed)
                self.problems.append(Problem(self.where, c, f"unknown column: the columns are {known}", line))
        twice = sorted({h for h in header if header.count(h) > 1 and h in named})
        if twice:
            twice_text = "this column appears twice in the header"
            self.problems.append(Problem(self.where, twice[0], twice_text, line))
        return not self.problems
