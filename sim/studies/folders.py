"""Saved results as the faces read them: the catalog of folders, a folder's study, an uncertainty band,
and files the user names (never replaced without ``--force``).

The faces (command line, page, API) talk to the studies only (docs/architecture.md, section 2): what they
need of the results store comes through here, so that the store's layout can change behind one door.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.analysis.observed import hour_text, parse_hour
from sim.errors import UserError
from sim.groups import ALL
from sim.store.atomic import write_json_atomic, write_text_atomic  # the page's job and policy files
from sim.store.bands import is_uncertainty_folder, read_daily_bands, reading_time
from sim.store.catalog import Entry, SavedSummary, catalog, saved_summary
from sim.store.layout import COMPARISON, SWING_TABLE, comparison_folders, whatif_folder, whatif_folders
from sim.store.outputs import refuse_existing
from sim.store.reader import RunData, Study, load_run, load_study
from sim.store.tables import read_csv

__all__ = [
    "COMPARISON",
    "RunData",
    "SavedSummary",
    "Study",
    "catalog_table",
    "check_new_file",
    "comparison_folders",
    "hour_text",
    "is_uncertainty_folder",
    "load_run",
    "load_study",
    "parse_hour",
    "read_csv",
    "read_swing_table",
    "read_uncertainty_band",
    "run_of",
    "saved_summary",
    "whatif_folder",
    "whatif_folders",
    "write_json_atomic",
    "write_new_file",
    "write_text_atomic",
]


def catalog_table(root: Path) -> tuple[pd.DataFrame, list[str]]:
    """Every results folder under ``root`` as a row (kind, scenario, state, replications, when, where),
    and why each damaged one could not be read."""
    entries = catalog(root)
    columns = [c for c in Entry.__dataclass_fields__ if c != "sort_key"]
    table = pd.DataFrame([e.row() for e in entries], columns=columns)
    table["replications"] = table["replications"].astype("Int64")  # whole numbers, blank where unknown
    return table, [e.problem for e in entries if e.problem]


def write_new_file(path: Path, text: str, force: bool, option: str = "--out") -> Path:
    """Write ``text`` to a file the user named, atomically; an existing file only with ``force``."""
    write_text_atomic(refuse_existing(path, force, option), text)
    return path


def check_new_file(path: Path, force: bool, option: str = "--out") -> Path:
    """Refuse a file the user named that exists, unless ``force`` (checked before any work)."""
    return refuse_existing(path, force, option)


def run_of(folder: Path, scenario: str | None, command: str) -> RunData:
    """The saved run of a run folder, or of one scenario of a comparison folder (default: its base)."""
    study = load_study(folder)
    if study.kind not in ("run", "comparison"):
        raise UserError.single(str(folder), "", f"{command} reads a run or a comparison folder")
    names = study.names
    name = scenario or names[0]
    if name not in names:
        raise UserError.single(
            None, "--scenario", f"'{name}' is not in this comparison; choose {', '.join(names)}"
        )
    return study.runs[names.index(name)]


def read_swing_table(folder: Path) -> pd.DataFrame | None:
    """A comparison folder's swing table (``compare --swing``: each policy with one of its own
    assumptions at an end of its range), or None when the comparison ran without it."""
    path = Path(folder) / SWING_TABLE
    return read_csv(path) if path.is_file() else None


def read_uncertainty_band(
    folder: Path, gate: str, direction: str, count: str, at: str
) -> tuple[pd.DataFrame, str]:
    """An uncertainty study's daily band of trucks waiting for one group, read at the study's own time
    of day (the only one it saved); the rows and that time."""
    if count != "waiting":
        raise UserError.single(None, "--count", "an uncertainty folder holds the band of trucks waiting only")
    asked = hour_text(parse_hour(at))
    saved_at = reading_time(folder)
    if asked != saved_at:
        raise UserError.single(
            None, "--at", f"this uncertainty study read the series at {saved_at}: give --at {saved_at}"
        )
    bands = read_daily_bands(folder)
    if gate != ALL and gate not in set(bands["gate"]):
        gates = sorted(set(bands["gate"]) - {ALL})
        raise UserError.single(
            None, "--gate", f"{gate!r} is not a gate of this study; choose all or {', '.join(gates)}"
        )
    days = bands[(bands["gate"] == gate) & (bands["direction"] == direction)].reset_index(drop=True)
    if days.empty:
        raise UserError.single(None, "--direction", f"no {direction} flow at {gate}")
    return days, saved_at
