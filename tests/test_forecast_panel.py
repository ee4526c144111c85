"""The what-if page's forecast panel: its logic without a browser, and the page drawing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.app.forecast_panel import outcome_table, run_forecast, until_text
from sim.errors import UserError
from tests.conftest import ROOT, SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"


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
