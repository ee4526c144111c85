"""Issue 30 on the page: "The what-if page gets a 'today' panel: paste or upload the counts, then see the
filtered past, the fan and the posterior inputs."

The panel's logic (:func:`sim.app.today_panel.run_today`) runs the study on the M/M/1 twin with the
README's example counts and draws both figures; a bad row is refused with the command line's message and
nothing is written; drawn alone in Streamlit's AppTest, pasted counts give the figures and the posterior
table, and a base with nothing uncertain offers no run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.app.today_panel import COUNTS, posterior_table, run_today
from sim.errors import UserError
from tests.conftest import ROOT

TWIN = ROOT / "data" / "twins" / "mm1_twin.yaml"
OBSERVED = ROOT / "data" / "twins" / "mm1_observed.csv"


@pytest.mark.slow  # the particles' runs: over 3 s on two cores (.ci/run runs them: pytest -m slow)
def test_the_counts_give_the_posterior_the_filtered_past_and_the_fan(tmp_path: Path) -> None:
    result, figures = run_today(
        TWIN, OBSERVED.read_bytes(), particles=4, days=1.0, root=tmp_path / "r", scratch=tmp_path / "s"
    )
    assert (tmp_path / "s" / COUNTS).read_bytes() == OBSERVED.read_bytes()
    assert set(result.posterior["input"]) == {
        "arrivals.trucks.rate",
        "gates.gate.export.stages.service.service.mean",
    }
    assert set(result.daily["part"]) >= {"filtered", "forecast"}
    pngs = [f for fig in figures for f in fig.files if f.suffix == ".png"]
    assert len(pngs) == 2 and all(p.is_file() and p.stat().st_size > 0 for p in pngs)
    table = posterior_table(result)
    assert len(table) == 2 and not table["input"].str.contains(r"\.").any()  # inputs named in words


def test_a_bad_row_is_refused_naming_its_line_and_nothing_is_written(tmp_path: Path) -> None:
    bad = b"date,gate,direction,what,value\n2021-12-01,gate,export,crossed,lots\n"
    with pytest.raises(UserError) as err:
        run_today(TWIN, bad, particles=4, days=1.0, root=tmp_path / "r", scratch=tmp_path / "s")
    assert "value" in str(err.value) and "2" in str(err.value)  # the column and the line
    assert not (tmp_path / "r").exists()


def _panel(base: str, root: str, scratch: str) -> None:
    from pathlib import Path

    from sim.app import today_panel
    from sim.scenario import load_scenario

    today_panel.render(Path(base), load_scenario(Path(base)).scenario, Path(root), Path(scratch))


@pytest.mark.slow  # the particles' runs inside the page (.ci/run runs them: pytest -m slow)
def test_the_page_shows_the_figures_and_the_posterior_from_pasted_counts(tmp_path: Path) -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    args = (str(TWIN), str(tmp_path / "r"), str(tmp_path / "s"))
    app = AppTest.from_function(_panel, args=args, default_timeout=240)
    app.run()
    assert not app.exception
    assert app.button(key="td_run").disabled  # no counts yet: nothing to run
    app.text_area(key="td_paste").set_value(OBSERVED.read_text(encoding="utf-8")).run()
    app.number_input(key="td_particles").set_value(4).run()
    app.number_input(key="td_days").set_value(1.0).run()
    app.button(key="td_run").click().run()
    assert not app.exception and not app.error
    assert len(app.get("image")) == 2  # the filtered past and fan, the inputs prior beside posterior
    (table,) = [d.value for d in app.dataframe]
    assert list(table.columns) == ["input", "prior (5-50-95%)", "posterior (5-50-95%)"]


def test_a_base_with_nothing_uncertain_offers_no_run(tmp_path: Path) -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    base = ROOT / "scenarios" / "examples" / "mmc.yaml"
    app = AppTest.from_function(_panel, args=(str(base), str(tmp_path / "r"), str(tmp_path / "s")))
    app.run()
    assert not app.exception
    assert any("no 'uncertain:' section" in c.value for c in app.caption)
    assert not app.button


def test_a_dated_input_reads_as_its_date_in_the_posterior_table() -> None:
    """posterior.csv keeps a dated input as its ordinal day; the page writes it as the terminal does."""
    from datetime import date
    from types import SimpleNamespace

    import pandas as pd

    day = date(2021, 12, 16).toordinal()
    points = {f"{k}_p{q}": day + q for k in ("prior", "posterior") for q in (5, 50, 95)}
    posterior = pd.DataFrame([{"input": "arrivals.trucks.rate", "dated": True, **points}])
    table = posterior_table(SimpleNamespace(posterior=posterior))  # type: ignore[arg-type]
    assert table.loc[0, "prior (5-50-95%)"] == "2021-12-21 - 2022-02-04 - 2022-03-21"


def test_an_unwritable_scratch_folder_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """A fault (here the scratch folder is a file, as a full or damaged disk would refuse a write) ends
    in the panel's message, and nothing runs."""
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    blocked = tmp_path / "s"
    blocked.write_text("a file where the scratch folder should be", encoding="utf-8")
    app = AppTest.from_function(
        _panel, args=(str(TWIN), str(tmp_path / "r"), str(blocked)), default_timeout=60
    )
    app.run()
    app.text_area(key="td_paste").set_value(OBSERVED.read_text(encoding="utf-8")).run()
    app.button(key="td_run").click().run()
    assert not app.exception
    assert any(str(blocked) in e.value for e in app.error)
    assert not (tmp_path / "r").exists()


def test_the_command_it_prints_is_one_the_command_line_takes(tmp_path: Path) -> None:
    """The panel prints the same study as a command; the command line takes it, with the same settings
    (COUNTS.csv stands for the user's own file of the counts)."""
    from sim.app.today_panel import command
    from sim.cli import build_parser

    words = command(TWIN, 4, 1.0).split()
    args = build_parser().parse_args(words[1:])
    assert words[:2] == ["bordersim", "assimilate"] and args.particles == 4 and args.days == 1.0
    assert str(args.observed) == "COUNTS.csv"
