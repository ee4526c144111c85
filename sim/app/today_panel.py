"""The "today" panel of the what-if page (issue 30): take in the border's counts, see what the twin learns.

A planner pastes or uploads this morning's counts (the observation CSV of ``bordersim assimilate``:
``date, gate, direction, what, value`` and an optional ``error``), chooses the particles and the days to
forecast, and the page runs :func:`sim.studies.assimilate.assimilate` on the page's base scenario, in the
page's own process: the filtered past with its band, the forecast fan, and each uncertain input's prior
beside its posterior. It is offered only when the base has an ``uncertain:`` section (the inputs to
learn). A bad row gets the command line's message (file, line and column, the file named "the counts")
and nothing runs. The logic is :func:`run_today` (tested without a browser); :func:`render` only draws.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError
from sim.studies.assimilate import AssimilateResult, assimilate
from sim.studies.options import StudyOptions
from sim.studies.registry import study

COUNTS = "today_counts.csv"  # the pasted or uploaded counts, saved in the page's scratch folder
PARTICLES = 8  # a morning's answer in minutes on two cores; the study's own default (32) is the careful one
DAYS = 7.0


def run_today(
    base_file: Path, counts_csv: bytes, *, particles: int, days: float, root: Path, scratch: Path
) -> tuple[AssimilateResult, list[Any]]:
    """Save the counts in ``scratch``, assimilate them into ``root`` and draw the study's two figures."""
    from sim.present.plots.assimilate import assimilate_figures

    scratch.mkdir(parents=True, exist_ok=True)
    counts = scratch / COUNTS
    counts.write_bytes(counts_csv)
    result = assimilate(base_file, StudyOptions(root=root), observed=counts, particles=particles, days=days)
    return result, assimilate_figures(result.folder)


def command(base_file: Path, particles: int, days: float) -> str:
    """The same study as a command (the counts saved as a file of the user's)."""
    words = ["bordersim", "assimilate", str(base_file), "--observed", "COUNTS.csv"]
    return shlex.join([*words, "--particles", str(particles), "--days", f"{days:g}"])


def posterior_table(result: AssimilateResult) -> pd.DataFrame:
    """Each input's prior and posterior 5-50-95% points, named in words, each value written as the
    terminal writes it (:func:`sim.present.assimilate_text.number`: a dated input as its date)."""
    from sim.present.assimilate_text import number
    from sim.present.input_names import input_label

    def points(r: Any, kind: str) -> str:
        dated = bool(getattr(r, "dated", False))
        return " - ".join(number(getattr(r, f"{kind}_p{q}"), dated) for q in (5, 50, 95))

    rows = list(result.posterior.itertuples(index=False))
    return pd.DataFrame(
        {
            "input": [input_label(str(r.input)) for r in rows],
            "prior (5-50-95%)": [points(r, "prior") for r in rows],
            "posterior (5-50-95%)": [points(r, "posterior") for r in rows],
        }
    )


def render(base_file: Path, scenario: Any, root: Path, scratch: Path) -> None:
    """The panel, folded under the results: the counts, the settings, a Run button, then what it learnt."""
    import streamlit as st

    from sim.app.language import t
    from sim.app.study_form import widget

    with st.expander(t("today")):
        if not getattr(scenario, "uncertain", None):
            st.caption(t("today_needs_uncertain", file=base_file.name))
            return
        st.caption(t("today_help"))
        upload = st.file_uploader(t("today_upload"), type=["csv"], key="td_upload")
        pasted = st.text_area(t("today_paste"), key="td_paste", placeholder="date,gate,direction,what,value")
        declared = study("assimilate")
        cols = st.columns(2)
        particles = widget(
            cols[0], declared.setting("particles"), PARTICLES, "td_particles", t("today_particles")
        )
        days = widget(cols[1], declared.setting("days"), DAYS, "td_days", t("days"))
        counts = upload.getvalue() if upload is not None else (pasted or "").strip().encode("utf-8")
        st.code(command(base_file, int(particles or PARTICLES), float(days or DAYS)), language="bash")
        if not st.button(t("today_run"), disabled=not counts or not particles or not days, key="td_run"):
            return
        try:
            with st.spinner(t("today_running")):
                result, figures = run_today(
                    base_file, counts, particles=int(particles), days=float(days), root=root, scratch=scratch
                )
        except UserError as exc:
            for p in exc.problems:
                st.error(str(p).replace(str(scratch / COUNTS), "the counts"))
            return
        except OSError as exc:  # a full disk or an unwritable results folder: a message, not a traceback
            st.error(f"{exc.filename or root}: {exc.strerror or exc}")
            return
        for fig in reversed(figures):  # the filtered past and the fan first, then the inputs
            png = next((f for f in fig.files if f.suffix == ".png"), None)
            if png is not None:
                st.image(str(png), caption=fig.caption)
        st.subheader(t("today_posterior"))
        st.dataframe(posterior_table(result), hide_index=True)
        st.caption(t("today_saved", folder=result.folder, runs=result.runs))
