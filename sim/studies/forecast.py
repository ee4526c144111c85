"""The forecast study: from today's queue (a starting state), the next days with and without a policy.

``forecast(scenario, options, state=FILE, start=DATETIME, days=N, policies=(...), until_below=M)`` runs
the scenario from ``start`` for ``days`` days with the trucks of the state file already waiting
(``run.initial_state``, placed by :mod:`sim.model.initial_state`): R replications of the base, and of
each policy file (``extends:`` the base) under the same root seed, so that replication k of every
variant shares its random numbers (common random numbers: the same starting trucks with the same draws,
the same arrivals). It returns, and writes into ``<root>/<scenario>/forecast-<label or time>/``:

- ``forecast_daily.csv``: trucks waiting (arrived at a gate, not yet crossed, turned back or diverted)
  per gate and for the province, per direction, read each day at the start's time of day (day 0 is the
  state itself), the mean over replications and its 95% Student-t interval;
- ``forecast.csv``: per variant, trucks crossed, turned back, diverted, spoiled (cargoes past their shelf
  life when they crossed, turned back or at the end, the state's trucks included; ``spoiled_before_start``
  says how many of them were already past it at the start), still waiting at the end, the peak, and the
  days until the province's waiting trucks first fall below ``until_below``; for each policy its paired
  difference from the base on each (common random numbers);
- ``state.csv`` (the state used), ``comparison.md`` (the decision summary, with policies) and the run
  folders of the variants (``points/point-0000`` the base, then the policies in order).

**When the queue falls below M.** In each replication, the first time the exact step series of the
group's trucks waiting (:mod:`sim.analysis.backlog`) is below M, counted from the state (0 if the state
is already below). Its mean over the replications that fell below within the horizon, with the 95%
Student-t interval of that mean, and the earliest and latest replication; the replications that never
fell below are counted and said ("3 of 20 not within 40 days"): their date is unknown, so with any of
them the mean is the mean of those that fell, an early estimate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.backlog import FlowChanges, daily, value_at
from sim.analysis.compare import comparison
from sim.analysis.decision import Decision, MetricRef, decide
from sim.analysis.metrics import not_modelled
from sim.analysis.stats import T_INTERVAL, paired_differences, summarize
from sim.errors import UserError
from sim.groups import ALL, DIRECTION_CHOICES
from sim.runner.experiment import REUSE, Experiment, Failure, plan
from sim.scenario.schema import InitialState
from sim.scenario.state import state_table
from sim.store.layout import (
    COMPARISON_MARKDOWN,
    FORECAST_DAILY,
    FORECAST_TABLE,
    STATE_FILE,
    sweep_point_folder,
)
from sim.store.outputs import StudyFolder
from sim.store.reader import load_run
from sim.store.tables import read_csv
from sim.studies.common import check_sizes, interrupt_hint, refuse_other_study, rerun_hint, run_with_monitor
from sim.studies.options import ScenarioSource, StudyOptions, load_source
from sim.studies.registry import POLICIES, Replications, Setting, Study

KIND = "forecast"
OUTCOMES = (
    "cleared",
    "trucks_turned_back",
    "trucks_diverted",
    "spoiled_trucks",
    "still_inside",
    "peak_waiting",
)
UNTIL = "days_until_below"
DEFAULT_OBJECTIVE = "spoiled_trucks"
DEFAULT_REPLICATIONS = 10  # or the scenario's, if more


def parse_datetime(text: str | datetime, option: str = "--start") -> datetime:
    """A local date and time (``2021-12-20T12:00``, or a date for its midnight); a UserError otherwise."""
    if isinstance(text, datetime):
        when = text
    else:
        try:
            when = datetime.fromisoformat(str(text).strip())
        except ValueError:
            raise UserError.single(
                None, option, f"{str(text)[:40]!r} is not a local date and time like 2021-12-20T12:00"
            ) from None
    if when.tzinfo is not None:
        raise UserError.single(None, option, "give the local time at the border without a UTC offset")
    return when


def state_age_hours(state: InitialState | None, start: datetime) -> float | None:
    """Hours from the newest truck of the state with an ``arrived`` date to ``start``: a queue read at
    ``start`` has trucks that arrived minutes or hours before it, so days of gap mean the state was taken
    on another day than ``--start`` (the trucks that came and went since are missing). None without dates."""
    dated = [g.arrived for g in state.groups if g.arrived is not None] if state is not None else []
    return (start - max(dated)) / timedelta(hours=1) if dated else None


@dataclass
class ForecastResult:
    """A finished forecast: its folder, the daily fan, the outcomes and each policy's decision summary."""

    folder: Path
    scenario: str
    start: datetime
    days: float
    replications: int
    state_trucks: int
    until_below: int | None
    direction: str
    variants: list[str]
    summary: pd.DataFrame  # forecast.csv
    daily: pd.DataFrame  # forecast_daily.csv
    decisions: dict[str, Decision] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    resume_hint: str = ""  # the command that finishes it (failures, an interrupt)
    state_age_h: float | None = None  # hours from the state's newest dated truck to the start, if dated

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The saved tables, read from the folder."""
        return {
            FORECAST_TABLE: read_csv(self.folder / FORECAST_TABLE),
            FORECAST_DAILY: read_csv(self.folder / FORECAST_DAILY),
            STATE_FILE: read_csv(self.folder / STATE_FILE),
        }

    def _repr_html_(self) -> str:
        shown = self.summary[(self.summary["gate"] == ALL) & (self.summary["direction"] == self.direction)]
        return (
            f"<p>Forecast of {self.scenario} from {self.start:%Y-%m-%d %H:%M} for {self.days:g} days "
            f"({self.replications} replications) in {self.folder}</p>"
            + shown[["variant", "metric", "mean", "ci_low", "ci_high"]].to_html(index=False)
        )


def forecast(
    source: ScenarioSource,
    options: StudyOptions | None = None,
    *,
    state: str | Path,
    start: str | datetime,
    days: float,
    policies: Sequence[str | Path] = (),
    until_below: int | None = None,
    direction: str = ALL,
    objective: str = DEFAULT_OBJECTIVE,
    **option_kwargs: object,
) -> ForecastResult:
    """Forecast ``days`` days from ``start`` with the trucks of ``state`` waiting, for the base and each
    policy (see the module docstring). Mistakes raise :class:`UserError` before anything runs."""
    options = options or StudyOptions(**option_kwargs)  # type: ignore[arg-type]
    options.check_replications(2)
    when = parse_datetime(start)
    if not (isinstance(days, int | float) and math.isfinite(days) and days > 0):
        raise UserError.single(None, "--days", f"must be a positive number of days (got {days})")
    if until_below is not None and until_below < 1:
        raise UserError.single(
            None, "--until-below", f"must be a whole number at least 1 (got {until_below})"
        )
    if direction not in (ALL, "export", "import"):
        raise UserError.single(None, "--direction", f"must be export, import or all (got {direction!r})")
    state_path = Path(state).absolute()
    first = load_source(source, options.overrides)
    hours = days * 24.0
    extra = (
        f"run.start={when.isoformat()}",
        f"run.horizon={hours / first.scenario.run.unit_hours!r}",
        "run.warmup=0",
        f"run.initial_state={json.dumps(str(state_path))}",  # quoted: a path is any string
    )
    base = load_source(source, [*options.overrides, *extra])
    variants = [base] + [load_source(p, [*options.overrides, *extra]) for p in policies]
    names = [v.scenario.name for v in variants]
    if len(set(names)) < len(names):
        raise UserError.single(
            None, "POLICY", f"two variants have the same name ({', '.join(names)}): rename one"
        )
    ref = MetricRef(objective, ALL, direction)
    reps = options.replications_for(
        base.scenario, default=max(base.scenario.run.replications, DEFAULT_REPLICATIONS)
    )
    check_sizes(variants, options.max_trucks, reps)
    backend = options.resolved_backend()
    seed = options.root_seed(base.scenario)
    out = StudyFolder.for_study(options.root, base.scenario.name, KIND, label=options.label, out=options.out)
    # the same forecast again (the command an interrupted one prints) reuses the finished replications;
    # a folder holding another study or another forecast is refused
    settings = {
        "start": when.isoformat(),
        "days": float(days),
        "state": str(state_path),
        "variants": names,
        "root_seed": seed,
    }
    refuse_other_study(out.folder, KIND, settings)
    experiments = [
        Experiment(v, sweep_point_folder(out.folder, k), seed, reps, about={"forecast": str(out.folder)})
        for k, v in enumerate(variants)
    ]
    for exp in experiments:
        plan(exp, REUSE)
    hint = rerun_hint(options.argv, out.folder)
    bars = [(f"{n}: forecast", [k]) for k, n in enumerate(names)]
    locks = ExitStack()

    def start() -> None:  # once the workers are up: lock the folder, and say (for list) it is partial
        locks.enter_context(out.open())
        out.write_manifest(base, argv=options.argv, complete=False, replications=reps, **settings)

    with locks:
        with interrupt_hint(hint):
            failures = run_with_monitor(experiments, backend, bars, options.monitor, options.argv, start)
        result = ForecastResult(
            out.folder,
            base.scenario.name,
            when,
            float(days),
            reps,
            base.scenario.run.initial_state.trucks if base.scenario.run.initial_state else 0,
            until_below,
            direction,
            names,
            pd.DataFrame(),
            pd.DataFrame(),
            failures=failures,
            resume_hint=hint,
            state_age_h=state_age_hours(base.scenario.run.initial_state, when),
        )
        if failures:
            return result
        at_hour = when.hour + when.minute / 60.0 + when.second / 3600.0
        per_rep, daily_rows, until = {}, [], {}
        for name, exp in zip(names, experiments, strict=True):
            metrics, series_daily, below = _analyse(exp, at_hour, until_below, direction)
            per_rep[name] = metrics
            daily_rows.append(series_daily.assign(variant=name))
            until[name] = below
        result.daily = _daily_summary(pd.concat(daily_rows, ignore_index=True))
        comp = comparison(
            per_rep,
            names[0],
            unmodelled={n: not_modelled(e.scenario) for n, e in zip(names, experiments, strict=True)},
        )
        result.summary = _summary(comp, until, names, until_below, direction)
        if len(names) > 1:
            rate = base.scenario.exchange_rate  # the base's: money also in dong where it states a rate
            result.decisions = {
                n: decide(comp[comp["scenario"].isin([names[0], n])], ref, rate=rate) for n in names[1:]
            }
            # the words come from present (a stated exception in tests/test_layers.py until the study
            # registry renders comparison.md after the study)
            from sim.present.decision_text import as_markdown

            out.write_text(
                COMPARISON_MARKDOWN, "\n\n".join(as_markdown(d) for d in result.decisions.values())
            )
        out.write_csv(FORECAST_TABLE, result.summary)
        out.write_csv(FORECAST_DAILY, result.daily)
        out.write_csv(STATE_FILE, state_table(base.scenario.run.initial_state.groups))  # type: ignore[union-attr]
        out.write_manifest(
            base,
            argv=options.argv,
            **settings,
            state_trucks=result.state_trucks,
            until_below=until_below,
            direction=direction,
            objective=objective,
            policies=[str(p) for p in policies],
            replications=reps,
        )
    return result


def _analyse(
    exp: Experiment, at_hour: float, until_below: int | None, direction: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One variant's per-replication outcomes (tidy metrics plus the state's cargoes already spoiled),
    daily trucks waiting per group, and the time its group first fell below ``until_below``."""
    run = load_run(exp.folder)
    s = exp.scenario
    metrics = exp.metrics()
    metrics = metrics[metrics["metric"].isin(OUTCOMES)]
    trucks = run.table("trucks", ["gate", "direction", "arrival", "origin_arrival", "shelf_left_h"])
    started = trucks[trucks["arrival"] < 0]
    past = (-started["origin_arrival"] * s.run.unit_hours) > started["shelf_left_h"]
    spoiled0 = started.assign(value=past.astype(float))
    extra = []
    for gate, dirn in [(g, d) for g in [*s.gates, ALL] for d in DIRECTION_CHOICES]:
        rows = spoiled0
        if gate != ALL:
            rows = rows[rows["gate"] == gate]
        if dirn != ALL:
            rows = rows[rows["direction"] == dirn]
        sums = rows.groupby("replication")["value"].sum().reindex(run.replications, fill_value=0.0)
        extra.append(
            pd.DataFrame(
                {
                    "replication": sums.index,
                    "gate": gate,
                    "direction": dirn,
                    "metric": "spoiled_before_start",
                    "value": sums.to_numpy(),
                }
            )
        )
    series = run.table("backlog_series")
    groups = [(g, d) for g in [*s.gates, ALL] for d in DIRECTION_CHOICES]
    days_rows, below_rows = [], []
    for rep, rows in series.groupby("replication", sort=True):
        changes = FlowChanges.of(rows.reset_index(drop=True))
        for gate, dirn in groups:
            steps = changes.steps(gate, dirn)
            d = daily(steps, s.run.start, s.run.unit_hours, s.run.horizon, "waiting", at_hour)
            d = d.dropna(subset=["at"])
            days_rows.append(d.assign(replication=rep, gate=gate, direction=dirn))
            if until_below is not None and gate == ALL and dirn == direction:
                below_rows.append({"replication": rep, "time": first_below(steps, until_below)})
    below = pd.DataFrame(below_rows, columns=["replication", "time"])
    below["days"] = below["time"] * s.run.unit_hours / 24.0
    tidy = pd.concat([metrics, *extra], ignore_index=True)
    return tidy, pd.concat(days_rows, ignore_index=True), below


def first_below(steps: pd.DataFrame, level: float) -> float:
    """The first time (from 0) the step series of trucks waiting is below ``level`` (the value at 0 is
    the state's, after every truck of it is placed), NaN if it never is."""
    if value_at(steps, np.array([0.0]))[0] < level:
        return 0.0
    last = (
        steps[steps["time"] > 0.0].groupby("time", sort=True)["waiting"].last()
    )  # the state after each instant
    hit = last[last.to_numpy() < level]
    return float(hit.index[0]) if len(hit) else math.nan


def _daily_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval of each day's count over replications, and the 5th and 95th percentiles of
    the replications (the spread of outcomes the fan draws), per variant and group."""
    keys = ["variant", "gate", "direction", "date"]
    out = summarize(rows.rename(columns={"at": "value"}), by=keys, counts=True)  # trucks: never below 0
    # the spread of outcomes (what one future may look like), beside the interval of the mean: the fan
    spread = rows.groupby(keys, sort=False, observed=True)["at"].quantile([0.05, 0.95]).unstack()
    spread.columns = ["p5", "p95"]
    out = out.merge(spread.reset_index(), on=keys, how="left")
    return out[[*keys, "n", "mean", "half_width", "ci_low", "ci_high", "interval", "p5", "p95"]]


def _summary(
    comp: pd.DataFrame,
    until: dict[str, pd.DataFrame],
    names: list[str],
    until_below: int | None,
    direction: str,
) -> pd.DataFrame:
    """forecast.csv: the comparison's rows of the outcomes, then the days until below with its paired
    difference."""
    keep = [
        "scenario",
        "role",
        "gate",
        "direction",
        "metric",
        "n",
        "mean",
        "half_width",
        "ci_low",
        "ci_high",
        "interval",
        "diff",
        "diff_low",
        "diff_high",
        "significant",
        "modelled",
    ]
    out = comp[[c for c in keep if c in comp.columns]].rename(columns={"scenario": "variant"})
    if until_below is None:
        return out.reset_index(drop=True)
    rows = []
    base = until[names[0]]
    for name in names:
        below = until[name]
        fell = below.dropna(subset=["days"])
        stats = summarize(fell.assign(metric=UNTIL, value=fell["days"]), by=["metric"]) if len(fell) else None
        row = {
            "variant": name,
            "role": "base" if name == names[0] else "policy",
            "gate": ALL,
            "direction": direction,
            "metric": UNTIL,
            "level": until_below,
            "n": len(fell),
            "never": int(below["days"].isna().sum()),
            "mean": float(stats["mean"].iloc[0]) if stats is not None else math.nan,
            "half_width": float(stats["half_width"].iloc[0]) if stats is not None else math.nan,
            "earliest": float(fell["days"].min()) if len(fell) else math.nan,
            "latest": float(fell["days"].max()) if len(fell) else math.nan,
            "modelled": True,
        }
        row["ci_low"], row["ci_high"] = row["mean"] - row["half_width"], row["mean"] + row["half_width"]
        row["interval"] = T_INTERVAL  # days, not a count
        if name != names[0]:
            pairs = paired_differences(
                base.assign(gate=ALL, direction=direction, metric=UNTIL, value=base["days"]),
                below.assign(gate=ALL, direction=direction, metric=UNTIL, value=below["days"]),
            )
            if len(pairs):
                row.update(
                    diff=float(pairs["diff"].iloc[0]),
                    diff_low=float(pairs["diff_low"].iloc[0]),
                    diff_high=float(pairs["diff_high"].iloc[0]),
                    significant=bool(pairs["significant"].iloc[0]),
                    n_pairs=int(pairs["n"].iloc[0]),
                )
        rows.append(row)
    return pd.concat([out, pd.DataFrame(rows)], ignore_index=True)


def date_of(start: datetime, days: float) -> datetime:
    """The local time ``days`` days after ``start``."""
    return start + timedelta(days=days)


STUDY = Study(
    name="forecast",
    help="forecast from a starting state (trucks waiting now): daily queue, when it falls below a "
    "level, spoiled, turned back and crossed, and each policy's paired difference",
    order=90,
    function=forecast,
    source=Setting("source", "path", "the scenario YAML (the base)", flag="", metavar="SCENARIO"),
    settings=(
        POLICIES,
        Setting("state", "path", "the state CSV (gate,direction,count,...)", metavar="FILE"),
        Setting("start", "text", "the state's local time, e.g. 2021-12-20T12:00", metavar="DATETIME"),
        Setting("days", "float", "days to forecast", metavar="N", minimum=0.0),
        Setting(
            "until_below", "int", "report when the waiting trucks first fall below N", metavar="N", minimum=1
        ),
        Setting(
            "direction",
            "text",
            "the direction --until-below and the tables count (default: both)",
            choices=DIRECTION_CHOICES,
        ),
        Setting("objective", "text", "what the decision summary ranks policies on", metavar="METRIC"),
    ),
    shared=("seed", "parallel", "overrides", "root", "format", "out", "label", "max_trucks"),
    replications=Replications(
        DEFAULT_REPLICATIONS, least=2, per="replications per variant", rule="10, or the scenario's if more"
    ),
)
