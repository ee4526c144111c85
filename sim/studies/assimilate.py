"""The morning twin: take in the counts the border reports, update the model, forecast with a band.

``assimilate(scenario, observed=FILE, until=..., particles=N, days=D, policies=..., hindcast=...)`` runs a
particle filter (:mod:`sim.analysis.smc`) over the scenario's ``uncertain:`` inputs and the model's
state. The observations (:func:`sim.analysis.observed.read_observed`: waiting, crossed, turned_back) up
to ``until`` are taken a time step (an observation time) at a time, weighted by the default error model
(:mod:`sim.analysis.likelihood`), resampled and rejuvenated.

**Scheme: particles continue from their saved state** (the forecast's state machinery). A particle is
its point of the input ranges, its state at the current step time ``t_k`` (the trucks waiting then, as
state-file rows: :func:`sim.analysis.state_at.state_at`) and the counts it has produced so far: "a
particle keeps only what the filter reads", never its tables. The first step runs each prior particle
from the scenario's start to ``t_1``; each later step runs it from its state at ``t_k`` to ``t_(k+1)``
(a scenario whose ``run.start`` is ``t_k`` and ``run.initial_state`` the state, with the particle's
inputs and a seed of its own for that segment: :mod:`sim.analysis.segments`); the worker reads the
segment's counts and the state at its end from the tables and sends back only those. After the last
step, the forecast fan continues each final particle from its state to ``until + days``. So every
particle simulates the span once (``simulated_days``), however many steps there are.

What carries over, and what does not:

- each truck waiting at ``t_k`` keeps its gate, direction, class, place (the stage it was queued for or
  in; a truck in service starts that stage's service again) and its arrival in the province, to the
  minute (the cargo's clock: shelf life and patience count from it);
- a count of a window that straddles a step time (a day's crossings) is the sum of its segments';
- a moved particle (rejuvenated after a resampling) keeps its parent's state and goes on with its new
  inputs, from ``t_k`` on: its past is not re-simulated with them (the approximation the issue accepts);
- a dated input (a date in a range) whose date is at or before ``t_k`` has acted in the state: the kernel
  keeps it, and does not move a date that is still to come to before ``t_k``;
- a yard size that moves below the trucks the state has in that yard sends the latest arrivals outside
  (:func:`sim.scenario.state.fit_yards`);
- the model's other memory (a closure drawn at random, a truck between two gates after a diversion, the
  part of a day's cap already used at the cut: a segment starts with the day's full quota) is not in the
  state: each segment draws or starts its own. Steps at 08:00 leave little of a day's quota used.

It writes into ``<root>/<scenario>/assimilate-<label or time>/``:

- ``posterior.csv``: each input's range (``low``, ``high``; a date as its ordinal day when ``dated``),
  its prior 5/50/95% points beside its posterior's, and the posterior mean (the final particles');
- ``assimilate_daily.csv``: per observed group and date, the 5/25/50/75/95% points of the model's count;
  ``part`` is ``prior`` before the first observation, ``filtered`` up to ``until`` (each date under the
  weights of the observations known by then) and ``forecast`` after it (the fan over ``days``);
- ``ess.csv``: each step's time, observations, effective sample size, resampled or not, share moved;
- with POLICY files, ``assimilate_policies.csv``: each variant run from the posterior particles, paired
  (:mod:`sim.studies.assimilate_policies`), and its decision summary in the result;
- with ``hindcast``, ``hindcast.csv`` and ``hindcast_rows.csv`` (:mod:`sim.studies.hindcast`).
"""

from __future__ import annotations

import copy
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
from sim.analysis.segments import SegmentReader, segment_queries
from sim.analysis.smc import Filtered, run_filter, weighted_quantiles
from sim.errors import UserError
from sim.runner.backends import executor
from sim.runner.pool import run_tasks
from sim.runner.tasks import Outcome, Task
from sim.scenario.loader import read_document, scenario_from
from sim.scenario.schema import InitialState, StateGroup
from sim.scenario.state import fit_yards, state_problems
from sim.scenario.uncertain import Inputs, override
from sim.store import layout
from sim.store.outputs import StudyFolder
from sim.studies.assimilate_policies import check_policies, derived_seed, run_policies
from sim.studies.forecast import parse_datetime
from sim.studies.options import ScenarioSource, StudyOptions, load_source
from sim.studies.registry import POLICIES, Setting, Study

KIND = "assimilate"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SEED_SALT = 0xA551  # also assimilate_policies.SEED_SALT
CACHE_SIZE = 4096  # validated scenarios kept by input point (a particle's, until it moves)


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
    document: tuple[Path, dict[str, Any], tuple[Path, ...]]
    simulated_days: float = 0.0  # particle-days simulated so far (each particle's segments, summed)
    pool: Any = None  # the study's workers, kept from segment to segment (run_tasks' pool)
    cache: dict[tuple[str, bytes, bool], Any] = field(default_factory=dict)  # scenarios by input point

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

    def particle_scenario(
        self,
        u: np.ndarray,
        start: datetime,
        end: datetime,
        state: pd.DataFrame | None,
        document: tuple[Path, dict[str, Any], tuple[Path, ...]] | None = None,
    ) -> Any:
        """The scenario of one particle's segment: its inputs, run from ``start`` to ``end`` with the
        trucks of ``state`` waiting (None: the scenario's own start). ``document`` (a policy's) defaults
        to the scenario's, read once (:func:`sim.scenario.loader.read_document`); the scenario of each
        input point is validated once (every check a file and --set pass) and each segment changes only
        its run's start, horizon and starting state, as ``forecast --start`` does."""
        document = document or self.document
        key = (str(document[0]), np.asarray(u, dtype=float).tobytes(), state is None)
        s = self.cache.get(key)
        if s is None:
            path, data, files = document
            data = copy.deepcopy(data)
            data.pop("uncertain", None)  # checked once, when the study loaded the scenario
            own = [o for o in self.overrides if state is None or not o.startswith("run.initial_state")]
            sets = [override(k, v) for k, v in self.inputs.settings(u).items()]
            s = scenario_from(path, data, files, [*own, "run.warmup=0", *sets]).scenario
            if len(self.cache) >= CACHE_SIZE:
                self.cache.pop(next(iter(self.cache)))
            self.cache[key] = s
        hours = (end - start) / timedelta(hours=1)
        run = {"start": start, "horizon": hours / s.run.unit_hours}
        if state is not None:
            groups = [StateGroup.model_construct(**g) for g in state_groups(state)]  # state_at's own rows
            run["initial_state"] = InitialState(groups=fit_yards(s, groups))
        s = s.model_copy(update={"run": s.run.model_copy(update=run)})
        problems = state_problems(s)
        if problems:
            raise UserError(problems)
        return s

    def advancer(self, queries: Sequence[Query], times: Sequence[datetime], end: datetime, seed: int):
        """``advance(k, u, seeds, states)`` for the filter: segment k from ``times[k-1]`` (the scenario's
        start for k = 0) to ``times[k]`` (``end`` past the last), each particle from its saved state."""
        queries = tuple(queries)
        bounds = [self.scenario.run.start, *times, end]
        root = derived_seed(self.root_seed, seed)

        def advance(k: int, u: np.ndarray, seeds: np.ndarray, states: list[Any] | None):
            a, b = bounds[k], bounds[k + 1]
            last = k == len(bounds) - 2
            index, shifted = segment_queries(queries, self.sim_time(a), self.sim_time(b), first=k == 0)
            at = None if last else (b - a) / timedelta(hours=self.scenario.run.unit_hours)
            reader = SegmentReader(CountReader(shifted), tuple(int(x) for x in index), len(queries), at)
            tasks = []
            for i, point in enumerate(u):
                state = states[i] if states is not None else None
                s = self.particle_scenario(point, a, b, state)
                tasks.append(Task(s, root, int(seeds[i]), reduce=reader))
            self.simulated_days += len(tasks) * (b - a) / timedelta(days=1)
            values = np.zeros((len(tasks), len(queries)))
            ends: list[Any] = [None] * len(tasks)

            def collect(i: int, outcome: Outcome) -> None:
                outcome.raise_problems()
                if outcome.failed:
                    raise RuntimeError(f"particle {i} failed: {outcome.error}")
                values[i], ends[i] = outcome.value

            run_tasks(tasks, self.backend, collect, pool=self.pool)
            return values, ends

        return advance

    def holder(self, times: Sequence[datetime]):
        """``hold(k, u, proposal)`` for the filter: a dated input that has acted by step k's time keeps its
        value, and one still to come is not moved to before it (module docstring)."""
        dated = [j for j, item in enumerate(self.inputs.items) if item.dated]

        def acted(j: int, x: float, now: datetime) -> bool:
            values = self.inputs.items[j].assignments(float(x)).values()
            return any(datetime.fromisoformat(str(v)) <= now for v in values)

        def hold(k: int, u: np.ndarray, proposal: np.ndarray) -> np.ndarray:
            out = proposal.copy()
            for j in dated:
                for i in range(len(u)):
                    if acted(j, u[i, j], times[k]) or acted(j, proposal[i, j], times[k]):
                        out[i, j] = u[i, j]
            return out

        return hold

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
        times = sorted(set(rows["when"]))
        steps = [np.flatnonzero(rows["when"].to_numpy() == t) for t in times]
        rel, abs_ = rows["rel_error"].to_numpy(float), rows["abs_error"].to_numpy(float)
        rng = np.random.default_rng([self.root_seed, SEED_SALT, seed])
        observed = rows["value"].to_numpy(float)
        found = run_filter(
            observed,
            rel,
            abs_,
            steps,
            self.advancer(queries, times, end, seed),
            particles,
            len(self.inputs),
            rng,
            loglik=self.loglik,
            hold=self.holder(times),
        )
        return found, days


def state_groups(state: pd.DataFrame) -> list[dict[str, Any]]:
    """State-file rows (:func:`sim.analysis.state_at.state_at`) as the fields of the state's groups."""
    columns = [state[c].tolist() for c in ("gate", "direction", "count", "class", "where", "arrived")]
    return [
        {
            "gate": gate,
            "direction": direction,
            "count": int(count),
            "truck_class": cls or None,
            "where": where or None,
            "arrived": datetime.fromisoformat(arrived) if arrived else None,
        }
        for gate, direction, count, cls, where, arrived in zip(*columns, strict=True)
    ]


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
    simulated_days: float = 0.0  # the filter's particle-days: particles x span, however many steps

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
        (loaded.path, *read_document(loaded.path)),
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
    with executor(twin.backend, particles) as twin.pool:  # workers started once for every segment
        return _assimilate(twin, options, observed, policies, used, stop, end, particles, days, hindcast)


def _assimilate(
    twin: Twin,
    options: StudyOptions,
    observed: str | Path,
    policies: Sequence[str | Path],
    used: pd.DataFrame,
    stop: datetime,
    end: datetime,
    particles: int,
    days: float,
    hindcast: bool,
) -> AssimilateResult:
    """The filter, the fan, the policies and the hindcast, on the study's workers; the tables written."""
    found, day_table = twin.filter(used, end, particles, 0)
    simulated_days = twin.simulated_days
    posterior = posterior_table(twin.inputs, found)
    daily = daily_table(found, used, day_table, stop)
    ess = ess_table(found, used)
    out = StudyFolder.for_study(options.root, twin.scenario.name, KIND, label=options.label, out=options.out)
    result = AssimilateResult(
        out.folder, twin.scenario.name, particles, stop, float(days), found.runs, posterior, daily, ess
    )
    result.simulated_days = simulated_days
    if policies:
        last = max(used["when"])
        result.comparison, result.decisions = run_policies(twin, found, policies, last, end)
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
            simulated_days=simulated_days,
            root_seed=twin.root_seed,
            scheme="particles continued from their saved state; Liu-West kernel after systematic resampling",
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
    """Each step's time, observations, ESS, whether it resampled and the share of particles moved."""
    return pd.DataFrame(
        [
            {
                "step": k,
                "when": rows["when"].iloc[s.rows[0]].isoformat(),
                "observations": len(s.rows),
                "ess": s.ess,
                "resampled": s.resampled,
                "moved": s.moved,
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
