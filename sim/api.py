"""The Python API: runs, policy comparisons and sweeps from a notebook or a script.

::

    import sim
    base = sim.run("scenarios/lang_son_minimal.yaml", replications=4, overrides=["run.horizon=168"])
    base.summary                      # mean and 95% interval of every metric, per gate and direction
    cmp = sim.compare("scenarios/lang_son_minimal.yaml", "my_policy.yaml", replications=4)
    cmp                               # in a notebook: the province's table with paired differences
    cmp.plot("headline")              # figure files, drawn from what was saved
    cmp.tables["my_policy"].table("trucks")   # a saved table, read when asked for

The same studies, runner and results store as the command line (``bordersim run/compare/sweep``): a
comparison made here reuses the replications a command made, and the other way round. Nothing prints;
a mistake in an input raises :class:`sim.errors.UserError` naming the file and field, and failed
replications raise :class:`ReplicationsFailed` (the finished ones are kept in the folder).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.groups import ALL
from sim.runner.experiment import Failure
from sim.scenario import Scenario
from sim.store.reader import RunData, load_run
from sim.store.tables import read_csv
from sim.studies.options import ScenarioSource, StudyOptions

__all__ = [
    "Backlog",
    "Calibration",
    "Comparison",
    "Forecast",
    "History",
    "Optimisation",
    "ReplicationsFailed",
    "Run",
    "Sensitivity",
    "StudyOptions",
    "Sweep",
    "Uncertainty",
    "backlog",
    "calibrate",
    "compare",
    "forecast",
    "optimise",
    "run",
    "sensitivity",
    "sweep",
    "uncertainty",
    "validate_history",
]


class ReplicationsFailed(RuntimeError):
    """Some replications failed in their workers; the finished ones are kept in ``folder``."""

    def __init__(self, failures: Sequence[Failure], folder: Path, hint: str) -> None:
        self.failures = list(failures)
        self.folder = folder
        lines = [f"replication {f.replication} of {f.scenario} failed: {f.error}" for f in failures]
        super().__init__("\n".join([*lines, hint]))


def _options(options: StudyOptions | None, given: dict[str, Any]) -> StudyOptions:
    """The study options: ``options`` as given, with any keyword options laid over it (``root`` may be a
    string; ``overrides`` any sequence). The one place the API turns keywords into options."""
    base = options if options is not None else StudyOptions()
    given = {k: v for k, v in given.items() if v is not None}
    unknown = set(given) - set(StudyOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    return base.replace(**given) if given else base


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


def run(scenario: ScenarioSource, *, options: StudyOptions | None = None, **option: Any) -> Run:
    """Run replications of a scenario into a results folder and return its summary.

    Options are :class:`~sim.studies.options.StudyOptions` fields, as an object or keywords
    (``replications=4, overrides=["run.horizon=168"], jobs=2``); the folder is
    ``<root>/<scenario>/<label or time>`` unless ``out`` says; ``resume=True`` finishes a run cut short.
    """
    from sim.studies.run import run_scenario

    result = run_scenario(scenario, _options(options, option))
    if result.failures or result.summary is None:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    return Run(result.folder, result.scenario, result.replications, result.summary)


def compare(
    base: ScenarioSource,
    *policies: ScenarioSource,
    options: StudyOptions | None = None,
    objective: str = "mean_clearance_h",
    min_effect: Sequence[str] = (),
    **option: Any,
) -> Comparison:
    """Compare policy files with a base scenario file under common random numbers (paired differences;
    10 replications unless ``replications`` says). Scenarios already run with the same resolved scenario,
    seed and model code are reused, not rerun."""
    from sim.studies.compare import compare_policies

    result = compare_policies(
        base, list(policies), _options(options, option), objective=objective, min_effect=min_effect
    )
    if result.failures or result.table is None:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    from sim.store.manifest import read_manifest

    saved = (read_manifest(result.folder) or {}).get("scenarios", [])
    folders = {str(s["name"]): Path(s["run_folder"]) for s in saved}
    return Comparison(
        result.folder, result.names, result.replications, result.root_seed, result.table, folders
    )


def sweep(
    scenario: ScenarioSource,
    grid: Mapping[str, Sequence[Any]] | Sequence[str],
    *,
    keep_tables: bool = False,
    options: StudyOptions | None = None,
    **option: Any,
) -> Sweep:
    """Run every combination of the grid's values (``{"run.warmup": [24, 48]}`` or ``"KEY=V1,V2"``
    strings) for R replications each, with common random numbers across points."""
    import json

    from sim.studies.sweep import run_sweep

    specs = (
        [f"{key}={','.join(json.dumps(v) for v in values)}" for key, values in grid.items()]
        if isinstance(grid, Mapping)
        else list(grid)
    )
    result = run_sweep(scenario, specs, _options(options, option), keep_tables=keep_tables)
    if result.failures or result.summary is None or result.table is None:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    return Sweep(
        result.folder,
        result.scenario,
        [a.key for a in result.axes],
        result.replications,
        result.summary,
        result.table,
        [e.folder for e in result.experiments],
    )


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

    file: Path | None = None
    method: str = ""
    result: Any = None  # sim.studies.calibration.CalibrationResult


@dataclass
class History(StudyView):
    """A check against reported figures (or, with observations, against the user's counts)."""

    result: Any = None  # HistoryResult or ObservedResult

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The backlog figure with the observed points (a check against observations only)."""
        r = self.result
        if getattr(r, "run", None) is None or getattr(r, "observed", None) is None:
            return []
        from sim.present.plots.study_figures import observed_figures

        drawn = observed_figures(Path(out) if out else r.folder, r.run, r.observed, r.at_hour)
        return [f for w in drawn for f in w.files]


@dataclass
class Optimisation(StudyView):
    """The cheapest configuration meeting a target, and every evaluated point."""

    result: Any = None  # sim.studies.optimise.OptimiseResult


@dataclass
class Sensitivity(StudyView):
    """The assumptions ranked by how much they move a metric; ``plot()`` draws the tornado chart."""

    result: Any = None  # sim.studies.sensitivity.SensitivityResult

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The tornado chart (in the study folder)."""
        from sim.present.plots.study_figures import sensitivity_figures

        assert self.folder is not None
        return [f for w in sensitivity_figures(self.folder) for f in w.files]


@dataclass
class Backlog(StudyView):
    """A saved run's exact count of trucks day by day (``summary``) and each replication's peak."""

    peaks: pd.DataFrame | None = None

    @cached_property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The daily counts and the peaks."""
        return {"days": self.summary, "peaks": self.peaks if self.peaks is not None else pd.DataFrame()}

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The run's backlog figure."""
        assert self.folder is not None
        return _plot(self.folder, "backlog", out)


def calibrate(
    scenario: ScenarioSource,
    *,
    target_usd: float | None = None,
    tolerance: float = 0.01,
    free: Mapping[str, tuple[float, float]] | Sequence[str] = (),
    reported: str | Path | None = None,
    max_evaluations: int = 40,
    final_replications: int = 4,
    scale_only: bool = False,
    options: StudyOptions | None = None,
    **option: Any,
) -> Calibration:
    """Calibrate a scenario (its free parameters to the reported figures, or the arrival scale to
    ``target_usd``) and write ``<scenario>_calibrated.yaml`` beside it (``out`` names another file;
    ``force=True`` replaces an existing one)."""
    from sim.studies.calibration import calibrate_scenario

    result = calibrate_scenario(
        scenario,
        _options(options, option),
        target_usd=target_usd,
        tolerance=tolerance,
        free=free if isinstance(free, Mapping) else list(free),
        reported=None if reported is None else Path(reported),
        max_evaluations=max_evaluations,
        final_replications=final_replications,
        scale_only=scale_only,
    )
    title = f"{result.scenario}: calibrated ({result.method}) into {result.file}"
    return Calibration(title, result.folder, result.summary, result.file, result.method, result)


def validate_history(
    scenario: ScenarioSource,
    *,
    winter: ScenarioSource | None = None,
    observed: str | Path | None = None,
    at: str = "12:00",
    reported: str | Path | None = None,
    options: StudyOptions | None = None,
    **option: Any,
) -> History:
    """Compare runs with the reported figures (``data/reported_2021.yaml``), or, with ``observed`` (a
    CSV of date, gate, direction, value), with your own counts of trucks waiting read at ``at``."""
    from sim.analysis.observed import parse_hour
    from sim.studies.history import DEFAULT_REPORTED, validate_observed
    from sim.studies.history import validate_history as check

    opts = _options(options, option)
    if observed is not None:
        result = validate_observed(scenario, observed, opts, at_hour=parse_hour(at))
        if result.failures or result.table is None:
            raise ReplicationsFailed(result.failures, result.folder, "Run it again to run only the rest.")
        return History(result.title, result.folder, result.table, result)
    done = check(scenario, opts, winter=winter, reported=Path(reported) if reported else DEFAULT_REPORTED)
    return History("reported vs simulated (95% CI)", done.folder, done.table, done)


def optimise(
    scenario: ScenarioSource,
    variables: Sequence[str],
    target: str,
    *,
    costs: Sequence[str] = (),
    final_replications: int = 20,
    options: StudyOptions | None = None,
    **option: Any,
) -> Optimisation:
    """The cheapest integer configuration of ``variables`` (``"KEY=LOW..HIGH[:STEP]"``, costs
    ``"KEY=C"``) that meets ``target`` (``"p95_clearance_h@huu_nghi/export<=24"``)."""
    from sim.studies.optimise import optimise as search

    result = search(
        scenario, list(variables), target, _options(options, option), costs=costs,
        final_replications=final_replications,
    )  # fmt: skip
    if result.failures:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    met = "met" if result.met else "NOT met"
    title = f"{result.scenario}: cheapest configuration for {result.target} ({met}): {result.chosen}"
    table = result.evaluations if result.evaluations is not None else pd.DataFrame()
    return Optimisation(title, result.folder, table, result)


def sensitivity(
    scenario: ScenarioSource,
    *,
    metric: str = "mean_clearance_h",
    method: str = "oat",
    only: Sequence[str] = (),
    options: StudyOptions | None = None,
    **option: Any,
) -> Sensitivity:
    """Rank the scenario's ``# assumption:`` numbers by how much they move ``metric``."""
    from sim.studies.sensitivity import sensitivity as rank

    result = rank(scenario, _options(options, option), metric=metric, method=method, only=only)
    if result.failures or result.table is None:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    title = f"{result.scenario}: assumptions ranked by their effect on {result.metric} ({method})"
    return Sensitivity(title, result.folder, result.table, result)


def backlog(
    run_folder: str | Path,
    *,
    gate: str = ALL,
    direction: str = ALL,
    count: str = "waiting",
    at: str = "12:00",
) -> Backlog:
    """A saved run's exact count of trucks (waiting, outside, in_yard or before_yard) day by day at
    ``at``, with 95% intervals over the replications, and each replication's exact peak."""
    from sim.studies.backlog import read_backlog

    r = read_backlog(run_folder, gate=gate, direction=direction, count=count, at=at)
    title = f"trucks {count} at {r.at_text}, {gate} / {direction} ({len(r.run.replications)} replications)"
    return Backlog(title, r.folder, r.days, r.peaks)


@dataclass
class Forecast(StudyView):
    """A forecast from an observed state: the outcomes per variant (``summary``), the daily fan
    (``daily``), and each policy's decision summary."""

    daily: pd.DataFrame | None = None
    result: Any = None  # sim.studies.forecast.ForecastResult

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The forecast fan, with the state as its first point."""
        from sim.present.plots.forecast import plot_forecast

        assert self.folder is not None
        return plot_forecast(self.folder, self.result.direction, out)


def forecast(
    scenario: ScenarioSource,
    *policies: ScenarioSource,
    state: str | Path,
    start: str,
    days: float,
    until_below: int | None = None,
    direction: str = ALL,
    options: StudyOptions | None = None,
    **option: Any,
) -> Forecast:
    """Forecast ``days`` days from ``start`` with the trucks of the ``state`` file waiting, for the
    scenario and each policy started that day (common random numbers)."""
    from sim.studies.forecast import forecast as run_forecast

    result = run_forecast(
        scenario,
        _options(options, option),
        state=state,
        start=start,
        days=days,
        policies=list(policies),
        until_below=until_below,
        direction=direction,
    )
    if result.failures:
        raise ReplicationsFailed(result.failures, result.folder, "Run it again to run only the rest.")
    title = f"{result.scenario}: forecast from {result.start:%d %b %Y %H:%M} over {result.days:g} days"
    return Forecast(title, result.folder, result.summary, result.daily, result)


@dataclass
class Uncertainty(StudyView):
    """The 5-50-95% band of every metric over input sets drawn from the scenario's ``uncertain:`` ranges
    (``summary``), the daily band of trucks waiting and the inputs that drive the width (``tables``)."""

    result: Any = None  # sim.studies.uncertainty.UncertaintyResult

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


def uncertainty(
    scenario: ScenarioSource,
    *,
    samples: int = 16,
    method: str = "lhs",
    series_at: str = "12:00",
    options: StudyOptions | None = None,
    **option: Any,
) -> Uncertainty:
    """Draw ``samples`` input sets over the scenario's ``uncertain:`` ranges (Latin hypercube or Sobol),
    run each with common random numbers and return the bands and their drivers."""
    from sim.studies.uncertainty import uncertainty as run_uncertainty

    result = run_uncertainty(
        scenario, _options(options, option), samples=samples, method=method, series_at=series_at
    )
    if result.failures:
        raise ReplicationsFailed(result.failures, result.folder, result.resume_hint)
    title = f"{result.scenario}: band over {result.samples} input sets ({result.method})"
    return Uncertainty(title, result.folder, result.summary, result)
