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

from sim.errors import UserError
from sim.present.plots import backlog, clearance, forest, stages, style, sweep, throughput
from sim.present.plots import uncertainty as _uncertainty
from sim.present.plots.style import Written
from sim.store.atomic import make_folder
from sim.store.bands import is_uncertainty_folder
from sim.store.layout import check_figures_out
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
ONLY_FOR = {"forest": "comparison"}  # kinds drawn for one kind of folder only (a run has no differences)

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


def check_kinds(study: Study, kinds: Sequence[str]) -> None:
    """Refuse kinds asked for by name that this folder cannot have: a forest plot of a run, or any
    ``--kind`` of a sweep (it has its own figures); asked for nothing, every kind that applies is drawn."""
    if study.kind == "sweep":
        raise UserError.single(
            str(study.folder),
            "--kind",
            "a sweep folder has its own figures (the response to each grid axis): leave out --kind",
        )
    for kind in kinds:
        needed = ONLY_FOR.get(kind)
        if needed is not None and study.kind != needed:
            raise UserError.single(
                str(study.folder),
                "--kind",
                f"'{kind}' needs a {needed} folder (from bordersim compare), and this is a {study.kind} "
                "folder; choose another kind",
            )


def plot(
    folder: str | Path, kinds: Sequence[str] | None = None, out: str | Path | None = None
) -> list[Written]:
    """Figures of a run, comparison or sweep folder, written to ``out`` (default ``folder/plots``); an
    uncertainty folder gets its own figures (the band of trucks waiting and its drivers).

    ``kinds`` None draws every kind that applies; kinds named are each checked to apply
    (:func:`check_kinds`), so a figure asked for is drawn or refused, never silently left out."""

    if out is not None:
        check_figures_out(Path(out))
    if is_uncertainty_folder(Path(folder)):
        target = make_folder(Path(out) if out is not None else Path(folder) / PLOTS_DIR)
        return _uncertainty.uncertainty_figures(Path(folder), target, str(folder))
    study = load_study(folder)
    if kinds is not None:
        check_kinds(study, kinds)
    target = make_folder(Path(out) if out is not None else Path(folder) / PLOTS_DIR)
    return plot_study(study, target, tuple(KINDS) if kinds is None else kinds)
