"""Validation against history: reported figures beside the model's, with confidence intervals.

Each reported figure (``data/reported_2021.yaml``) names a metric of :mod:`sim.analysis.history`, the
reported number and its source. Rows without a reported number are outputs nobody tuned the model to
(the winter backlog). Replications run through the runner; the table gives their mean, a 95% t-interval
and the ratio simulated / reported, and is written with a manifest under ``<root>/history-<scenario>/``.
"""

from __future__ import annotations

import functools
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
from sim.analysis.stats import t_half_width
from sim.errors import UserError
from sim.runner.backends import Backend
from sim.runner.pool import reduce_replications
from sim.runner.progress import Bar, Monitor, Silent
from sim.scenario import LoadedScenario, load_scenario
from sim.scenario.schema import Scenario
from sim.store.atomic import write_csv_atomic, write_text_atomic
from sim.store.layout import DEFAULT_ROOT, history_folder
from sim.store.manifest import history_manifest, write_manifest
from sim.studies.common import backend_or_default, check_counts, check_sizes, interrupt_hint

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
    end = run.start + timedelta(hours=run.horizon * run.unit_hours)
    if abs(run.start - first) >= timedelta(hours=1) or abs(end - last) > timedelta(days=1):
        raise UserError.single(
            str(loaded.path),
            "run",
            f"runs from {run.start:%d %b %Y %H:%M} to {end:%d %b %Y %H:%M}, but the reported figures "
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
    scenario: str | Path,
    *,
    winter: str | Path | None = None,
    reported: Path = DEFAULT_REPORTED,
    replications: int | None = None,
    seed: int | None = None,
    out: Path | None = None,
    backend: Backend | None = None,
    root: Path = DEFAULT_ROOT,
    monitor: Monitor | None = None,
    argv: Sequence[str] = (),
) -> HistoryResult:
    """Run the 2021 scenario (and the winter, if given) and compare them with the reported figures."""
    backend = backend_or_default(backend)
    parts: list[tuple[str, LoadedScenario]] = [("year_2021", load_scenario(scenario))]
    if winter is not None:
        parts.append(("winter_2021_22", load_scenario(winter)))
    check_sizes([ld for _, ld in parts])
    rows = {section: load_reported(reported, section) for section, _ in parts}
    for section, ld in parts:
        _check_period(ld, section)
    check_counts(replications, seed, least=2)
    folder = out or history_folder(root, parts[0][1].scenario.name)
    monitor = monitor or Silent()
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
    write_csv_atomic(folder / "history.csv", result.table)
    md = result.table.to_markdown(index=False, tablefmt="github", floatfmt=".4g")
    write_text_atomic(folder / "history.md", md + "\n")
    write_manifest(
        folder,
        history_manifest(
            parts[0][1], Path(reported), root_seed=plan[0][3], replications=plan[0][2], argv=list(argv)
        ),
    )
    return result
