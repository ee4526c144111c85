"""What the Python API hands back: a study's result as an object with ``.summary``, ``.tables`` (read
when asked for) and ``.plot()`` (figures drawn from what was saved), shown as a table in a notebook.

:func:`view` makes it from the result a study returned: run, compare and sweep have their own classes;
every other study a :class:`StudyView` of its summary, titled by :func:`title`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.groups import ALL
from sim.scenario import Scenario
from sim.store.reader import RunData, load_run
from sim.store.tables import read_csv


def _province(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["gate"].astype(str) == ALL) & (table["direction"].astype(str) == ALL)]


class Tables(Mapping[str, RunData]):
    """The saved replications of a study's scenarios by name, each read only when asked for
    (``tables[name].table("trucks")``: a DataFrame of every replication's trucks)."""

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self._folders = dict(folders)
        self._loaded: dict[str, RunData] = {}

    def __getitem__(self, name: str) -> RunData:
        if name not in self._loaded:
            self._loaded[name] = load_run(self._folders[name], name)
        return self._loaded[name]

    def __iter__(self):
        return iter(self._folders)

    def __len__(self) -> int:
        return len(self._folders)


def _plot(folder: Path, kind: str | Sequence[str], out: str | Path | None) -> list[Path]:
    from sim.present.plots import plot

    kinds = [kind] if isinstance(kind, str) else list(kind)
    return [f for written in plot(folder, kinds, out) for f in written.files]


@dataclass
class Run:
    """A finished run of one scenario: where it is, the scenario and the summary over replications."""

    folder: Path
    scenario: Scenario
    replications: int
    summary: pd.DataFrame  # gate, direction, metric, n, mean, sd, half_width, ci_low, ci_high

    @cached_property
    def tables(self) -> RunData:
        """The saved tables of this run (trucks, stages, gate series, ...), read when asked for."""
        return load_run(self.folder)

    def plot(self, kind: str | Sequence[str] = "headline", out: str | Path | None = None) -> list[Path]:
        """Draw figures of this run (headline, clearance, backlog, throughput, stages); the files written."""
        return _plot(self.folder, kind, out)

    def _repr_html_(self) -> str:
        from sim.present.terminal import run_layouts

        block = run_layouts(self.summary, self.scenario.name, self.replications)[0][0]
        return _html(block.title, block.headers, block.rows, block.caption)


@dataclass
class Comparison:
    """Policies against a base under common random numbers: every metric per scenario with its interval
    and each policy's paired difference from the base (``summary``, one tidy row each)."""

    folder: Path
    names: list[str]  # the base first
    replications: int
    root_seed: int
    summary: pd.DataFrame
    run_folders: dict[str, Path] = field(default_factory=dict)

    @cached_property
    def tables(self) -> Tables:
        """Each scenario's saved replications by name, read when asked for."""
        return Tables(self.run_folders)

    def province(self) -> pd.DataFrame:
        """The whole province's rows: a row per scenario and metric."""
        return _province(self.summary)

    def plot(self, kind: str | Sequence[str] = "headline", out: str | Path | None = None) -> list[Path]:
        """Draw figures comparing the scenarios; the files written."""
        return _plot(self.folder, kind, out)

    def _repr_html_(self) -> str:
        from sim.present.terminal import comparison_layouts

        block = comparison_layouts(self.summary, self.names, self.replications, self.root_seed)[0][0]
        return _html(block.title, block.headers, block.rows, block.caption)


@dataclass
class Sweep:
    """A factorial grid of overrides: the tidy per-replication table and the summary per point."""

    folder: Path
    scenario: str
    keys: list[str]
    replications: list[int]
    summary: pd.DataFrame  # point, the grid keys, gate, direction, metric, n, mean, half_width, ...
    table: pd.DataFrame  # point, the grid keys, replication, gate, direction, metric, value
    point_folders: list[Path] = field(default_factory=list)

    @cached_property
    def tables(self) -> Tables:
        """Each point's saved replications ('point-0000', ...), read when asked for."""
        return Tables({f.name: f for f in self.point_folders})

    def plot(
        self, kind: str | Sequence[str] = "headline", point: int = 0, out: str | Path | None = None
    ) -> list[Path]:
        """Draw figures of one grid point (kept only with ``sweep(..., keep_tables=True)``)."""
        return _plot(self.point_folders[point], kind, out)

    def _repr_html_(self) -> str:
        from sim.present.terminal import sweep_layouts

        block = sweep_layouts(self.summary, self.keys, self.scenario, self.replications)[0][0]
        return _html(block.title, block.headers, block.rows, block.caption)


def _html(title: str, headers: list[str], rows: list[list[str]], caption: str) -> str:
    frame = pd.DataFrame(rows, columns=[h.replace("\n", " ") for h in headers])
    body = frame.to_html(index=False, escape=True, border=0)
    from html import escape

    return f"<p><b>{escape(title)}</b></p>{body}<p><small>{escape(caption)}</small></p>"


class SavedTables(Mapping[str, pd.DataFrame]):
    """A study folder's CSV tables by file stem (``tables["evaluations"]``), each read when asked for."""

    def __init__(self, folder: Path | None) -> None:
        found = sorted(Path(folder).glob("*.csv")) if folder and Path(folder).is_dir() else []
        self._files = {f.stem: f for f in found}

    def __getitem__(self, name: str) -> pd.DataFrame:
        return read_csv(self._files[name])

    def __iter__(self):
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


@dataclass
class StudyView:
    """What every study returns: where it wrote, its summary table, its saved tables and figures."""

    title: str
    folder: Path | None
    summary: pd.DataFrame
    result: Any = None  # the result object the study returned (its own fields)

    @cached_property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The study's saved tables, read when asked for."""
        return SavedTables(self.folder)

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """Draw the study's figures from what it saved; the files written (none for a table-only study)."""
        return []

    def _repr_html_(self) -> str:
        from html import escape

        body = self.summary.to_html(index=False, escape=True, border=0, max_rows=60)
        where = f"<p><small>{escape(str(self.folder))}</small></p>" if self.folder else ""
        return f"<p><b>{escape(self.title)}</b></p>{body}{where}"


@dataclass
class Calibration(StudyView):
    """A calibration: the calibrated file written and the fit table (or the scale's evaluations)."""

    @property
    def file(self) -> Path | None:
        """The calibrated scenario file written."""
        return getattr(self.result, "file", None)

    @property
    def method(self) -> str:
        """How it was calibrated (a fit of free parameters, or the arrival scale)."""
        return str(getattr(self.result, "method", ""))


@dataclass
class History(StudyView):
    """A check against reported figures (or, with observations, against the user's counts)."""

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The backlog figure with the observed points (a check against observations only)."""
        return _history_plot(self.result, out)


@dataclass
class Optimisation(StudyView):
    """The cheapest configuration meeting a target, and every evaluated point (``result``:
    sim.studies.optimise.OptimiseResult)."""


@dataclass
class Sensitivity(StudyView):
    """The assumptions ranked by how much they move a metric; ``plot()`` draws the tornado chart."""

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The tornado chart (in the study folder)."""
        from sim.present.plots.study_figures import sensitivity_figures

        assert self.folder is not None
        return [f for w in sensitivity_figures(self.folder) for f in w.files]


@dataclass
class Backlog(StudyView):
    """A saved run's exact count of trucks day by day (``summary``) and each replication's peak."""

    @property
    def peaks(self) -> pd.DataFrame:
        """Each replication's exact peak."""
        peaks = getattr(self.result, "peaks", None)
        return peaks if peaks is not None else pd.DataFrame()

    @cached_property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The daily counts and the peaks."""
        return {"days": self.summary, "peaks": self.peaks}

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The run's backlog figure."""
        assert self.folder is not None
        return _plot(self.folder, "backlog", out)


@dataclass
class Forecast(StudyView):
    """A forecast from an observed state: the outcomes per variant (``summary``), the daily fan
    (``daily``), and each policy's decision summary."""

    @property
    def daily(self) -> pd.DataFrame | None:
        """The daily fan of trucks waiting."""
        return getattr(self.result, "daily", None)

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The forecast fan, with the state as its first point."""
        from sim.present.plots.forecast import plot_forecast

        assert self.folder is not None
        return plot_forecast(self.folder, self.result.direction, out)


@dataclass
class Uncertainty(StudyView):
    """The 5-50-95% band of every metric over input sets drawn from the scenario's ``uncertain:`` ranges
    (``summary``), the daily band of trucks waiting and the inputs that drive the width (``tables``)."""

    @cached_property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """samples, bands, bands_daily and drivers, read from the folder."""
        return self.result.tables

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The band of trucks waiting and the drivers chart (PNG and SVG)."""
        from sim.present.plots import PLOTS_DIR
        from sim.present.plots.uncertainty import uncertainty_figures

        assert self.folder is not None
        target = Path(out) if out is not None else self.folder / PLOTS_DIR
        return [f for w in uncertainty_figures(self.folder, target, str(self.folder)) for f in w.files]


def _history_plot(result: Any, out: str | Path | None) -> list[Path]:
    if getattr(result, "run", None) is None or getattr(result, "observed", None) is None:
        return []
    from sim.present.plots.study_figures import observed_figures

    drawn = observed_figures(Path(out) if out else result.folder, result.run, result.observed, result.at_hour)
    return [f for w in drawn for f in w.files]


def title(study: str, result: Any) -> str:
    """A study's result in one line (the heading of its table in a notebook)."""
    name = getattr(result, "scenario", "")
    name = getattr(name, "name", name)
    if study == "calibrate":
        return f"{name}: calibrated ({result.method}) into {result.file}"
    if study == "optimise":
        met = "met" if result.met else "NOT met"
        return f"{name}: cheapest configuration for {result.target} ({met}): {result.chosen}"
    if study == "sensitivity":
        return f"{name}: assumptions ranked by their effect on {result.metric} ({result.method})"
    if study == "forecast":
        return f"{name}: forecast from {result.start:%d %b %Y %H:%M} over {result.days:g} days"
    if study == "uncertainty":
        return f"{name}: band over {result.samples} input sets ({result.method})"
    if study == "validate-history":
        return getattr(result, "title", None) or "reported vs simulated (95% CI)"
    return f"{name}: {study}" if name else study


def view(study: str, result: Any, summary: pd.DataFrame | None = None) -> Any:
    """The API's object for what ``study`` returned (``summary``: the study's summary table)."""
    if study == "run":
        return Run(result.folder, result.scenario, result.replications, result.summary)
    if study == "compare":
        from sim.store.manifest import read_manifest

        saved = (read_manifest(result.folder) or {}).get("scenarios", [])
        folders = {str(s["name"]): Path(s["run_folder"]) for s in saved}
        return Comparison(
            result.folder, result.names, result.replications, result.root_seed, result.table, folders
        )
    if study == "sweep":
        return Sweep(
            result.folder,
            result.scenario,
            [a.key for a in result.axes],
            result.replications,
            result.summary,
            result.table,
            [e.folder for e in result.experiments],
        )
    table = summary if summary is not None else pd.DataFrame()
    heading = title(study, result)
    folder = getattr(result, "folder", None)
    from sim.present.robust_text import RobustView  # it builds on StudyView, so imported here

    kinds: dict[str, type[StudyView]] = {
        "calibrate": Calibration,
        "validate-history": History,
        "optimise": Optimisation,
        "sensitivity": Sensitivity,
        "forecast": Forecast,
        "uncertainty": Uncertainty,
        "robust": RobustView,
    }
    return kinds.get(study, StudyView)(heading, folder, table, result)
