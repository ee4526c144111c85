"""Issue 29 row 17: the gates as Vietnamese spells them (Hữu Nghị, Tân Thanh) where figures and the page
show names, found from ASCII too ('Huu Nghi' in an uploaded file), and money in VND beside USD at the
rate the scenario states with its source; a scenario without a rate shows USD only."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from sim.analysis.decision import decide
from sim.present.decision_text import amount, decision_sentences, interval_text, ranking_rows
from sim.present.plots import style
from sim.scenario import load_scenario
from sim.scenario.gate_names import fold, gate_key
from tests.test_app_effect import HN, TT, export_policies  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = ROOT / "scenarios" / "lang_son_minimal.yaml"
BASE = ROOT / "scenarios" / "lang_son" / "base_2021.yaml"


def test_the_lang_son_gates_carry_their_vietnamese_names_and_ascii_keys() -> None:
    gates = load_scenario(BASE).scenario.gates
    assert {k: g.name for k, g in gates.items()} == {
        "huu_nghi": "Hữu Nghị", "tan_thanh": "Tân Thanh", "chi_ma": "Chi Ma", "coc_nam": "Cốc Nam",
    }  # fmt: skip
    assert all(k.isascii() for k in gates)  # keys (file names, columns, --set paths) stay ASCII


@pytest.mark.parametrize("text", ["Hữu Nghị", "Huu Nghi", "HUU NGHI", "huu_nghi"])
def test_a_gate_is_found_with_or_without_diacritics(text: str) -> None:
    assert gate_key(load_scenario(MINIMAL).scenario.gates, text) == "huu_nghi"


def test_folding_reads_d_stroke_as_d() -> None:
    assert fold("Đồng Đăng") == "dong dang" and fold("Lạng Sơn") == "lang son"
    assert gate_key(load_scenario(MINIMAL).scenario.gates, "Hau Nghi") is None  # folded, not fuzzy


def test_the_figure_font_draws_the_diacritics(tmp_path: Path) -> None:
    with plt.rc_context(style.RC), warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig, ax = plt.subplots()
        ax.set_title("Hữu Nghị, Tân Thanh, Cốc Nam, Đồng Đăng, Lạng Sơn")
        fig.savefig(tmp_path / "names.png")
        plt.close(fig)


def test_the_base_scenario_states_its_rate_with_a_source_and_the_examples_none() -> None:
    rate = load_scenario(BASE).scenario.exchange_rate
    assert rate is not None and 20_000 < rate.vnd_per_usd < 26_000 and "facts #24" in rate.source
    winter = load_scenario(ROOT / "scenarios" / "lang_son" / "winter_2021_22.yaml").scenario
    assert winter.exchange_rate == rate  # inherited through 'extends'
    for example in sorted((ROOT / "scenarios" / "examples").glob("*.yaml")):
        assert load_scenario(example).scenario.exchange_rate is None


def test_money_shows_dong_at_the_given_rate_and_usd_only_without() -> None:
    assert amount("net_cost_usd", -3.2e6, signed=True, vnd_per_usd=25_000) == "-USD 3.200 m (-VND 80.0 bn)"
    assert amount("net_cost_usd", 3.2e6) == "USD 3.200 m"
    assert interval_text("net_cost_usd", -4e6, -2e6, 25_000).endswith("m (VND -100 to -50.0 bn)")
    assert "VND" not in interval_text("net_cost_usd", -4e6, -2e6)
    assert amount("mean_clearance_h", 2.0, vnd_per_usd=25_000) == "2.00 h"  # hours are not money


def test_the_decision_shows_both_currencies_with_the_scenarios_rate(export_policies) -> None:  # noqa: F811
    rate = load_scenario(BASE).scenario.exchange_rate
    ref = decide(export_policies, rate=rate)
    text = " ".join(decision_sentences(ref))
    assert "VND" in text and f"VND at {rate.vnd_per_usd:,.0f} per USD ({rate.source})" in text
    _, rows = ranking_rows(ref)
    assert any("VND" in cell for row in rows for cell in row)
    plain = decide(export_policies)  # a scenario without a rate: no invented one
    assert "VND" not in " ".join(decision_sentences(plain))
    assert not any("VND" in cell for row in ranking_rows(plain)[1] for cell in row)


def _effect_panel(comp: "pd.DataFrame", rate: object) -> None:  # noqa: F821, UP037 (AppTest runs the body alone)
    from sim.app.effect import decision_sentences, pick_group

    names = {"huu_nghi": "Hữu Nghị", "tan_thanh": "Tân Thanh"}
    group = pick_group(comp, "t", {}, names)
    decision_sentences(comp, group, {}, None, rate)


def test_the_page_names_the_gate_in_vietnamese_and_shows_dong(export_policies) -> None:  # noqa: F811
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    rate = load_scenario(BASE).scenario.exchange_rate
    app = AppTest.from_function(_effect_panel, args=(export_policies, rate), default_timeout=30)
    app.run()
    assert not app.exception
    picker = app.selectbox(key="group-t")
    assert picker.format_func(HN).startswith("Hữu Nghị, export")
    assert picker.format_func(TT).startswith("Tân Thanh, import")
    text = " ".join(m.value for m in app.markdown)
    assert "VND" in text and "per USD" in text
