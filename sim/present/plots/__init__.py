"""Figures of saved results (``bordersim plot``): the picture of a run or of a policy comparison.

The last step of the one-way flow scenario -> model -> records -> results -> analysis: these modules read
the results store (Parquet tables, scenario.yaml, manifests) and never import the model, so a figure
shows exactly what was saved and costs seconds, not a simulation.

Kinds (``--kind``), each a small module:

=============  =====================================================  ==============================
kind           what it shows                                          files
=============  =====================================================  ==============================
forest         each policy's paired difference with 95% interval      forest
headline       clearance-time ECDF, all gates, per direction          headline_clearance
clearance      per gate and direction: ECDF, histogram, box plots     clearance_ecdf, _hist, _box
backlog        backlog outside and yard occupancy, closures shaded    backlog
throughput     daily cleared trucks and value vs demand and caps      daily_trucks, daily_value
stages         waiting and service per stage, stacked                 stage_breakdown
(a sweep)      response to each grid axis, neighbouring steps paired  sweep_<axis number>
=============  =====================================================  ==============================

Each file is written as PNG and SVG.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from sim.present.plots import backlog, clearance, forest, stages, style, sweep, throughput
from sim.present.plots import uncertainty as _uncertainty
from sim.present.plots.style import Written
from sim.store.reader import Study, load_study

PlotFn = Callable[[Study, Path, str], list[Written]]
KINDS: dict[str, PlotFn] = {
    "forest": forest.forest,
    "headline": clearance.headline,
    "clearance": clearance.per_flow,
    "backlog": backlog.backlog,
    "throughput": throughput.daily,
    "stages": stages.stage_bars,
}
PLOTS_DIR = "plots"

__all__ = ["KINDS", "PLOTS_DIR", "Study", "Written", "load_study", "plot", "plot_study"]


def plot_study(study: Study, out: Path, kinds: Sequence[str] = tuple(KINDS)) -> list[Written]:
    """Draw the asked kinds of figures of a loaded study into ``out``, in the order of KINDS."""
    source = str(study.folder)
    written: list[Written] = []
    if study.kind == "sweep":  # a sweep has its own figures; its points keep metrics, not tables
        with plt.rc_context(style.RC):
            return sweep.response(study, Path(out), source)
    with plt.rc_context(style.RC):
        for kind in KINDS:
            if kind in kinds:
                written += KINDS[kind](study, Path(out), source)
    return written


def plot(
    folder: str | Path, kinds: Sequence[str] = tuple(KINDS), out: str | Path | None = None
) -> list[Written]:
    """Figures of a run or comparison folder, written to ``out`` (default ``folder/plots``); an
    uncertainty folder gets its own figures (the band of trucks waiting and its drivers)."""
    from sim.studies.uncertainty import is_uncertainty_folder

    if is_uncertainty_folder(Path(folder)):
        target = Path(out) if out is not None else Path(folder) / PLOTS_DIR
        return _uncertainty.uncertainty_figures(Path(folder), target, str(folder))
    study = load_study(folder)
    return plot_study(study, Path(out) if out is not None else Path(folder) / PLOTS_DIR, kinds)
