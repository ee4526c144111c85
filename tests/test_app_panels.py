"""Issue 29 row 3: an error in one panel of the page is a message in that panel; the rest still draws."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")


def _two_panels() -> None:
    import streamlit as st

    from sim.app.panels import panel

    with panel("The broken figure"):
        raise IndexError("index 3 is out of bounds for axis 0 with size 3")
    with panel("The next panel"):
        st.markdown("still drawn")


def test_a_failing_panel_shows_its_message_and_the_next_panel_draws() -> None:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_two_panels, default_timeout=30)
    app.run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert errors == [
        "The broken figure could not be shown: IndexError: index 3 is out of bounds for axis 0 with size 3"
    ]
    assert any(m.value == "still drawn" for m in app.markdown)


def test_the_page_draws_its_levers_when_the_forecast_panel_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from sim.app import forecast_panel

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug in the forecast panel")

    monkeypatch.setattr(forecast_panel, "render", broken)
    app = AppTest.from_file(str(ROOT / "sim" / "app" / "page.py"), default_timeout=60)
    app.run()
    assert not app.exception
    assert any("The forecast could not be shown: ValueError: a bug" in e.value for e in app.error)
    assert any(h.value == "Levers" for h in app.header)  # drawn after the failed panel


def test_a_users_mistake_in_a_panel_shows_its_problems() -> None:
    from streamlit.testing.v1 import AppTest

    def script() -> None:
        import streamlit as st

        from sim.app.panels import panel
        from sim.errors import UserError

        with panel("A panel"):
            raise UserError.single("a.yaml", "run.horizon", "must be positive")
        st.markdown("after")

    app = AppTest.from_function(script, default_timeout=30)
    app.run()
    assert not app.exception
    assert len(app.error) == 1 and "run.horizon" in app.error[0].value and "a.yaml" in app.error[0].value
    assert any(m.value == "after" for m in app.markdown)
