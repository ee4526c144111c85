"""A study's outputs: the one writer of a study folder's files and manifest.

A study asks the store for its folder (:meth:`StudyFolder.create`) and writes every file through it by a
name the store knows (:data:`sim.store.layout.STUDY_FILES`), so the layout, the label check, atomic
writes, the lock and the manifest's common fields live here and nowhere else. A study never builds a
path.

Every study's manifest has the same frame (:func:`study_manifest`): ``kind``, ``schema``, the scenario
entry, the command, when it started and finished, and the package versions, plus the study's own fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError
from sim.scenario import LoadedScenario
from sim.store import layout
from sim.store.atomic import (
    write_bytes_atomic,
    write_csv_atomic,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from sim.store.lock import folder_lock
from sim.store.manifest import model_digest, now, scenario_entry, versions, write_manifest

MANIFEST_SCHEMA = 1  # the version of the common manifest frame below


def study_manifest(
    kind: str,
    loaded: LoadedScenario | None,
    *,
    argv: tuple[str, ...] | list[str],
    started: str,
    complete: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    """The manifest of a study folder: the common frame, then the study's own ``fields``."""
    return {
        "kind": kind,
        "schema": MANIFEST_SCHEMA,
        **({"scenario": scenario_entry(loaded)} if loaded is not None else {}),
        "model_sha256": model_digest(),
        **fields,
        "complete": complete,
        "command": list(argv),
        "started": started,
        "finished": now() if complete else None,
        "versions": versions(),
    }


@dataclass
class StudyFolder:
    """A study's folder, locked while the study writes into it."""

    kind: str
    folder: Path
    started: str = field(default_factory=now)
    _locks: ExitStack = field(default_factory=ExitStack, repr=False)

    @classmethod
    def for_study(
        cls, root: Path, scenario: str, kind: str, *, label: str | None = None, out: Path | None = None
    ) -> StudyFolder:
        """The folder of a study of ``scenario``: ``out`` as the user gave it, else
        ``<root>/<scenario>/<kind>-<label or time>`` (the label checked like a run's)."""
        folder = Path(out) if out is not None else layout.study_folder(root, scenario, kind, label)
        return cls(kind, folder)

    @contextmanager
    def open(self, *, fresh: bool = False) -> Iterator[StudyFolder]:
        """Create (``fresh``: it must not exist yet) and lock the folder while the block writes."""
        with folder_lock(self.folder, fresh=fresh):
            yield self

    def path(self, name: str) -> Path:
        """The path of one of the study's files, by a name the store knows."""
        if name not in layout.STUDY_FILES:
            raise ValueError(f"{name!r} is not a study file the store knows (sim.store.layout.STUDY_FILES)")
        return self.folder / name

    def has(self, name: str) -> bool:
        """Whether the study's file ``name`` exists."""
        return self.path(name).is_file()

    def write_csv(self, name: str, table: pd.DataFrame) -> Path:
        """Write a table as CSV, atomically."""
        write_csv_atomic(self.path(name), table)
        return self.path(name)

    def write_parquet(self, name: str, table: pd.DataFrame) -> Path:
        """Write a table as Parquet, atomically."""
        write_parquet_atomic(self.path(name), table)
        return self.path(name)

    def write_text(self, name: str, text: str) -> Path:
        """Write UTF-8 text (Markdown, YAML), atomically."""
        write_text_atomic(self.path(name), text)
        return self.path(name)

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write bytes, atomically."""
        write_bytes_atomic(self.path(name), data)
        return self.path(name)

    def write_json(self, name: str, obj: Any) -> Path:
        """Write JSON, atomically."""
        write_json_atomic(self.path(name), obj)
        return self.path(name)

    def write_manifest(
        self,
        loaded: LoadedScenario | None,
        *,
        argv: tuple[str, ...] | list[str],
        complete: bool = True,
        **fields: Any,
    ) -> None:
        """Write the study's manifest in the common frame."""
        manifest = study_manifest(
            self.kind, loaded, argv=argv, started=self.started, complete=complete, **fields
        )
        write_manifest(self.folder, manifest)


def refuse_existing(path: Path, force: bool, option: str = "--out") -> Path:
    """``path`` if it may be written: a file that exists is only replaced with ``--force``, and a folder,
    a device or a pipe never (the file would be renamed over it: as root, over /dev/null)."""
    path = Path(path)
    if path.is_dir():
        raise UserError.single(str(path), option, "is a folder, not a file")
    if path.exists() and not path.is_file():
        raise UserError.single(
            str(path), option, "is not a regular file (a device or a pipe?): choose a file"
        )
    if path.exists() and not force:
        raise UserError.single(
            str(path), option, "already exists: choose another name, or add --force to replace it"
        )
    return path
