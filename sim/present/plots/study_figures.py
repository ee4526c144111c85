"""The figures of the search and check studies, drawn from what they saved (never by running anything).

- a sensitivity study: the tornado chart, from ``sensitivity.csv`` and the manifest's metric and method;
- a check against observations (``validate-history --observed``): the backlog figure with the observed
  points, from the run folder the values were read from.

The command line, the Python API's ``.plot()`` and ``bordersim plot`` all call these, so a study's figure
is the same wherever it is asked for.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.analysis.decision import parse_metric_ref
from sim.errors import UserError
from sim.present.cells import ref_group
from sim.present.plots import style
from sim.present.plots.backlog import backlog_with_observed
from sim.present.plots.tornado import tornado
from sim.store.layout import SENSITIVITY_TABLE
from sim.store.manifest import MANIFEST, read_manifest
from sim.store.reader import RunData, Study, study_gate_names
from sim.store.tables import read_csv

PLOTS_DIR = "plots"


def sensitivity_figures(folder: str | Path) -> list[style.Written]:
    """The tornado chart of a finished sensitivity study, written into its folder."""
    folder = Path(folder)
    manifest = read_manifest(folder) or {}
    table_file = folder / SENSITIVITY_TABLE
    if manifest.get("kind") != "sensitivity" or not table_file.is_file():
        raise UserError.single(str(folder / MANIFEST), "kind", "not a finished sensitivity study folder")
    ref = parse_metric_ref(str(manifest.get("metric", "mean_clearance_h")), "metric")
    table = read_csv(table_file)
    method = str(manifest.get("method", "oat"))
    names = study_gate_names(folder)
    return [tornado(table, ref.metric, ref_group(ref), method, folder, str(folder), names)]


def observed_figures(
    folder: Path, run: RunData, observed: pd.DataFrame, at_hour: float
) -> list[style.Written]:
    """The backlog figure of ``run`` with the observed points, into ``folder/plots``."""
    study = Study(run.folder, [run], "run", run.manifest)
    with plt.rc_context(style.RC):
        out = Path(folder) / PLOTS_DIR
        return backlog_with_observed(study, out, str(run.folder), observed, at_hour=at_hour)
