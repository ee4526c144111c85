"""An uncertainty study's saved bands, as the store reads them back (for plots, backlog and checks).

The study (sim/studies/uncertainty.py) writes them; figures and the terminal read them here, without
loading the runner or the model.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.store import layout
from sim.store.manifest import read_manifest
from sim.store.outputs import StudyFolder
from sim.store.tables import read_csv

UNCERTAINTY_KIND = "uncertainty"
KIND = UNCERTAINTY_KIND


def is_uncertainty_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a finished uncertainty study (its daily bands)."""
    return StudyFolder(KIND, Path(folder)).has(layout.UNCERTAINTY_SERIES)


def read_daily_bands(folder: Path) -> pd.DataFrame:
    """The daily bands of an uncertainty folder (dates as dates)."""
    table = read_csv(StudyFolder(KIND, Path(folder)).path(layout.UNCERTAINTY_SERIES))
    table["date"] = pd.to_datetime(table["date"]).dt.date
    return table


def reading_time(folder: Path) -> str:
    """The time of day (HH:MM) an uncertainty folder's daily series was read at."""
    return str((read_manifest(Path(folder)) or {}).get("series_at", "12:00"))
