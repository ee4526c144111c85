"""The what-if page's forecast panel: its logic without a browser, and the page drawing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.app.forecast_panel import outcome_table, run_forecast, until_text
from sim.errors import UserError
from tests.conftest import ROOT, SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_panel_runs_a_forecast_from_an_uploaded_state(tmp_path: Path) -> None:
    from datetime import datetime

    state = b"gate,direction,count,waited_h\nhuu_nghi,export,300,12\n"
    result, figures = run_forecast(
        MINIMAL,
        state,
        start=datetime(2021, 6, 1, 12),
        days=1.5,
        policy=None,
        replications=2,
        until_below=200,
        direction="export",
        root=tmp_path / "results",
        scratch=tmp_path / "scratch",
    )
    assert figures[0].suffix == ".png" and figures[0].is_file()
    assert len(until_text(result)) == 1 and "lang_son_minimal" in until_text(result)[0]
    table = outcome_table(result)
    assert {"cleared", "spoiled_trucks"} <= set(table["metric"])
    with pytest.raises(UserError) as err:
        run_forecast(
            MINIMAL,
            b"gate,direction,count\nhuu_nghi,export,lots\n",
            start=datetime(2021, 6, 1, 12),
            days=1,
            policy=None,
            replications=2,
            until_below=None,
            direction="export",
            root=tmp_path / "results",
            scratch=tmp_path / "scratch",
        )
    assert err.value.problems[0].line == 2 and err.value.problems[0].path == "count"


def test_the_page_shows_the_forecast_panel() -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "sim" / "app" / "page.py"), default_timeout=60)
    app.run()
    assert not app.exception
    assert any("Forecast from today's queue" in e.label for e in app.expander)


def _panel_with_upload(content: bytes | None) -> None:
    """The forecast panel alone, with ``content`` as the uploaded state file (AppTest cannot upload)."""
    from pathlib import Path

    import streamlit as st

    from sim.app import forecast_panel
    from tests.conftest import SCENARIOS

    class Upload:
        name, file_id = "queue.csv", str(hash(content))

        def getvalue(self) -> bytes:
            return content or b""

    st.file_uploader = lambda *a, **k: None if content is None else Upload()
    scratch = Path(st.session_state.get("scratch", "."))
    forecast_panel.render(SCENARIOS / "lang_son_minimal.yaml", SCENARIOS, scratch, scratch)


def test_the_state_date_defaults_to_the_uploaded_queue_not_the_scenario_start() -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from datetime import date, time

    from streamlit.testing.v1 import AppTest

    from sim.scenario import load_scenario

    start = load_scenario(MINIMAL).scenario.run.start
    # a December queue (as backlog --state-at writes it: arrivals to the minute below the state's time)
    december = (
        b"gate,direction,count,class,where,arrived\n"
        b"huu_nghi,export,120,,outside,2021-12-19T08:00\n"
        b"huu_nghi,export,3,,outside,2021-12-20T11:58\n"
    )
    app = AppTest.from_function(_panel_with_upload, args=(december,), default_timeout=60)
    app.run()
    assert not app.exception
    assert app.date_input(key="fc_date").value == date(2021, 12, 20) != start.date()
    assert app.time_input(key="fc_time").value == time(12, 0)
    assert any("from the file: 20 Dec 2021 12:00" in c.value for c in app.caption)
    # a date typed by the planner stays while the file does
    app.date_input(key="fc_date").set_value(date(2021, 12, 21)).run()
    assert app.date_input(key="fc_date").value == date(2021, 12, 21)
    # a queue without arrival dates: the scenario's start, and the page asks for the date
    app = AppTest.from_function(_panel_with_upload, args=(b"gate,direction,count\nhuu_nghi,export,5\n",))
    app.run()
    assert app.date_input(key="fc_date").value == start.date()
    assert any("no arrival dates" in c.value for c in app.caption)
