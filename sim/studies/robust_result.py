"""What a robust study leaves in its folder, read back: :class:`RobustResult` and :func:`load_robust`.

Apart from the study (:mod:`sim.studies.robust`), which runs the model, so that the report and the page
read a finished study without importing the engine (``tests/test_plots_report.py``: plots and reports
run with the model unavailable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.store import layout
from sim.store.manifest import read_manifest
from sim.store.outputs import StudyFolder
from sim.store.tables import read_csv

if TYPE_CHECKING:
    from sim.runner.experiment import Failure

KIND = "robust"


@dataclass
class RobustResult:
    """A finished (or partly failed) robust study: its folder and what it ran."""

    folder: Path
    scenario: str
    names: list[str]  # base first
    method: str
    samples: int
    replications: int
    inputs: list[str]
    metrics: list[str]
    target: str | None = None
    failures: list[Failure] = field(default_factory=list)
    not_modelled: list[str] = field(default_factory=list)  # headline metrics the base cannot produce
    twin: str | None = None  # the assimilate folder whose posterior the learned inputs were drawn from
    learned: list[str] = field(default_factory=list)  # the inputs drawn from the twin's posterior
    command: list[str] = field(default_factory=list)  # the command that ran it (its manifest's)
    resume_hint: str = "Run the same command again with the same --label or --out: finished sets are reused."

    def _read(self, name: str) -> pd.DataFrame:
        path = StudyFolder(KIND, self.folder).path(name)
        return read_csv(path) if path.is_file() else pd.DataFrame()

    @property
    def summary(self) -> pd.DataFrame:
        """Per metric and policy: the paired band, P(best), regrets, target share and both rankings."""
        return self._read(layout.ROBUST_TABLE)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """robust (the summary), sets (inputs and metrics of each set), boxes and voi."""
        names = {
            "robust": layout.ROBUST_TABLE,
            "sets": layout.ROBUST_SETS,
            "boxes": layout.ROBUST_BOXES,
            "voi": layout.ROBUST_VOI,
        }
        return {k: self._read(v) for k, v in names.items()}


def load_robust(folder: str | Path) -> RobustResult:
    """A finished robust study read back from its folder (its manifest says what it ran), for the report
    and the page: the words and figures are then made from the saved tables, never from a rerun."""
    folder = Path(folder)
    manifest = read_manifest(folder) or {}
    scenario = manifest.get("scenario")
    name = scenario.get("scenario", "?") if isinstance(scenario, dict) else str(scenario or "?")
    return RobustResult(
        folder,
        name,
        [str(p) for p in manifest.get("policies") or []],
        str(manifest.get("method", "")),
        int(manifest.get("samples") or 0),
        int(manifest.get("replications") or 0),
        [str(i) for i in manifest.get("inputs") or []],
        [str(m) for m in manifest.get("metrics") or []],
        manifest.get("target"),
        not_modelled=[str(m) for m in manifest.get("not_modelled") or []],
        twin=manifest.get("twin"),
        learned=[str(m) for m in manifest.get("learned") or []],
        command=[str(w) for w in manifest.get("command") or []],
    )


def is_robust_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a robust study (its manifest says so)."""
    manifest = read_manifest(Path(folder)) if Path(folder).is_dir() else None
    return bool(manifest) and manifest.get("kind") == KIND
