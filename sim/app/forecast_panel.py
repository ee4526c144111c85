"""The forecast panel of the what-if page: upload a state file, pick a policy, see the fan.

A planner uploads today's queue (a state CSV, :mod:`sim.scenario.state`), gives its date and time,
picks a policy file (or none) and a number of days; the page runs :func:`sim.studies.forecast.forecast`
on the page's base scenario (a few replications, in the page's own process: a forecast of a few weeks
takes seconds to a few minutes) and shows the fan, the date the waiting trucks fall below the chosen
level, and the outcomes with each policy's paired difference. A bad state file gets the command line's
messages (file, line, column) and nothing runs. The logic is :func:`run_forecast` (tested without a
browser); :func:`render` only draws it.
"""

from __future__ import annotations

import io
from collections.abc import MutableMapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from sim.app.study_form import replications_widget, widget
from sim.errors import UserError
from sim.groups import ALL
from sim.present.page_text import state_time_note
from sim.studies.forecast import ForecastResult, forecast
from sim.studies.options import StudyOptions
from sim.studies.registry import study

NO_POLICY = "(none)"
SEEN, NOTE = "fc_state_seen", "fc_state_note"  # the upload the date was taken from; what the page says


def run_forecast(
    base_file: Path,
    state_csv: bytes,
    *,
    start: datetime,
    days: float,
    policy: Path | None,
    replications: int | None,
    until_below: int | None,
    direction: str,
    root: Path,
    scratch: Path,
) -> tuple[ForecastResult, list[Path]]:
    """Save the uploaded state in ``scratch``, run the forecast into ``root`` and draw its fan."""
    from sim.present.plots.forecast import plot_forecast

    scratch.mkdir(parents=True, exist_ok=True)
    state = scratch / "uploaded_state.csv"
    state.write_bytes(state_csv)
    result = forecast(
        base_file,
        StudyOptions(replications=replications, root=root),
        state=state,
        start=start,
        days=days,
        policies=[policy] if policy is not None else [],
        until_below=until_below,
        direction=direction,
    )
    if result.failures:
        raise UserError.single(None, "forecast", "; ".join(str(f) for f in result.failures))
    return result, plot_forecast(result.folder, direction)


def until_text(result: ForecastResult) -> list[str]:
    """The date the waiting trucks first fall below the level, per variant, in words."""
    from datetime import timedelta

    rows = result.summary[result.summary["metric"] == "days_until_below"]
    out = []
    for r in rows.itertuples(index=False):
        if r.n == 0:
            out.append(f"{r.variant}: not below {int(r.level):,} within {result.days:g} days")
            continue
        mean = result.start + timedelta(days=r.mean)
        text = f"{r.variant}: below {int(r.level):,} on {mean:%d %b %Y %H:%M}"
        if pd.notna(r.ci_low):
            lo, hi = result.start + timedelta(days=r.ci_low), result.start + timedelta(days=r.ci_high)
            text += f" (95% interval {lo:%d %b %H:%M} to {hi:%d %b %H:%M})"
        if r.never:
            text += f"; {r.never} of {r.n + r.never} replications never within {result.days:g} days"
        out.append(text)
    return out


def outcome_table(result: ForecastResult) -> pd.DataFrame:
    """Crossed, turned back, spoiled and still waiting per variant with intervals (and paired differences)."""
    s = result.summary
    s = s[(s["gate"] == ALL) & (s["direction"] == result.direction) & (s["metric"] != "days_until_below")]
    cols = ["variant", "metric", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]
    return s[[c for c in cols if c in s.columns]].round(1).reset_index(drop=True)


def _base_start(base_file: Path) -> date:
    """The base scenario's start date (the default state date), today if it cannot be read."""
    from sim.scenario import load_scenario

    try:
        return load_scenario(base_file).scenario.run.start.date()
    except UserError:
        return date.today()


def state_time(state_csv: bytes) -> datetime | None:
    """When an uploaded queue was taken, as far as the file says: its latest ``arrived`` time (every truck
    had arrived by then), up to the next whole hour (``backlog --state-at`` writes arrivals to the minute
    below); None when the file gives no arrival dates (its problems are reported when it runs)."""
    try:
        rows = pd.read_csv(io.BytesIO(state_csv), dtype=str, skipinitialspace=True)
        arrived = pd.to_datetime(rows["arrived"].str.strip(), errors="coerce", format="ISO8601").dropna()
    except (ValueError, KeyError, pd.errors.ParserError, UnicodeDecodeError):
        return None
    if arrived.empty:
        return None
    return arrived.max().ceil("h").to_pydatetime().replace(tzinfo=None)


def state_defaults(session: MutableMapping[str, Any], upload: Any, base_file: Path) -> str:
    """Set the panel's state date and time when a new file is uploaded (and on the first draw): the
    queue's own time from the file, else the base scenario's start at noon. A typed date stays until
    another file comes. Returns the note the panel shows under the inputs."""
    stamp = None if upload is None else getattr(upload, "file_id", upload.name)
    if session.get(SEEN, ()) != stamp:  # a new file (or the first draw: nothing seen yet)
        session[SEEN] = stamp
        when = None if upload is None else state_time(upload.getvalue())
        session[NOTE] = state_time_note(when, upload is not None)
        when = when or datetime.combine(_base_start(base_file), time(12, 0))
        session["fc_date"], session["fc_time"] = when.date(), when.time()
    return str(session.get(NOTE, ""))


def _base_replications(base_file: Path) -> int | None:
    """The base scenario's replications (the default when the study declares none)."""
    from sim.scenario import load_scenario

    try:
        return load_scenario(base_file).scenario.run.replications
    except UserError:
        return None


def show_decisions(result: ForecastResult) -> None:
    """Each policy's decision against the base (the net cost to the province, money also in dong at the
    base scenario's rate, stated once): the sentences and the decision table."""
    import streamlit as st

    from sim.app.effect import decision_table, rate_caption
    from sim.present.decision_text import decision_sentences

    decisions = list(result.decisions.values())
    if decisions:
        rate_caption(decisions[0])
    for decision in decisions:
        st.markdown("\n".join(f"- {s}" for s in decision_sentences(decision, rate_line=False)))
        decision_table(decision)


def render(base_file: Path, scenarios: Path, root: Path, scratch: Path) -> None:
    """The panel, folded under the results: inputs, a Run button, then the fan and the numbers."""
    import streamlit as st

    from sim.app.language import t

    with st.expander(t("forecast")):
        upload = st.file_uploader(
            t("state_file"),
            type=["csv"],
            key="fc_state",
        )
        declared = study("forecast")  # the settings' defaults, limits and help, as the command line has them
        note = state_defaults(st.session_state, upload, base_file)
        cols = st.columns(4)
        day = cols[0].date_input(t("state_date"), key="fc_date")
        at = cols[1].time_input(t("state_time"), key="fc_time")
        days = widget(cols[2], declared.setting("days"), declared.default("days"), "fc_days", t("days"))
        reps = replications_widget(
            cols[3], declared, "fc_reps", _base_replications(base_file), t("replications")
        )
        if note:
            st.caption(note)
        files = sorted(str(p.relative_to(scenarios)) for p in scenarios.rglob("*.yaml"))
        policy = st.selectbox(t("forecast_policy"), [NO_POLICY, *files], key="fc_policy")
        cols = st.columns(2)
        level = widget(
            cols[0],
            declared.setting("until_below"),
            declared.default("until_below"),
            "fc_level",
            t("until_below"),
        )
        direction = widget(
            cols[1],
            declared.setting("direction"),
            declared.default("direction"),
            "fc_direction",
            t("direction"),
        )
        if not st.button(t("run_forecast"), disabled=upload is None or not days, key="fc_run"):
            return
        try:
            with st.spinner("forecasting..."):
                result, figures = run_forecast(
                    base_file,
                    upload.getvalue(),  # type: ignore[union-attr]
                    start=datetime.combine(day, at),
                    days=float(days),  # type: ignore[arg-type]
                    policy=None if policy == NO_POLICY else scenarios / policy,
                    replications=reps,
                    until_below=None if level is None else int(level),
                    direction=direction,
                    root=root,
                    scratch=scratch,
                )
        except UserError as exc:
            for p in exc.problems:
                st.error(str(p).replace(str(scratch / "uploaded_state.csv"), "the state file"))
            return
        except OSError as exc:  # a full disk or an unwritable results folder: a message, not a traceback
            st.error(f"{exc.filename or root}: {exc.strerror or exc}")
            return
        st.image(str(figures[0]))
        for line in until_text(result):
            st.write(line)
        st.dataframe(outcome_table(result), hide_index=True)
        show_decisions(result)
        st.caption(f"Saved in {result.folder}")
