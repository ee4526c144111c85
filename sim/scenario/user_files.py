"""Reading a file the user names (a scenario, a state file, observations): the one careful reader.

A user's path may name a folder, a FIFO that would block forever, ``/dev/zero`` that never ends, a huge
file or bytes that are not text. Each is refused with a message naming the file and what is wrong, before
anything is read past the limit; nothing here ever raises a traceback for a user's file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sim.errors import UserError

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
