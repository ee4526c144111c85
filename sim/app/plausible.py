"""The policy comparison "across plausible winters" (issue 31): the page's switch for the robust study.

A comparison at the scenario's central values can rank the policies one way while most plausible
futures rank them another. With the switch on, the what-if job runs, after the comparison, the robust
study (:mod:`sim.studies.robust`) over the same base and policies: every policy over the same input sets
drawn from the base's and the policies' own ``uncertain:`` ranges, with common inputs and random numbers.
It is written into its own folder beside the job's, ``robust-<job folder>``: no study writes inside
another's folder, and ``bordersim list`` and ``report`` know it as a robust study. The results then lead
with the robust summary in words (P(best), regret, whether the central ranking holds) and its table on
the decision measure, before the comparison at the central values. The switch is offered only when the
base has an ``uncertain:`` section: with nothing uncertain there is nothing to draw.

The page reads the finished folder through :func:`sim.studies.robust_result.load_robust`, never a rerun,
and the words are the command line's (:mod:`sim.present.robust_text`).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.app.language import t

PREFIX = "robust-"  # the robust study's folder: beside the what-if folder, named after it
DEFAULT_SETS = 8  # a morning's answer on two cores; the caution says that 32 or more are needed to trust it
LEAST_SETS = 4  # the study's own least (its Setting's minimum)


def offered(scenario: Any) -> bool:
    """Whether the switch is offered: the base has ranges to draw from."""
    return bool(getattr(scenario, "uncertain", None))


def control(side: Any, scenario: Any) -> int:
    """The switch and its number of input sets in the sidebar; 0 when off (or not offered)."""
    if not offered(scenario):
        return 0
    if not side.checkbox(t("plausible"), key="plausible", help=t("plausible_help")):
        return 0
    import streamlit as st

    st.session_state.setdefault(
        "plausible_sets", DEFAULT_SETS
    )  # its value: the session's (a job restores it)
    return int(side.number_input(t("plausible_sets"), min_value=LEAST_SETS, step=1, key="plausible_sets"))


def runs(sets: int, scenarios: int, replications: int) -> int:
    """The replications the robust study adds: every scenario (base and policies) over every set, and
    at the central values (the ranking the robust one is set against); none when off."""
    return (sets + 1) * scenarios * replications if sets > 0 else 0


def command(
    base_file: Path, policies: Sequence[str | Path], overrides: Sequence[str], sets: int, reps: int, seed: int
) -> str:
    """The command line that gives the same robust study (to rerun it, or a larger one, from a terminal)."""
    words = ["bordersim", "robust", str(base_file), *map(str, policies)]
    for o in overrides:
        words += ["--set", o]
    words += ["--samples", str(sets), "--replications", str(reps), "--seed", str(seed)]
    return shlex.join(words)


def robust_folder(folder: Path) -> Path:
    """Where the robust study of the what-if in ``folder`` is written."""
    return Path(folder).parent / f"{PREFIX}{Path(folder).name}"


def run(spec: Any, policy_files: Sequence[str], folder: Path, monitor: Any) -> Any:
    """Run the robust study of a what-if job into :func:`robust_folder` (the job's spec: base, window,
    replications, seed; ``monitor``: the job's progress, this phase counted in its total from the start)."""
    from sim.studies.options import StudyOptions
    from sim.studies.robust import robust

    again = command(
        Path(spec.base_file), policy_files, spec.overrides, spec.plausible, spec.replications, spec.seed
    )
    options = StudyOptions(
        overrides=tuple(spec.overrides),
        replications=spec.replications,
        seed=spec.seed,
        out=robust_folder(folder),
        root=Path(spec.results_root),
        monitor=monitor,
        argv=tuple(shlex.split(again)),
    )
    return robust(spec.base_file, list(policy_files), options, samples=spec.plausible)


def show(st: Any, folder: Path) -> bool:
    """The robust summary and its decision table, if the job ran one; whether it did."""
    from sim.present.robust_text import caution_lines, robust_block, summary_lines
    from sim.studies.robust_result import is_robust_folder, load_robust

    sub = robust_folder(folder)
    if not is_robust_folder(sub):
        return False

    result = load_robust(sub)
    table = result.summary
    st.subheader(t("plausible_heading", sets=result.samples), anchor="plausible")
    if table.empty:
        st.info("; ".join(summary_lines(result)))
        return True
    for line in caution_lines(result):
        st.warning(line, icon="⚠️")
    for line in summary_lines(result):
        st.markdown(line)
    decision = str(table["metric"].iloc[0])
    block = robust_block(table[table["metric"] == decision], result.target)
    st.dataframe(pd.DataFrame(block.rows, columns=block.headers), hide_index=True)
    st.caption(f"{block.title}: {block.caption}. {t('plausible_saved', folder=sub)}")
    if result.command:
        st.code(shlex.join(result.command), language="bash")
    return True
