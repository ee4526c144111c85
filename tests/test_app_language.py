"""Issue 29 row 17: the what-if page in Vietnamese, and money in dong beside USD.

The page's words are one catalogue (:mod:`sim.present.page_words`): each check here would fail if a
message lacked a language or filled other placeholders in one of them, if the page kept an English main
heading when Vietnamese is chosen (or forgot the choice on the next rerun), if the tiles or the decision
table showed a USD amount without its dong at the scenario's stated rate, or showed dong at a rate the
scenario does not state.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.compare import comparison
from sim.analysis.decision import MetricRef, decide
from sim.analysis.metrics import metric_info
from sim.app.runs import COLUMNS
from sim.app.study_form import label
from sim.groups import ALL
from sim.present.page_text import nothing_changed_text, ranking_table, rate_text, tiles
from sim.present.page_words import (
    CATALOGUES,
    EN,
    LANGUAGES,
    METRIC_WORDS,
    VI,
    WORDS,
    group_words,
    placeholders,
    where_words,
    window_words,
    word,
)
from sim.scenario import load_scenario
from sim.scenario.schema import ExchangeRate
from sim.studies.registry import study
from tests.conftest import SCENARIOS

RATE = ExchangeRate(vnd_per_usd=25000, source="assumption: a round rate for the test")
REPS = 6
NOISE = np.array([-0.02, 0.02, -0.01, 0.01, 0.0, 0.0])
HN = ("huu_nghi", "export")
# the main headings, controls and buttons of the page (no English one may be left on a Vietnamese page)
MAIN = ("title", "base", "window", "replications", "seed", "policy_name", "others", "swing", "levers",
        "forecast", "any_study")  # fmt: skip


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    assert set(LANGUAGES) == {EN, VI}
    for catalogue in CATALOGUES:
        for key, texts in catalogue.items():
            assert set(texts) == {EN, VI}, key
            assert texts[EN].strip() and texts[VI].strip(), key
            assert placeholders(texts[EN]) == placeholders(texts[VI]), key
    # the page's messages are translated, not copied (the file formats' column names aside)
    assert all(texts[VI] != texts[EN] for texts in WORDS.values())
    for (
        metric,
        texts,
    ) in METRIC_WORDS.items():  # the English is the metric's own label, never a copy that drifts
        assert texts[EN] == metric_info(metric).label, metric


def test_a_message_is_filled_in_the_language_asked_and_an_unknown_one_is_an_error() -> None:
    assert word("effect", VI, group="Hữu Nghị, hàng xuất khẩu") == "Tác động: Hữu Nghị, hàng xuất khẩu"
    assert word("effect", EN, group="x") == "Effect: x"
    assert word("run", "fr") == word("run", EN)  # a language the page does not have: English
    with pytest.raises(KeyError):
        word("no such message", VI)
    assert group_words("Hữu Nghị: export", VI) == "Hữu Nghị: hàng xuất khẩu"
    assert group_words("Tân Thanh: shared pools", VI) == "Tân Thanh: nguồn lực dùng chung"
    assert group_words("Trucks", VI) == "Xe tải" and group_words("Hữu Nghị: gate", EN) == "Hữu Nghị: gate"
    assert where_words("Hữu Nghị, export", VI) == "Hữu Nghị, hàng xuất khẩu"
    assert where_words("all gates, both directions", VI) == "tất cả cửa khẩu, cả hai chiều"
    assert where_words("Tân Thanh, import", EN) == "Tân Thanh, import"
    assert [word(f"col_{c}") for c in COLUMNS] == COLUMNS  # the saved runs' headers: English as runs.py's
    assert nothing_changed_text(["a.yaml"], VI).startswith("Chưa thay đổi tham số nào")
    assert "1 saved policy picked only" in nothing_changed_text(["a.yaml"])
    assert "2 saved policies picked only" in nothing_changed_text(["a.yaml", "b.yaml"])
    forecast = study("forecast")  # the forecast's settings: English as the registry's names in words
    assert [word(k) for k in ("days", "until_below", "direction")] == [
        label(forecast.setting(k)) for k in ("days", "until_below", "direction")
    ]


@pytest.mark.parametrize("name", ["lang_son/base_2021_calibrated.yaml", "lang_son/winter_2021_22.yaml"])
def test_the_time_windows_read_in_vietnamese_and_keep_their_english_key(name: str) -> None:
    from sim.app.windows import windows

    labels = [w.label for w in windows(load_scenario(SCENARIOS / name).scenario.run)]
    shown = [window_words(label, VI) for label in labels]
    assert [window_words(label) for label in labels] == labels  # English: the label itself
    assert len(set(shown)) == len(labels)  # still tells every window apart
    english = re.compile(r"\b(whole|period|season|month|runs|from|state|to|[A-Z][a-z]{2})\b")
    assert not [w for w in shown if english.search(w)]
    assert shown[0].startswith("toàn bộ giai đoạn (")
    months = [w for w, label in zip(shown, labels, strict=True) if label.startswith("month")]
    assert months and all(re.match(r"tháng \d{1,2}/\d{4}", w) for w in months)


def _per_rep(extra: float) -> pd.DataFrame:
    base = {(*HN, "mean_clearance_h"): 30.0, (*HN, "waiting_cost_usd"): 20e6, (*HN, "net_cost_usd"): 20e6,
            (ALL, ALL, "mean_clearance_h"): 10.0, (ALL, ALL, "net_cost_usd"): 21e6}  # fmt: skip
    rows = [
        {"replication": r, "gate": g, "direction": d, "metric": m,
         "value": v * (1 + extra) + NOISE[r] * v * 0.01 * (1 + 2 * extra)}
        for (g, d, m), v in base.items()
        for r in range(REPS)
    ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture
def comp() -> pd.DataFrame:
    """A base and two policies that cut every value by 10% and 25%."""
    return comparison({"base": _per_rep(0.0), "cut": _per_rep(-0.10), "cut_more": _per_rep(-0.25)}, "base")


def _bn(text: str) -> float:
    """The billions of dong in a cell: 'VND 4,500 bn' -> 4500.0 ('-' kept)."""
    (found,) = re.findall(r"(-?)VND ([\d,.]+) bn", text)
    return float(found[1].replace(",", "")) * (-1 if found[0] else 1)


def test_money_on_the_tiles_is_also_in_dong_at_the_stated_rate_and_only_then(comp) -> None:
    names = ["base", "cut", "cut_more"]
    (_, row), _ = tiles(comp, names, HN, rate=RATE)
    money = next(t for t in row if "USD" in t.label)
    mean = float(comp.query("scenario == 'cut' and metric == 'waiting_cost_usd'")["mean"].iloc[0])
    diff = float(comp.query("scenario == 'cut' and metric == 'waiting_cost_usd'")["diff"].iloc[0])
    assert _bn(money.value) == pytest.approx(mean * RATE.vnd_per_usd / 1e9, rel=1e-3)
    assert _bn(money.delta) == pytest.approx(diff * RATE.vnd_per_usd / 1e9, rel=1e-3) and diff < 0
    hours = next(t for t in row if "clearance" in t.label)
    assert "VND" not in hours.value + hours.delta  # hours are no money
    (_, plain), _ = tiles(comp, names, HN)  # a scenario without a rate: USD only, no made-up rate
    assert not any("VND" in t.value + t.delta for t in plain)
    vi = tiles(comp, names, HN, rate=RATE, lang=VI)[0][1]
    assert [t.label for t in vi][:2] == ["thời gian thông quan trung bình (giờ)", "chi phí chờ (triệu USD)"]
    assert rate_text(RATE.vnd_per_usd, RATE.source) == (
        "Amounts in USD, with VND beside them at VND 25,000 per USD, assumption: a round rate for the test."
    )
    assert rate_text(None, "") == ""


def test_the_decision_table_gives_dong_beside_usd_and_reads_in_vietnamese(comp) -> None:
    decision = decide(comp, MetricRef("net_cost_usd"), rate=RATE)
    title, headers, rows = ranking_table(decision)
    assert title.startswith("Ranking on net cost to the province")
    best = rows[0]  # cut_more: the lowest net cost
    assert best[1] == "cut_more"
    province = comp.query("scenario == 'cut_more' and metric == 'net_cost_usd' and gate == 'all'")
    mean = float(province["mean"].iloc[0])
    assert _bn(best[2]) == pytest.approx(mean * RATE.vnd_per_usd / 1e9, rel=1e-2)
    assert "VND" in best[3]  # the difference and its interval too
    usd_only = ranking_table(decide(comp, MetricRef("net_cost_usd")))[2]
    assert not any("VND" in cell for row in usd_only for cell in row)
    title, headers, rows = ranking_table(decision, VI)
    assert title.startswith("Xếp hạng theo chi phí ròng cho tỉnh")
    assert headers == ["hạng", "kịch bản", "chi phí ròng cho tỉnh (triệu USD)",
                       "Δ so với kịch bản gốc (khoảng tin cậy 95%)", "đánh giá"]  # fmt: skip
    assert rows[0][-1] == "tốt hơn" and "(kịch bản gốc)" in [r[3] for r in rows]
    assert " to " not in rows[0][3] and " đến " in rows[0][3]


def _effect_panel(comp: "pd.DataFrame", rate: "object") -> None:  # noqa: UP037 (AppTest runs the body alone)
    from sim.app.effect import decision_sentences, headline, pick_group

    names = list(dict.fromkeys(comp["scenario"]))
    group = pick_group(comp, "t", {}, {"huu_nghi": "Hữu Nghị"})
    decision_sentences(comp, ("all", "all"), {}, None, rate)
    headline(comp, names, group, {}, rate)


def test_the_effect_panel_in_vietnamese_states_the_rate_once(comp) -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_effect_panel, args=(comp, RATE), default_timeout=30)
    app.session_state["lang"] = VI
    app.run()
    assert not app.exception, app.exception
    picker = app.selectbox(key="group-t")
    assert picker.label == "Cửa khẩu và chiều hàng"
    assert (
        picker.options[picker.index]
        == "Hữu Nghị, hàng xuất khẩu (thay đổi nhiều nhất: chi phí ròng cho tỉnh)"
    )
    assert "tất cả cửa khẩu, cả hai chiều" in picker.options
    labels = [m.label for m in app.metric]
    assert "chi phí chờ (triệu USD)" in labels and "mean clearance time (h)" not in labels
    assert all("VND" in m.value for m in app.metric if "USD" in m.label)
    texts = [c.value for c in app.caption] + [m.value for m in app.markdown]
    stated = [x for x in texts if "25,000" in x]
    assert len(stated) == 1 and "VND/USD" in stated[0] and RATE.source in stated[0]  # once, with its source
    (table,) = [d.value for d in app.dataframe]
    assert list(table.columns)[:2] == ["hạng", "kịch bản"]
    assert any(m.value == "**cut** (Δ so với base)" for m in app.markdown)

    app = AppTest.from_function(_effect_panel, args=(comp, None), default_timeout=30)
    app.run()  # English, and no rate: USD only, and no line about a rate
    assert not app.exception, app.exception
    assert not any("VND" in x for x in [m.value for m in app.metric] + [c.value for c in app.caption])
    assert "waiting cost (USD m)" in [m.label for m in app.metric]


def _shown(app) -> list[str]:
    """Every heading, text and control label the page shows."""
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info")
             for e in getattr(app, kind)]  # fmt: skip
    controls = [*app.selectbox, *app.number_input, *app.text_input, *app.multiselect, *app.checkbox,
                *app.button, *app.radio, *app.expander]  # fmt: skip
    return texts + [str(getattr(c, "label", "")) for c in controls]


def test_the_page_in_vietnamese_has_no_english_main_heading_and_remembers_the_choice(page) -> None:
    shown = _shown(page)
    assert word("title") in shown and word("title", VI) not in shown  # English by default
    switch = page.radio(key="lang")
    assert switch.value == EN and switch.format_func(VI) == "Tiếng Việt"
    switch.set_value(VI).run()
    assert not page.exception, page.exception
    for _ in range(2):  # the choice holds on the next rerun (the session remembers it)
        shown = _shown(page)
        assert page.title[0].value == word("title", VI)
        for key in MAIN:
            assert word(key, VI) in shown, key
            assert word(key, EN) not in shown, key
        assert word("english_inside", VI) in [c.value for c in page.caption]
        assert page.button(key="run").label == "Chạy"
        options = page.selectbox(key="window").options  # as the picker shows them
        assert options and all(o.startswith(("tháng", "quý", "toàn bộ")) for o in options)
        page.run()
        assert not page.exception, page.exception
    page.radio(key="lang").set_value(EN).run()
    assert page.title[0].value == word("title") and page.button(key="run").label == "Run"


class _Forecast:
    """What the forecast panel's decisions read of a forecast's result."""

    def __init__(self, decisions: dict) -> None:
        self.decisions = decisions


def _forecast_decisions(comp: "pd.DataFrame", rate: "object") -> None:  # noqa: UP037 (AppTest runs the body alone)
    from sim.analysis.decision import MetricRef, decide
    from sim.app.forecast_panel import show_decisions
    from tests.test_app_language import _Forecast

    pair = comp[comp["scenario"].isin(["base", "cut"])]
    show_decisions(_Forecast({"cut": decide(pair, MetricRef("net_cost_usd"), rate=rate)}))


def test_the_forecast_panels_decision_gives_dong_beside_usd_and_the_rate_once(comp) -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_forecast_decisions, args=(comp, RATE), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    words = "\n".join(m.value for m in app.markdown)
    assert "VND" in words and "25,000 per USD" not in words  # dong in the sentences, the rate not again
    (table,) = [d.value for d in app.dataframe]
    assert all("VND" in cell for cell in table.iloc[:, 2])  # the net cost's column, base and policy
    assert [c.value for c in app.caption].count(rate_text(RATE.vnd_per_usd, RATE.source)) == 1
    app = AppTest.from_function(_forecast_decisions, args=(comp, None), default_timeout=30)
    app.run()
    assert not any("VND" in m.value for m in app.markdown) and not any("VND" in c.value for c in app.caption)


def test_the_assimilate_decision_takes_the_twins_rate_and_none_is_made_up(comp, tmp_path: Path) -> None:
    from sim.present.assimilate_text import priced
    from sim.store.manifest import write_manifest

    decision = decide(comp[comp["scenario"].isin(["base", "cut"])], MetricRef("net_cost_usd"))
    stated = SCENARIOS / "lang_son" / "base_2021.yaml"  # states a rate (VND 22,900 per USD)
    write_manifest(tmp_path, {"kind": "assimilate", "scenario": str(stated)})
    rate = load_scenario(stated).scenario.exchange_rate
    assert rate is not None
    got = priced(decision, tmp_path)
    assert (got.vnd_per_usd, got.rate_source) == (rate.vnd_per_usd, rate.source)
    assert any("VND" in cell for row in ranking_table(got)[2] for cell in row)
    write_manifest(tmp_path, {"kind": "assimilate", "scenario": str(SCENARIOS / "lang_son_minimal.yaml")})
    assert priced(decision, tmp_path).vnd_per_usd is None  # the minimal scenario states no rate
    assert priced(decision, tmp_path / "no such folder").vnd_per_usd is None


@pytest.mark.slow  # a forecast of two variants (about 5 s on two cores): a slow check
def test_the_forecast_study_decides_with_the_base_scenarios_rate(tmp_path: Path) -> None:
    from datetime import datetime

    from sim.app.forecast_panel import run_forecast

    base = tmp_path / "base.yaml"
    base.write_text(
        f"extends: {SCENARIOS / 'lang_son_minimal.yaml'}\nname: rated\n"
        "exchange_rate: {vnd_per_usd: 25000, source: 'assumption: a round rate for the test'}\n",
        encoding="utf-8",
    )
    policy = tmp_path / "more_customs.yaml"
    policy.write_text(
        f"extends: {base}\nname: more_customs\n"
        "gates: {huu_nghi: {export: {stages: {customs: {servers: 8}}}}}\n",
        encoding="utf-8",
    )
    result, _ = run_forecast(
        base,
        b"gate,direction,count,waited_h\nhuu_nghi,export,300,12\n",
        start=datetime(2021, 6, 1, 12),
        days=1,
        policy=policy,
        replications=2,
        until_below=None,
        direction="export",
        root=tmp_path / "results",
        scratch=tmp_path / "scratch",
    )
    (decision,) = result.decisions.values()
    assert (decision.vnd_per_usd, decision.rate_source) == (25000, "assumption: a round rate for the test")
