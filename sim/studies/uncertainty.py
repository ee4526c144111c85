"""How sure is the answer, given what is not known? (``bordersim uncertainty``)

The scenario's ``uncertain:`` section (:mod:`sim.scenario.uncertain`) gives each input it does not know a
range. This study draws ``samples`` input sets over those ranges, a Latin hypercube or a scrambled Sobol
sequence (:mod:`scipy.stats.qmc`, seeded from the root seed, so the same seed draws the same sets), runs
every set as a point of the study (:class:`~sim.studies.points.Points`: ``points/point-NNNN`` run folders,
resumable, in parallel) with common random numbers: replication k of every sample uses the same seed, so
two samples differ by their inputs and not by their luck. It reports:

- ``bands.csv``: the 5%, 50% and 95% points, over the samples, of every metric per gate and direction,
  each sample taken as the mean over its replications. This is the spread of the answer across the
  inputs' ranges; with one replication per sample each sample's own noise is in it too;
- ``bands_daily.csv``: the same band of the daily count of trucks waiting per gate and direction, read at
  ``series_at`` local time from the exact ``backlog_series`` (:mod:`sim.analysis.backlog`) in the worker,
  while the replication's tables are in memory (:class:`~sim.analysis.daily_series.DailyWaiting`);
- ``drivers.csv``: which inputs drive the band's width, as the Spearman rank correlation of each input
  with each headline metric over the samples (a rank correlation needs no straight line, only a
  monotone tendency; its square is roughly the share of the ranks' variance the input explains);
- ``samples.csv``: each sample's inputs, its point folder and its headline metrics.

The bands are not confidence intervals: they say what the model answers over the inputs' ranges (each
range's distribution taken as given), not how precisely a single answer is estimated.

Each point keeps what the study reads, its metrics and its daily series (``daily_waiting``), not the
replications' tables (an input set of the winter would otherwise take about 33 MB a replication), unless
``keep_tables`` (``--tables``) asks for them too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.daily_series import DAILY_TABLE, DailyWaiting, daily_groups
from sim.analysis.metrics import not_modelled
from sim.analysis.observed import hour_text, parse_hour, read_observed
from sim.analysis.observed_band import band_error, compare_band
from sim.errors import UserError
from sim.groups import ALL
from sim.model.size import check_work, disk_bytes
from sim.runner.experiment import Failure
from sim.scenario import Scenario, load_scenario
from sim.scenario.uncertain import Inputs
from sim.store import layout
from sim.store.bands import UNCERTAINTY_KIND, is_uncertainty_folder, read_daily_bands, reading_time
from sim.store.manifest import read_manifest
from sim.store.outputs import StudyFolder
from sim.store.space import check_space
from sim.store.tables import read_csv, read_table
from sim.studies.common import refuse_other_study, rerun_hint
from sim.studies.options import ScenarioSource, StudyOptions, load_source
from sim.studies.points import Point, PointFailed, Points
from sim.studies.registry import Replications, Setting, Study

KIND = UNCERTAINTY_KIND
METHODS = ("lhs", "sobol")
QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}
HEADLINE = (
    "mean_clearance_h",
    "p95_clearance_h",
    "mean_wait_h",
    "peak_waiting",
    "cleared",
    "trucks_turned_back",
)
SEED_SALT = 0x5EED  # the draws' stream differs from every replication's, though both come from the seed


@dataclass
class UncertaintyResult:
    """A finished (or partly failed) uncertainty study: its folder and what it drew and ran."""

    folder: Path
    scenario: str
    method: str
    samples: int
    replications: int
    inputs: list[str]
    series_at: str
    failures: list[Failure] = field(default_factory=list)
    resume_hint: str = (
        "Run the same command again with the same --label or --out: finished samples are reused."
    )

    def _path(self, name: str) -> Path:
        return StudyFolder(KIND, self.folder).path(name)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """What the study saved, read from its folder (samples, bands, bands_daily, drivers)."""
        names = {
            "samples": layout.UNCERTAINTY_SAMPLES,
            "bands": layout.UNCERTAINTY_BANDS,
            "bands_daily": layout.UNCERTAINTY_SERIES,
            "drivers": layout.UNCERTAINTY_DRIVERS,
        }
        return {k: read_csv(self._path(v)) for k, v in names.items() if self._path(v).is_file()}

    @property
    def summary(self) -> pd.DataFrame:
        """The 5-50-95% band of every metric per gate and direction (``bands.csv``)."""
        return read_csv(self._path(layout.UNCERTAINTY_BANDS))

    def _repr_html_(self) -> str:
        bands = self.summary
        head = bands[(bands["gate"] == ALL) & bands["metric"].isin(HEADLINE)]
        return (
            f"<p><b>{self.scenario}</b>: uncertainty band over {self.samples} input sets ({self.method}), "
            f"{self.replications} replication(s) each, in <code>{self.folder}</code></p>"
            + head.to_html(index=False, float_format=lambda v: f"{v:,.2f}")
        )


def draw(method: str, samples: int, dimensions: int, seed: int) -> np.ndarray:
    """``samples`` points of the unit cube in ``dimensions``: a Latin hypercube or scrambled Sobol
    sequence seeded from ``seed`` (the same seed, the same points)."""
    from scipy.stats import qmc

    rng = np.random.default_rng([seed, SEED_SALT])
    if method == "sobol":
        return qmc.Sobol(dimensions, scramble=True, rng=rng).random_base2(int(math.log2(samples)))
    return qmc.LatinHypercube(dimensions, rng=rng).random(samples)


def uncertainty(
    source: ScenarioSource,
    options: StudyOptions | None = None,
    *,
    samples: int = 16,
    method: str = "lhs",
    series_at: str = "12:00",
    keep_tables: bool = False,
    **option_kwargs: Any,
) -> UncertaintyResult:
    """Draw ``samples`` input sets over the scenario's ``uncertain:`` ranges, run each with common random
    numbers and save the bands (see the module docstring). Mistakes raise UserError before anything
    runs; failed replications come back in ``result.failures`` (finished ones are kept)."""
    options = options or StudyOptions(**option_kwargs)
    options.check_replications(1)
    at_hour = parse_hour(series_at, "--series-at")
    if method not in METHODS:
        raise UserError.single(None, "--method", f"choose from {', '.join(METHODS)} (got {method!r})")
    if samples < 2:
        raise UserError.single(None, "--samples", f"a band needs at least 2 samples (got {samples})")
    if method == "sobol" and samples & (samples - 1):
        raise UserError.single(
            None,
            "--samples",
            f"a Sobol sequence is balanced at powers of 2: use 8, 16, 32... (got {samples})",
        )
    loaded = load_source(source, options.overrides)
    s = loaded.scenario
    if not s.uncertain:
        raise UserError.single(
            str(loaded.path),
            "uncertain",
            "this scenario has no 'uncertain:' section: give the inputs you do not know a range there "
            "(README: Uncertainty), e.g. uncertain: {demand.scale: {low: 0.9, high: 1.1, why: ...}}",
        )
    inputs = Inputs(s)
    root_seed = options.root_seed(s)
    reps = options.replications_for(s)
    # the work and the disk are checked before a set is drawn or loaded (a billion sets would fill the
    # memory in minutes): the base scenario's size stands for every set's
    runs = f"{samples:,} input sets x {reps:,} replication{'s' if reps != 1 else ''}"
    check_work(s, samples * reps, "--samples", runs, options.max_trucks, str(loaded.path))
    study = StudyFolder.for_study(options.root, s.name, KIND, label=options.label, out=options.out)
    check_space(
        study.folder, disk_bytes(s, samples * reps, keep_tables=keep_tables, folders=samples), "--samples"
    )
    cube = draw(method, samples, len(inputs), root_seed)
    # the daily series is read in the workers at series_at: another reading time is another study
    settings = {"method": method, "samples": samples, "root_seed": root_seed, "series_at": hour_text(at_hour)}
    refuse_other_study(study.folder, KIND, settings)  # the same study again reuses its finished samples
    result = UncertaintyResult(study.folder, s.name, method, samples, reps, inputs.names, hour_text(at_hour))
    result.resume_hint = rerun_hint(options.argv, study.folder)
    with Points.for_study(loaded, study.folder, options, KIND, settings) as points:
        chosen = []
        for u in cube:  # every sample loads (is valid) before anything runs
            point = points.get(inputs.settings(u))
            point.experiment.derive = DailyWaiting(at_hour)  # its daily series, not its tables
            point.experiment.keep_tables = keep_tables  # ... unless asked (--tables)
            chosen.append(point)
        try:
            points.run(chosen, reps, f"{samples} input sets")
        except PointFailed as exc:
            result.failures = exc.failures
            return result
    per_sample = _sample_metrics(chosen, reps, s)
    daily_values = _sample_daily(chosen, reps)
    table = _samples_table(inputs, cube, chosen, per_sample)
    with study.open():
        study.write_csv(layout.UNCERTAINTY_SAMPLES, table)
        study.write_csv(layout.UNCERTAINTY_BANDS, bands(per_sample, reps))
        study.write_csv(
            layout.UNCERTAINTY_SERIES, bands(daily_values, reps, by=["date", "gate", "direction"])
        )
        study.write_csv(layout.UNCERTAINTY_DRIVERS, drivers(inputs, cube, per_sample))
        study.write_manifest(
            loaded,
            argv=options.argv,
            overrides=list(loaded.overrides),
            method=method,
            samples=samples,
            replications=reps,
            root_seed=root_seed,
            series_at=result.series_at,
            inputs=[
                {
                    "key": i.name,
                    "range": i.range_text(),
                    "dist": i.spec.dist,
                    "scale": i.spec.scale,
                    "sets": [".".join(map(str, p)) for p, _ in i.targets],
                    "source": i.spec.source,
                    "why": i.spec.why,
                }
                for i in inputs.items
            ],
            points=[p.experiment.folder.name for p in chosen],
        )
    return result


def _sample_metrics(chosen: Sequence[Point], reps: int, s: Scenario) -> pd.DataFrame:
    """Each sample's mean of every metric over its replications (tidy: sample, metric, gate, direction,
    value); metrics the scenario does not model are left out rather than shown as 0."""
    absent = not_modelled(s)
    frames = []
    for k, point in enumerate(chosen):
        m = point.experiment.metrics()
        m = m[m["replication"] < reps]
        mean = m.groupby(["metric", "gate", "direction"], sort=False)["value"].mean().reset_index()
        mean.insert(0, "sample", k)
        frames.append(mean)
    out = pd.concat(frames, ignore_index=True)
    return out[~out["metric"].isin(absent)].reset_index(drop=True)


groups = daily_groups  # the (gate, direction) groups of the daily series


def _sample_daily(chosen: Sequence[Point], reps: int) -> pd.DataFrame:
    """Each sample's trucks waiting at the reading time on every date, per group, the mean over its
    replications (tidy: sample, date, gate, direction, value), from the daily series its workers kept."""
    frames = []
    for k, point in enumerate(chosen):
        series = read_table(point.experiment.folder, DAILY_TABLE, range(reps))
        values = series.groupby(["date", "gate", "direction"], sort=False)["value"].mean()
        frame = values.reset_index()
        frame.insert(0, "sample", k)
        frames.append(frame.dropna(subset=["value"]))
    return pd.concat(frames, ignore_index=True)


def bands(
    per_sample: pd.DataFrame, reps: int, by: Sequence[str] = ("metric", "gate", "direction")
) -> pd.DataFrame:
    """The 5%, 50% and 95% points over the samples of each group's values (plus their mean and count),
    with the replications behind each sample's value."""
    by = list(by)
    grouped = per_sample.dropna(subset=["value"]).groupby(by, sort=False)["value"]
    out = grouped.agg(samples="count", mean="mean").reset_index()
    for name, q in QUANTILES.items():
        out[name] = grouped.quantile(q).to_numpy()
    out["replications"] = reps
    return out


def _as_number(value: float | date) -> float:
    """An input value as a number to rank (a date as its day number)."""
    return float(value.toordinal()) if isinstance(value, date) else float(value)


def _samples_table(
    inputs: Inputs, cube: np.ndarray, chosen: Sequence[Point], per_sample: pd.DataFrame
) -> pd.DataFrame:
    """One row a sample: its point folder, each input's drawn value and its headline metrics (all gates)."""
    rows = []
    for k, (u, point) in enumerate(zip(cube, chosen, strict=True)):
        row: dict[str, Any] = {"sample": k, "point": point.experiment.folder.name}
        row |= dict(zip(inputs.names, inputs.values(u), strict=True))
        rows.append(row)
    table = pd.DataFrame(rows)
    head = per_sample[(per_sample["gate"] == ALL) & per_sample["metric"].isin(HEADLINE)]
    wide = head.assign(column=head["metric"] + "@all/" + head["direction"]).pivot(
        index="sample", columns="column", values="value"
    )
    return table.merge(wide, left_on="sample", right_index=True, how="left")


def drivers(inputs: Inputs, cube: np.ndarray, per_sample: pd.DataFrame) -> pd.DataFrame:
    """Spearman's rank correlation of each input with each headline metric of the province (per
    direction and both) over the samples, strongest first within each metric."""
    from scipy.stats import spearmanr

    values = np.array([[_as_number(v) for v in inputs.values(u)] for u in cube])
    head = per_sample[(per_sample["gate"] == ALL) & per_sample["metric"].isin(HEADLINE)]
    rows = []
    for (metric, direction), group in head.groupby(["metric", "direction"], sort=False):
        y = group.set_index("sample")["value"].reindex(range(len(cube))).to_numpy(dtype=float)
        ok = np.isfinite(y)
        for j, name in enumerate(inputs.names):
            x = values[ok, j]
            constant = ok.sum() < 3 or np.ptp(x) == 0 or np.ptp(y[ok]) == 0
            rho, p = (math.nan, math.nan) if constant else spearmanr(x, y[ok])
            rows.append(
                {
                    "metric": metric,
                    "gate": ALL,
                    "direction": direction,
                    "input": name,
                    "spearman": float(rho),
                    "p_value": float(p),
                    "samples": int(ok.sum()),
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["strength"] = out["spearman"].abs()
    out = out.sort_values(["metric", "direction", "strength"], ascending=[True, True, False], kind="stable")
    return out.drop(columns="strength").reset_index(drop=True)


@dataclass
class ObservedBand:
    """Observations set against an uncertainty study's daily band (``observed.csv`` in its folder)."""

    folder: Path
    scenario: str
    at: str
    table: pd.DataFrame
    error: dict[str, float | int]


def observed_band(folder: Path, observed: Path, at_hour: float | None = None) -> ObservedBand:
    """Set the observations of ``observed`` (date, gate, direction, value) against the daily band of the
    uncertainty study in ``folder``: how many fall inside its 90% band, and the log ratio of its median
    (:func:`sim.analysis.observed_band.compare_band`). The file is checked against the study's scenario, and
    the reading time must be the study's (its band was read then)."""

    folder = Path(folder)
    if not is_uncertainty_folder(folder):
        raise UserError.single(str(folder), "", "not a finished uncertainty folder (no bands_daily.csv)")
    saved = reading_time(folder)
    if at_hour is not None and hour_text(at_hour) != saved:
        raise UserError.single(
            None, "--at", f"this uncertainty study read the series at {saved}: give --at {saved}"
        )
    if not (read_manifest(folder) or {}).get("points"):
        raise UserError.single(str(folder), "", "its manifest names no input sets: run the study again")
    s = load_scenario(
        layout.sweep_point_folder(folder, 0) / layout.SCENARIO_FILE
    ).scenario  # the gates and dates
    rows = read_observed(observed, s, parse_hour(saved))
    table = compare_band(rows, read_daily_bands(folder))
    study = StudyFolder(KIND, folder)
    with study.open():
        study.write_csv(layout.OBSERVED_TABLE, table)
    return ObservedBand(folder, s.name, saved, table, band_error(table))


STUDY = Study(
    name="uncertainty",
    help="draw input sets over the scenario's 'uncertain:' ranges, run them with common random numbers "
    "and print the 5-50-95% band of every metric and of trucks waiting day by day",
    order=80,
    function=uncertainty,
    source=Setting("source", "path", "scenario YAML file", flag="", metavar="scenario"),
    settings=(
        Setting("samples", "int", "input sets to draw", minimum=1),
        Setting(
            "method",
            "text",
            "lhs: Latin hypercube; sobol: scrambled Sobol sequence (samples a power of 2)",
            choices=METHODS,
        ),
        Setting("series_at", "text", "time of day the daily series is read", metavar="HH:MM"),
        Setting(
            "keep_tables",
            "flag",
            "keep every replication's tables too, not only the metrics and the daily series",
            flag="--tables",
        ),
    ),
    shared=("seed", "parallel", "overrides", "root", "format", "out", "label", "max_trucks"),
    replications=Replications(None, per="replications per input set"),
)
