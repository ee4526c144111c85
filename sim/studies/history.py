"""Validation against history: reported figures beside the model's, with confidence intervals.

Each reported figure (``data/reported_2021.yaml``) names a metric of :mod:`sim.analysis.history`, the
reported number and its source. Rows without a reported number are outputs nobody tuned the model to
(the winter backlog). Replications run through the runner; the table gives their mean, a 95% t-interval
and the ratio simulated / reported, and is written with a manifest under ``<root>/history-<scenario>/``.

With observations from the user (:func:`validate_observed`: trucks waiting on given days, a CSV file;
see :mod:`sim.analysis.observed`), the scenario's replications are run into (or reused from) an ordinary
run folder, whose exact backlog series give each observation's simulated value; the comparison goes to
``observed.csv`` and ``observed.md`` in the same history folder, recorded under ``observed`` in its
manifest.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.analysis.history import KINDS, history_values, outside_reason
from sim.analysis.observed import (
    DEFAULT_AT_HOUR,
    ObservedError,
    compare_observed,
    hour_text,
    observed_error,
    read_observed,
    reading_times,
    simulated_values,
)
from sim.analysis.stats import t_half_width
from sim.errors import UserError
from sim.runner.backends import Backend
from sim.runner.experiment import REUSE, Experiment, Failure, plan
from sim.runner.pool import reduce_replications
from sim.runner.progress import Bar, Silent
from sim.scenario import LoadedScenario
from sim.scenario.schema import Scenario
from sim.store.layout import (
    HISTORY_MARKDOWN,
    HISTORY_TABLE,
    OBSERVED_MARKDOWN,
    OBSERVED_TABLE,
    crn_folder,
    finished_run,
    history_folder,
)
from sim.store.lock import folder_lock
from sim.store.manifest import (
    history_manifest,
    model_digest,
    now,
    read_manifest,
    scenario_digest,
    scenario_entry,
    seed_records,
    versions,
    write_manifest,
)
from sim.store.outputs import StudyFolder
from sim.store.reader import RunData, load_run
from sim.studies.common import (
    check_sizes,
    interrupt_hint,
    run_with_monitor,
)
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions, load_source
from sim.studies.registry import Replications, Setting, Study

DEFAULT_REPORTED = Path(__file__).resolve().parents[2] / "data" / "reported_2021.yaml"


# the period each section of the reported figures speaks of: figures without dates (the year's cleared
# value, shares) are computed over the whole run, so the run must be that period
PERIODS = {
    "year_2021": (datetime(2021, 1, 1), datetime(2022, 1, 1)),
    "winter_2021_22": (datetime(2021, 12, 1), datetime(2022, 4, 1)),
}


def _check_period(loaded: LoadedScenario, section: str) -> None:
    """Refuse a scenario whose run is not the period its reported figures speak of."""
    if section not in PERIODS:
        return
    first, last = PERIODS[section]
    run = loaded.scenario.run
    end = run.end
    begin = run.start + timedelta(hours=run.warmup * run.unit_hours)  # a warm-up before the period
    if abs(begin - first) >= timedelta(hours=1) or abs(end - last) > timedelta(days=1):
        raise UserError.single(
            str(loaded.path),
            "run",
            f"runs from {begin:%d %b %Y %H:%M} (after any warm-up) to {end:%d %b %Y %H:%M}, but the figures "
            f"'{section}' are of {first:%d %b %Y} to {last - timedelta(days=1):%d %b %Y}: validate-history "
            "compares a run of exactly that period (the 2021 year; with --winter, the winter 2021-22)",
        )


def load_reported(path: Path, section: str) -> list[dict[str, Any]]:
    """The reported figures of one section of the data file; a UserError names a malformed row."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError.single(str(path), "", f"cannot read the reported figures ({exc})") from None
    rows = (data or {}).get(section)
    if not isinstance(rows, list):
        raise UserError.single(str(path), section, "expected a list of reported figures")
    for i, row in enumerate(rows):
        kind = (row.get("metric") or {}).get("kind")
        if kind not in KINDS:
            raise UserError.single(str(path), f"{section}.{i}.metric.kind", f"one of {sorted(KINDS)}")
    return rows


def compare_history(
    s: Scenario,
    rows: list[dict[str, Any]],
    replications: int,
    seed: int,
    backend: Backend,
    on_done: Any = None,
) -> pd.DataFrame:
    """Simulated beside reported for each row: mean over replications, 95% half-width, ratio."""
    metrics = [r["metric"] for r in rows]
    reduce = functools.partial(history_values, metrics=metrics)
    values = np.array(reduce_replications(s, seed, replications, reduce, backend, on_done))
    out = []
    for j, row in enumerate(rows):
        x = values[:, j].astype(float)
        reported = row.get("reported")
        why = outside_reason(s, row["metric"])
        out.append(
            {
                "figure": row["label"],
                "reported": reported,
                "simulated": math.nan if why else float(x.mean()),
                "ci95_half_width": math.nan if why else t_half_width(x),
                "ratio": float(x.mean()) / reported if reported and not why else math.nan,
                "source": row.get("source", "model output (not compared)"),
                "note": why or "",
            }
        )
    return pd.DataFrame(out)


@dataclass
class HistoryResult:
    """Reported against simulated, one table per scenario checked, and where they were written."""

    folder: Path
    tables: list[tuple[Scenario, int, pd.DataFrame]]  # scenario, replications, its rows

    @property
    def table(self) -> pd.DataFrame:
        """All rows, with a ``scenario`` column first."""
        frames = [df.assign(scenario=s.name)[["scenario", *df.columns]] for s, _, df in self.tables]
        return pd.concat(frames, ignore_index=True)


def validate_history(
    source: ScenarioSource,
    options: StudyOptions = DEFAULTS,
    *,
    winter: ScenarioSource | None = None,
    reported: Path = DEFAULT_REPORTED,
) -> HistoryResult:
    """Run the 2021 scenario (and the winter, if given) and compare them with the reported figures."""
    backend = options.resolved_backend()
    overrides, replications, seed = options.overrides, options.replications, options.seed
    parts: list[tuple[str, LoadedScenario]] = [("year_2021", load_source(source, overrides))]
    if winter is not None:
        parts.append(("winter_2021_22", load_source(winter, overrides)))
    options.check_replications(least=2)
    check_sizes([ld for _, ld in parts], options.max_trucks, replications)
    rows = {section: load_reported(reported, section) for section, _ in parts}
    for section, ld in parts:
        _check_period(ld, section)
    folder = options.out or history_folder(options.root, parts[0][1].scenario.name)
    monitor, argv = options.monitor or Silent(), options.argv
    plan = [
        (
            section,
            ld,
            replications or max(2, ld.scenario.run.replications),
            ld.scenario.run.seed if seed is None else seed,
        )
        for section, ld in parts
    ]
    monitor.begin([Bar(ld.scenario.name, reps) for _, ld, reps, _ in plan])
    tables = []
    with interrupt_hint("Nothing of this check was written; run it again."):
        for k, (section, ld, reps, root_seed) in enumerate(plan):
            df = compare_history(
                ld.scenario, rows[section], reps, root_seed, backend, lambda k=k: monitor.advance(k)
            )
            tables.append((ld.scenario, reps, df))
    result = HistoryResult(folder, tables)
    outputs = StudyFolder("history", folder)
    outputs.write_csv(HISTORY_TABLE, result.table)
    # the words come from present (a stated exception in tests/test_layers.py until the study registry
    # renders history.md after the study)
    from sim.present.history_text import markdown_table

    outputs.write_text(HISTORY_MARKDOWN, markdown_table(result.table) + "\n")
    manifest = history_manifest(
        parts[0][1], Path(reported), root_seed=plan[0][3], replications=plan[0][2], argv=list(argv)
    )
    earlier = read_manifest(folder) or {}
    if OBSERVED_KEY in earlier and (folder / OBSERVED_TABLE).is_file():  # keep the record of observed.csv
        manifest[OBSERVED_KEY] = earlier[OBSERVED_KEY]
    write_manifest(folder, manifest)
    return result


# ---- observations from the user ---------------------------------------------------------------------
OBSERVED_KEY = "observed"  # the manifest's entry for the observed comparison


@dataclass
class ObservedResult:
    """The scenario's simulated trucks waiting beside the user's observations, and where they went.

    ``table`` (a row per observation, see :func:`sim.analysis.observed.compare_observed`) and ``error``
    are None when replications failed (``failures``); ``run`` is the run folder the values were read
    from (its backlog series also draw the figure)."""

    folder: Path
    scenario: Scenario
    replications: int
    root_seed: int
    at_hour: float
    observed: pd.DataFrame
    experiment: Experiment
    failures: list[Failure]
    run: RunData | None = None
    table: pd.DataFrame | None = None
    error: ObservedError | None = None
    notes: list[str] | None = None

    @property
    def title(self) -> str:
        """What the table shows, in words."""
        return (
            f"{self.scenario.name}: trucks waiting at {hour_text(self.at_hour)}, observed vs simulated "
            f"({self.replications} replications, 95% CI)"
        )


def _check_at_hour(at_hour: float) -> None:
    if not (math.isfinite(at_hour) and 0 <= at_hour < 24):
        raise UserError.single(
            None, "--at", f"must be an hour of the day from 0 to 24, e.g. 12 (got {at_hour})"
        )


def _observed_manifest(
    loaded: LoadedScenario, result: ObservedResult, observed_file: Path, argv: Sequence[str]
) -> dict[str, Any]:
    """The manifest entry of an observed comparison: the observations file, the run folder read, every
    seed, the definition of the daily value and the summary error."""
    assert result.error is not None
    return {
        **scenario_entry(loaded),
        "model_sha256": model_digest(),
        "observed_file": str(observed_file),
        "observed_sha256": hashlib.sha256(Path(observed_file).read_bytes()).hexdigest(),
        "run_folder": str(result.experiment.folder),
        "at_hour": result.at_hour,
        "title": result.title,
        "daily_value": f"trucks waiting at {hour_text(result.at_hour)} local time of the date (exact series)",
        "root_seed": result.root_seed,
        "replications": result.replications,
        "seeds": seed_records(result.root_seed, result.replications),
        "error": result.error.as_dict(),
        "command": list(argv),
        "created": now(),
        "versions": versions(),
    }


def validate_observed(
    source: ScenarioSource,
    observed: str | Path,
    options: StudyOptions = DEFAULTS,
    *,
    at_hour: float = DEFAULT_AT_HOUR,
) -> ObservedResult:
    """Run (or reuse) the scenario's replications and put their trucks waiting beside each observation.

    Everything the user can get wrong (the scenario, the observations file, the counts, the hour) is
    checked before anything runs or is written. The replications go to an ordinary run folder of the
    scenario (one already finished with the same scenario, seed and model code is reused, as compare
    does); the comparison is written to ``observed.csv`` and ``observed.md`` under the history folder
    (``out``, default ``<root>/history-<scenario>/``) with the manifest's ``observed`` entry."""
    _check_at_hour(at_hour)
    loaded = load_source(source, options.overrides)
    s = loaded.scenario
    options.check_replications(least=2)
    reps = options.replications or max(2, s.run.replications)
    check_sizes([loaded], options.max_trucks, reps)
    rows = read_observed(observed, s, at_hour)
    root_seed = options.root_seed(s)
    root, argv = options.root, options.argv
    digest = scenario_digest(s)
    run_dir = finished_run(root, s.name, digest, root_seed, reps) or crn_folder(
        root, s.name, root_seed, digest
    )
    exp = Experiment(loaded, run_dir, root_seed, reps)
    plan(exp, REUSE)
    folder = options.out or history_folder(root, s.name)
    result = ObservedResult(folder, s, reps, root_seed, at_hour, rows, exp, [])
    with interrupt_hint("Finished replications are kept; run the same command again to run only the rest."):
        result.failures = run_with_monitor(
            [exp], options.resolved_backend(), [(s.name, [0])], options.monitor, argv
        )
    if result.failures:
        return result
    run = load_run(exp.folder)
    run.replications = [r for r in run.replications if r < reps]
    times = reading_times(s, rows, at_hour)
    per_rep = np.vstack(
        [simulated_values(run.table("backlog_series", replication=r), rows, times) for r in run.replications]
    )
    result.run = run
    result.table = compare_observed(rows, per_rep)
    result.error = observed_error(result.table, reps)
    warm = times < s.run.warmup
    result.notes = (
        [f"{int(warm.sum())} observation(s) fall in the warm-up, when the model is still filling from empty"]
        if warm.any()
        else []
    )
    from sim.present.history_text import observed_markdown  # the words: see validate_history

    with folder_lock(folder):
        outputs = StudyFolder("history", folder)
        outputs.write_csv(OBSERVED_TABLE, result.table)
        outputs.write_text(OBSERVED_MARKDOWN, observed_markdown(result))
        manifest = read_manifest(folder) or {}
        entry = _observed_manifest(loaded, result, Path(observed), argv)
        if not manifest:  # a folder of observations only: its top level says what it holds
            manifest = {"kind": "history"}
            manifest |= {k: entry[k] for k in ("scenario", "scenario_files", "scenario_sha256", "root_seed")}
            manifest["replications"] = reps
        manifest[OBSERVED_KEY] = entry
        write_manifest(folder, manifest)
    return result


def check_history(
    source: ScenarioSource,
    options: StudyOptions = DEFAULTS,
    *,
    winter: ScenarioSource | None = None,
    reported: Path | None = None,
    observed: Path | None = None,
    at: str = "12:00",
) -> HistoryResult | ObservedResult | Any:
    """``validate-history``: the 2021 run (and the winter) against the reported figures; with
    ``observed``, a scenario's runs against the user's counts, or an uncertainty folder's band against
    them (:func:`sim.studies.uncertainty.observed_band`)."""
    from sim.analysis.observed import parse_hour

    if observed is None:
        return validate_history(source, options, winter=winter, reported=reported or DEFAULT_REPORTED)
    for option, value in (("--winter", winter), ("--reported", reported)):
        if value is not None:
            raise UserError.single(
                None,
                option,
                "compares with the reported figures, --observed with your observations: give one of them "
                "(run the command twice for both)",
            )
    at_hour = parse_hour(at)
    if isinstance(source, (str, Path)) and Path(source).is_dir():  # an uncertainty study's band
        from sim.store.bands import is_uncertainty_folder
        from sim.studies.uncertainty import observed_band

        if not is_uncertainty_folder(Path(source)):
            raise UserError.single(str(source), "", "a folder, but not a finished uncertainty study")
        return observed_band(Path(source), Path(observed), at_hour)
    return validate_observed(source, observed, options, at_hour=at_hour)


VALIDATE_HISTORY_DESCRIPTION = """\
Without --observed: run the calibrated 2021 scenario (and, with --winter, the winter 2021-22) and
compare them with the reported figures of data/reported_2021.yaml.

With --observed FILE.csv: run (or reuse) SCENARIO's replications and compare them with your own
observations of trucks waiting, one per line:

    date,gate,direction,value
    2021-06-14,huu_nghi,export,90
    2021-06-14,all,all,300

date is YYYY-MM-DD inside the run; gate is a gate of the scenario (its key or its name) or 'all';
direction is export, import or all; value is trucks waiting, a number at least 0 (an optional
'source' column is kept). The daily value compared is the number of trucks waiting (arrived at the
gate area and not yet crossed, turned back or diverted: before the yard, outside it and in it) at
--at (default 12:00) local time of that date, read from the exact backlog series; per row the mean
over replications with its 95% t-interval, the observed value and the ratio simulated / observed,
then the root mean square of ln(ratio) and how many observations fall inside the interval (and
inside the 95% prediction interval of one day's value, the fairer test of a single count). Writes
observed.csv, observed.md and plots/backlog.png (the observed points drawn) under
results/history-<scenario>/.
"""


STUDY = Study(
    name="validate-history",
    help="compare a run of the 2021 scenario (and the winter) with reported figures, or any "
    "scenario with observed trucks waiting (--observed)",
    order=50,
    function=check_history,
    source=Setting(
        "source",
        "path",
        "the calibrated 2021 scenario; with --observed, the scenario observed (or an uncertainty folder)",
        flag="",
        metavar="scenario",
    ),
    settings=(
        Setting("winter", "path", "the winter 2021-22 scenario (its backlog is reported)"),
        Setting("reported", "path", "reported figures (YAML; default: data/reported_2021.yaml)"),
        Setting(
            "observed",
            "path",
            "observed trucks waiting (columns date, gate, direction, value): compare SCENARIO with them "
            "instead of the reported figures",
            metavar="FILE.csv",
        ),
        Setting(
            "at",
            "text",
            "with --observed: the local time of day each date's simulated value is read at",
            metavar="HH:MM",
        ),
    ),
    shared=("seed", "parallel", "overrides", "root", "format", "out"),
    replications=Replications(None, least=2, per="replications", rule="the scenario's, at least 2"),
    description=VALIDATE_HISTORY_DESCRIPTION,
    summary_of=lambda result: result.table,
)
