"""Will a study's files fit on the disk? Free space, checked before anything runs.

A study's size on disk is estimated from its scenario (:func:`sim.model.size.disk_bytes`: the expected
trucks and monitor samples of each replication at the bytes a truck's rows take in the Parquet tables);
a study whose estimate is larger than the free space of the disk it writes to is refused before any
replication starts, with both figures, rather than stopped by a full disk hours later.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sim.errors import UserError
from sim.model.size import size_text

__all__ = ["check_space", "free_bytes", "size_text"]


def free_bytes(folder: Path) -> int | None:
    """Free space of the disk ``folder`` is (or will be) on, for this user; None if it cannot be read.
    The folder may not exist yet: its nearest existing parent is asked."""
    path = Path(folder).absolute()
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                if _not_for_data(candidate):
                    return None
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def _not_for_data(path: Path) -> bool:
    """Whether ``path`` is on a read-only or size-less file system (/sys, /proc): its free space says
    nothing, and writing there fails with its own reason (named by the store when it tries)."""
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:  # not POSIX: nothing to tell
        return False
    st = statvfs(path)
    return bool(st.f_flag & getattr(os, "ST_RDONLY", 1)) or st.f_blocks == 0


def check_space(folder: Path, need: float, option: str = "") -> int | None:
    """Refuse a study whose files (about ``need`` bytes) would not fit in the free space where
    ``folder`` goes; returns the free bytes (None if unknown: nothing is refused on a guess)."""
    free = free_bytes(folder)
    if free is not None and need > free:
        raise UserError.single(
            str(folder),
            option,
            f"the study would write about {size_text(need)}, more than the {size_text(free)} free on this "
            "disk: free some space, write elsewhere (--out), or run fewer replications or a shorter horizon",
        )
    return free
