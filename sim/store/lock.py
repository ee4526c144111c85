"""One writer per results folder: an exclusive lock held while a command writes into it.

Two commands writing into the same run folder (the same ``--label`` or ``--out`` twice, a ``--resume``
while the run is still going) would interleave their tables and manifests into a folder that describes
neither. The writer holds ``fcntl.flock`` on ``<folder>/.lock`` for as long as it writes; a second writer
is refused at once (exit 2) instead of waiting. The kernel drops the lock when its holder ends, however it
ends (even SIGKILL), so a stale lock file is harmless: it is the lock, not the file, that counts.

A folder the command means to create (a new run) is made with ``mkdir`` that fails if it exists, so two
commands that both found the name free cannot both write into it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sim.errors import UserError
from sim.store.atomic import make_folder, os_error, store_errors
from sim.store.layout import reservation

try:
    import fcntl
except ImportError:  # not on POSIX: no locking (the project runs on Linux)
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"


def _busy(folder: Path) -> UserError:
    return UserError.single(
        str(folder),
        "",
        "another bordersim command is writing into this folder (it is locked); wait for it to finish, "
        "or give this command another --out",
    )


@contextmanager
def folder_lock(folder: Path, *, fresh: bool = False) -> Iterator[Path]:
    """Create (``fresh``: it must not exist yet) or open ``folder`` and hold its lock inside the block.

    Raises UserError if another process holds it, if a fresh folder appeared meanwhile, or if the
    operating system refuses (the path and the reason named)."""
    folder = Path(folder)
    if fresh:
        make_folder(folder.parent)
        try:
            folder.mkdir()
        except FileExistsError:
            raise UserError.single(
                str(folder),
                "",
                "appeared while this command was starting (another run into the same "
                "folder?); choose another --out or --label",
            ) from None
        except OSError as exc:
            raise os_error(folder, exc, "cannot create this folder") from None
    else:
        make_folder(folder)
    with suppress(OSError):  # the folder exists now: its name needs no marker
        reservation(folder).unlink(missing_ok=True)
    with store_errors(folder / LOCK_FILE, "cannot create the folder's lock file"):
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _busy(folder) from None
            except OSError as exc:
                raise os_error(folder / LOCK_FILE, exc, "cannot lock the folder") from None
        with store_errors(folder / LOCK_FILE, "cannot write the folder's lock file"):  # a full disk
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for whoever looks
        yield folder
    finally:
        os.close(fd)


def is_locked(folder: Path) -> bool:
    """Whether a process holds ``folder``'s lock now (for tests and diagnostics)."""
    path = Path(folder) / LOCK_FILE
    if fcntl is None or not path.is_file():
        return False
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
