"""The saved-runs browser of the what-if page: every what-if under the results root, newest first, with
when it ran, its base and period, the levers it changed and its headline effect, so that a planner can
find and reopen one without remembering folder names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.app import jobs
from sim.app.levers import Lever, changed, values_from_policy
from sim.present.page_text import headline_effect, policy_labels
from sim.studies.folders import COMPARISON

# what a planner looks for first (what was tried, what it did, whether it finished) on the left, where a
# narrow table still shows it; the folder name, needed to reopen the run, last
COLUMNS = ["levers changed", "effect", "status", "started", "period", "base", "replications", "run"]


def _changes(spec: jobs.JobSpec, all_levers: list[Lever] | None) -> str:
    """What the run tried: the levers the what-if's policy file changes, as the page labels them, with
    their values, then the saved policies compared beside it, by name."""
    edits = _lever_changes(spec, all_levers)
    if not spec.others:
        return edits
    names = ", ".join(policy_labels([Path(f).as_posix() for f in spec.others]).values())
    return f"saved policies {names}" if not spec.policy_file else f"{edits}; saved policies {names}"


def _lever_changes(spec: jobs.JobSpec, all_levers: list[Lever] | None) -> str:
    """The levers the what-if's policy file changes, as the page labels them, with their values."""
    try:
        data = jobs.policy_data(spec)
    except (OSError, yaml.YAMLError):
        return "(policy file gone)"
    if not all_levers:
        return ", ".join(k for k in data if k not in ("extends", "name", "description")) or "-"
    by_key = {lv.key: lv for lv in all_levers}
    edits = [
        f"{by_key[k].group} · {by_key[k].label} = {v}"
        for k, v in values_from_policy(all_levers, data).items()
        if changed(by_key[k], v)
    ]
    return "; ".join(edits) or "nothing (the base itself)"


def saved_runs(root: Path, levers_of: Any = None) -> pd.DataFrame:
    """One row per what-if under ``root``, newest first. ``levers_of(base_file)`` gives a base's levers
    (to name the changes as the page does); without it the changed keys are listed."""
    rows = []
    for folder, spec, state in jobs.jobs(root):
        all_levers = None
        if levers_of is not None:
            try:
                all_levers = levers_of(spec.base_file)
            except Exception:  # a base that no longer loads: its changes are listed by key
                all_levers = None
        effect = "-"
        if (folder / COMPARISON).is_file():
            try:
                effect = headline_effect(pd.read_csv(folder / COMPARISON))
            except (OSError, ValueError, KeyError):
                effect = "(unreadable)"
        when = pd.Timestamp(state.started, unit="s") if state.started else None
        started = when.strftime("%Y-%m-%d %H:%M UTC") if when is not None else "-"
        rows.append(
            {
                "run": folder.name,
                "started": started,
                "base": Path(spec.base_file).name,
                "period": spec.window,
                "replications": spec.replications,
                "levers changed": _changes(spec, all_levers),
                "effect": effect,
                "status": state.status,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
