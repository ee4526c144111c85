"""The morning twin: take in the counts the border reports, update the model, forecast with a band.

``assimilate(scenario, observed=FILE, until=..., particles=N, days=D, policies=..., hindcast=...)`` runs a
particle filter (:mod:`sim.analysis.smc`) over the scenario's ``uncertain:`` inputs: particles are draws
of the ranges (points of the unit cube), each with its own seed; each is run from the scenario's start to
``until + days`` and keeps only the counts the filter reads (:class:`sim.analysis.counts.CountReader`):
the model's value of every observation row and of every day of the observed groups. The observations
(:func:`sim.analysis.observed.read_observed`: waiting, crossed, turned_back) up to ``until`` are taken a
time step at a time, weighted by the default error model (:mod:`sim.analysis.likelihood`), resampled
and rejuvenated. **Scheme**: the simpler one the issue allows: a moved particle is re-simulated from the
start with its new inputs and a fresh seed (no saved state), so every particle is one pure run.

It writes into ``<root>/<scenario>/assimilate-<label or time>/``:

- ``posterior.csv``: each input's range (``low``, ``high``; a date as its ordinal day when ``dated``),
  its prior 5/50/95% points beside its posterior's, and the posterior mean (the final particles');
- ``assimilate_daily.csv``: per observed group and date, the 5/25/50/75/95% points of the model's count;
  ``part`` is ``prior`` before the first observation, ``filtered`` up to ``until`` (each date under the
  weights of the observations known by then) and ``forecast`` after it (the fan over ``days``);
- ``ess.csv``: each step's time, observations, effective sample size, resampled or not, moves accepted;
- with POLICY files, ``assimilate_policies.csv``: each variant run from the posterior particles, paired
  (:mod:`sim.studies.assimilate_policies`), and its decision summary in the result;
- with ``hindcast``, ``hindcast.csv`` and ``hindcast_rows.csv`` (:mod:`sim.studies.hindcast`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.counts import CountReader, Query
from sim.analysis.likelihood import MODELS, LogLikelihood, error_model
from sim.analysis.observed import DAY_COUNTS, DEFAULT_AT_HOUR, WHATS, read_observed
from sim.analysis.smc import Filtered, run_filter, weighted_quantiles
from sim.errors import UserError
from sim.runner.pool import run_tasks
from sim.runner.tasks import Outcome, Task
from sim.scenario import load_scenario
from sim.scenario.uncertain import Inputs, override
from sim.store import layout
from sim.store.outputs import StudyFolder
from sim.studies.assimilate_policies import check_policies, run_policies
from sim.studies.forecast import parse_datetime
from sim.studies.options import ScenarioSource, StudyOptions, load_source
from sim.studies.registry import POLICIES, Setting, Study

KIND = "assimilate"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SEED_SALT = 0xA551


@dataclass
class Twin:
    """What every filter of one study shares: the scenario, its inputs, the observations and a runner."""

    path: Path
    overrides: list[str]
    scenario: Any
    inputs: Inputs
    rows: pd.DataFrame  # the observations (read_observed), sorted by when
    root_seed: int
    backend: Any
    loglik: LogLikelihood
    moves: int = 1

    def sim_time(self, when: datetime) -> float:
        """A local time as the scenario's time from its start."""
        return (when - self.scenario.run.start) / timedelta(hours=self.scenario.run.unit_hours)

    def queries(self, rows: pd.DataFrame, end: datetime) -> tuple[list[Query], pd.DataFrame]:
        """The counts a particle keeps: each row's, then each day of each observed group to ``end``
        (the table of those days: date, gate, direction, what, known = when it is counted)."""
        out = [self._query(g, d, w, when, day) for g, d, w, when, day in _rows(rows)]
        first = self.scenario.run.start.date()
        days = []
        for gate, direction, what in dict.fromkeys(
            zip(rows["gate"], rows["direction"], rows["what"], strict=True)
        ):
            day = first
            while True:
                counted = what in DAY_COUNTS
                known = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=24.0 if counted else DEFAULT_AT_HOUR
                )
                if known > end:
                    break
                if not counted or day > first or self.scenario.run.start.hour == 0:
                    days.append(
                        {"date": day, "gate": gate, "direction": direction, "what": what, "known": known}
                    )
                    out.append(self._query(gate, direction, what, known, day))
                day += timedelta(days=1)
        return out, pd.DataFrame(days, columns=["date", "gate", "direction", "what", "known"])

    def _query(self, gate: str, direction: str, what: str, when: datetime, day: Any) -> Query:
        if what in DAY_COUNTS:
            t0 = self.sim_time(datetime.combine(day, datetime.min.time()))
            return Query(gate, direction, what, max(t0, 0.0), self.sim_time(when))
        t = self.sim_time(when)
        return Query(gate, direction, what, t, t)

    def simulator(self, queries: Sequence[Query], end: datetime):
        """``simulate(u, seeds)`` for the filter: each particle a run to ``end``, its counts back."""
        reader = CountReader(tuple(queries))
        hours = (end - self.scenario.run.start) / timedelta(hours=1)
        run = [f"run.horizon={hours / self.scenario.run.unit_hours!r}", "run.warmup=0"]

        def simulate(u: np.ndarray, seeds: np.ndarray) -> np.ndarray:
            tasks = []
            for point, seed in zip(u, seeds, strict=True):
                sets = [override(k, v) for k, v in self.inputs.settings(point).items()]
                s = load_scenario(self.path, [*self.overrides, *run, *sets]).scenario
                tasks.append(Task(s, self.root_seed, int(seed), reduce=reader))
            values = np.full((len(tasks), len(queries)), np.nan)

            def collect(k: int, outcome: Outcome) -> None:
                outcome.raise_problems()
                if outcome.failed:
                    raise RuntimeError(f"particle {k} failed: {outcome.error}")
                values[k] = outcome.value

            run_tasks(tasks, self.backend, collect)
            return values

        return simulate

    def filter(
        self,
        rows: pd.DataFrame,
        end: datetime,
        particles: int,
        seed: int,
        predict: pd.DataFrame | None = None,
    ) -> tuple[Filtered, pd.DataFrame]:
        """Filter ``rows`` with particles run to ``end``; the filter's result and the daily queries.
        The particles also count the rows of ``predict`` (columns after ``rows``'), never weighted by them."""
        both = rows if predict is None else pd.concat([rows, predict], ignore_index=True)
        queries, days = self.queries(both, end)
        steps = [np.flatnonzero(rows["when"].to_numpy() == t) for t in sorted(set(rows["when"]))]
        rel, abs_ = rows["rel_error"].to_numpy(float), rows["abs_error"].to_numpy(float)
        rng = np.random.default_rng([self.root_seed, SEED_SALT, seed])
        simulate = self.simulator(queries, end)
        observed = rows["value"].to_numpy(float)
        dims = len(self.inputs)
        found = run_filter(
            observed, rel, abs_, steps, simulate, particles, dims, rng, loglik=self.loglik, moves=self.moves
        )
        return found, days


def _rows(rows: pd.DataFrame):
    return zip(rows["gate"], rows["direction"], rows["what"], rows["when"], rows["date"], strict=True)


@dataclass
class AssimilateResult:
    """A finished assimilation: its folder and tables."""

    folder: Path
    scenario: str
    particles: int
    until: datetime
    days: float
    runs: int
    posterior: pd.DataFrame
    daily: pd.DataFrame
    ess: pd.DataFrame
    hindcast: pd.DataFrame | None = None
    comparison: pd.DataFrame | None = None  # with POLICY files: the variants over the posterior particles
    decisions: dict[str, Any] = field(default_factory=dict)  # each policy's decision summary
    failures: list[Any] = field(default_factory=list)

    @property
    def summary(self) -> pd.DataFrame:
        """The posterior of the inputs."""
        return self.posterior


def setup(source: ScenarioSource, options: StudyOptions, observed: str | Path, errors: str) -> Twin:
    """The scenario, its inputs, the observations and their error model, checked before anything runs."""
    loglik = error_model(errors)
    loaded = load_source(source, options.overrides)
    s = loaded.scenario
    if not s.uncertain:
        raise UserError.single(
            str(loaded.path), "uncertain", "assimilate needs an 'uncertain:' section: the inputs to learn"
        )
    rows = read_observed(observed, s, whats=WHATS).sort_values(["when", "line"], kind="stable")
    return Twin(
        loaded.path,
        list(loaded.overrides),
        s,
        Inputs(s),
        rows.reset_index(drop=True),
        options.root_seed(s),
        options.resolved_backend(),
        loglik,
    )


def assimilate(
    source: ScenarioSource,
    options: StudyOptions | None = None,
    *,
    observed: str | Path,
    policies: Sequence[str | Path] = (),
    until: str | None = None,
    particles: int = 32,
    days: float = 14.0,
    hindcast: bool = False,
    errors: str = "negative_binomial",
    **option_kwargs: Any,
) -> AssimilateResult:
    """Assimilate the observations up to ``until`` and forecast ``days`` days (module docstring)."""
    options = options or StudyOptions(**option_kwargs)
    if particles < 4:
        raise UserError.single(None, "--particles", f"a filter needs at least 4 particles (got {particles})")
    if not (math.isfinite(days) and days > 0):
        raise UserError.single(None, "--days", f"must be a positive number of days (got {days})")
    twin = setup(source, options, observed, errors)
    check_policies(twin, policies)
    last = max(twin.rows["when"])
    stop = parse_datetime(until, "--until") if until else last
    used = twin.rows[twin.rows["when"] <= stop].reset_index(drop=True)
    if used.empty:
        raise UserError.single(None, "--until", f"no observation is at or before {stop.isoformat()}")
    end = stop + timedelta(days=days)
    found, day_table = twin.filter(used, end, particles, 0)
    posterior = posterior_table(twin.inputs, found)
    daily = daily_table(found, used, day_table, stop)
    ess = ess_table(found, used)
    out = StudyFolder.for_study(options.root, twin.scenario.name, KIND, label=options.label, out=options.out)
    result = AssimilateResult(
        out.folder, twin.scenario.name, particles, stop, float(days), found.runs, posterior, daily, ess
    )
    if policies:
        result.comparison, result.decisions = run_policies(twin, found, policies, end)
    if hindcast:
        from sim.studies.hindcast import hindcast_scores

        result.hindcast, rows = hindcast_scores(twin, particles)
    with out.open():
        out.write_csv(layout.POSTERIOR_TABLE, posterior)
        out.write_csv(layout.ASSIMILATE_DAILY, daily)
        out.write_csv(layout.ESS_TABLE, ess)
        out.write_csv(layout.PARTICLES_TABLE, particles_table(twin.inputs, found))
        if result.comparison is not None:
            out.write_csv(layout.ASSIMILATE_POLICIES, result.comparison)
        if result.hindcast is not None:
            out.write_csv(layout.HINDCAST_TABLE, result.hindcast)
            out.write_csv(layout.HINDCAST_ROWS, rows)
        out.write_manifest(
            None,
            argv=options.argv,
            scenario=str(twin.path),
            observed=str(Path(observed).absolute()),
            until=stop.isoformat(),
            particles=particles,
            days=float(days),
            runs=found.runs,
            root_seed=twin.root_seed,
            scheme="resample-move, re-simulated from the start",
        )
    return result


def particles_table(inputs: Inputs, found: Filtered) -> pd.DataFrame:
    """The final particles: each one's weight and, per input, its point of the range (``u:NAME``, in
    [0, 1]) and its value; what ``robust --twin`` draws its input sets from."""
    table = pd.DataFrame({"particle": np.arange(len(found.weights)), "weight": found.weights})
    for j, item in enumerate(inputs.items):
        table[f"u:{item.name}"] = found.u[:, j]
        table[item.name] = [_number(item.value(x)) for x in found.u[:, j]]
    return table


def posterior_table(inputs: Inputs, found: Filtered) -> pd.DataFrame:
    """Each input's prior 5/50/95% points beside the posterior's, and the posterior mean."""
    rows = []
    for j, item in enumerate(inputs.items):
        values = np.array([_number(item.value(x)) for x in found.u[:, j]])
        q = weighted_quantiles(values[:, None], found.weights, (0.05, 0.5, 0.95))[:, 0]
        prior = [_number(item.value(p)) for p in (0.05, 0.5, 0.95)]
        rows.append(
            {
                "input": item.name,
                "range": item.range_text(),
                "low": _number(item.value(0.0)),
                "high": _number(item.value(1.0)),
                "dated": item.dated,
                "prior_p5": prior[0],
                "prior_p50": prior[1],
                "prior_p95": prior[2],
                "posterior_p5": q[0],
                "posterior_p50": q[1],
                "posterior_p95": q[2],
                "posterior_mean": float(found.weights @ values),
                "posterior_u_mean": float(found.weights @ found.u[:, j]),
            }
        )
    return pd.DataFrame(rows)


def _number(value: Any) -> float:
    """An input's value as a number (a date as its ordinal day)."""
    return float(value.toordinal()) if hasattr(value, "toordinal") else float(value)


def daily_table(found: Filtered, rows: pd.DataFrame, days: pd.DataFrame, until: datetime) -> pd.DataFrame:
    """The daily counts' bands: prior before the first step, filtered to ``until``, the fan after."""
    n_rows = len(rows)
    times = [rows["when"].iloc[s.rows[0]] for s in found.steps]
    out = []
    for k, day in enumerate(days.itertuples(index=False)):
        col = n_rows + k
        if day.known > until:
            values, weights, part = found.values[:, col], found.weights, "forecast"
        else:
            known = np.datetime64(day.known)
            i = int(np.searchsorted(np.array(times, dtype="datetime64[ns]"), known, "right")) - 1
            snap = found.steps[max(i, 0)]
            weights = snap.weights if i >= 0 else np.full(len(snap.weights), 1 / len(snap.weights))
            values, part = snap.values[:, col], "filtered" if i >= 0 else "prior"
        q = weighted_quantiles(values[:, None], weights, QUANTILES)[:, 0]
        out.append(
            {
                "date": day.date.isoformat(),
                "gate": day.gate,
                "direction": day.direction,
                "what": day.what,
                "part": part,
                **{f"p{round(100 * p)}": v for p, v in zip(QUANTILES, q, strict=True)},
            }
        )
    table = pd.DataFrame(out)
    seen = rows.assign(date=[d.isoformat() for d in rows["date"]]).groupby(
        ["date", "gate", "direction", "what"]
    )
    observed = seen["value"].first().rename("observed").reset_index()
    return table.merge(observed, on=["date", "gate", "direction", "what"], how="left")


def ess_table(found: Filtered, rows: pd.DataFrame) -> pd.DataFrame:
    """Each step's time, observations, ESS, whether it resampled and the moves accepted."""
    return pd.DataFrame(
        [
            {
                "step": k,
                "when": rows["when"].iloc[s.rows[0]].isoformat(),
                "observations": len(s.rows),
                "ess": s.ess,
                "resampled": s.resampled,
                "accepted": s.accepted,
            }
            for k, s in enumerate(found.steps)
        ]
    )


STUDY = Study(
    name="assimilate",
    help="take in observed counts (trucks waiting, crossed, turned back) with a particle filter over the "
    "'uncertain:' inputs: the posterior inputs, the filtered past and a forecast fan",
    order=95,
    function=assimilate,
    source=Setting(
        "source", "path", "the scenario YAML (with an uncertain: section)", flag="", metavar="SCENARIO"
    ),
    settings=(
        POLICIES,
        Setting(
            "observed",
            "path",
            "the observations CSV (date,gate,direction,what,value[,error])",
            metavar="FILE",
        ),
        Setting(
            "until", "text", "assimilate rows up to this local time (default: the last)", metavar="DATETIME"
        ),
        Setting("particles", "int", "particles of the filter", metavar="N", minimum=4),
        Setting("days", "float", "days to forecast after --until", metavar="N", minimum=0.0),
        Setting("hindcast", "flag", "score the forecasts made from each observation date on the later rows"),
        Setting(
            "errors",
            "text",
            "the counts' error model: negative_binomial (variance m + (r m)^2 + a^2 around the model's "
            "count m, r and a from the error column, r 10% by default) or poisson (a count's own "
            "scatter only; the error column ignored)",
            metavar="MODEL",
            choices=tuple(MODELS),
        ),
    ),
    shared=("seed", "parallel", "overrides", "root", "format", "out", "label"),
    replications=None,
)
