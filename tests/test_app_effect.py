"""Issue 29 row 8: the what-if page's effect panel with several policies: each row of tiles is named by
its policy, and the group shown by default is the one the policies change most on the decision measure
(the net cost to the province), not the largest percentage change of clearance time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.compare import comparison
from sim.groups import ALL
from sim.present.page_text import changed_most

REPS = 6
NOISE = np.array([-0.02, 0.02, -0.01, 0.01, 0.0, 0.0])
HN, TT = ("huu_nghi", "export"), ("tan_thanh", "import")


def _per_rep(changes: dict[tuple[str, str, str], float]) -> pd.DataFrame:
    """A scenario's replications: the base's values plus ``changes`` (group and metric -> difference)."""
    base = {
        (*HN, "mean_clearance_h"): 30.0,
        (*HN, "net_cost_usd"): 20e6,
        (*TT, "mean_clearance_h"): 2.0,
        (*TT, "net_cost_usd"): 1e6,
        (ALL, ALL, "mean_clearance_h"): 10.0,
        (ALL, ALL, "net_cost_usd"): 21e6,
    }
    rows = [
        {"replication": r, "gate": g, "direction": d, "metric": m, "value": v + changes.get((g, d, m), 0.0)
         + NOISE[r] * max(abs(v) * 0.01, 0.01)}
        for (g, d, m), v in base.items()
        for r in range(REPS)
    ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture
def export_policies() -> pd.DataFrame:
    """Two export policies: they cut Huu Nghi's export net cost by millions (and its clearance time by
    minutes); Tan Thanh's imports change by 75% in clearance time but by little in cost."""
    hold = {(*HN, "net_cost_usd"): -5e6, (*HN, "mean_clearance_h"): -0.2, (*TT, "mean_clearance_h"): -1.5,
            (*TT, "net_cost_usd"): -1e5, (ALL, ALL, "net_cost_usd"): -5.1e6}  # fmt: skip
    rail = {(*HN, "net_cost_usd"): -2e6, (*HN, "mean_clearance_h"): -0.1, (*TT, "mean_clearance_h"): -1.0,
            (*TT, "net_cost_usd"): -5e4, (ALL, ALL, "net_cost_usd"): -2.05e6}  # fmt: skip
    per_rep = {"base": _per_rep({}), "hold_upstream": _per_rep(hold), "rail_fruit": _per_rep(rail)}
    return comparison(per_rep, "base")


def test_the_group_shown_is_the_one_changed_most_on_the_decision_measure(export_policies) -> None:
    assert changed_most(export_policies) == HN  # the net cost, the default objective
    on_clearance = {"decision": {"objective": "mean_clearance_h"}}
    assert changed_most(export_policies, on_clearance) == TT  # the comparison's own objective followed
    unchanged = export_policies.assign(diff=0.0)
    assert changed_most(unchanged) is None


def _effect_panel(comp: "pd.DataFrame") -> None:  # noqa: UP037 (AppTest runs the body alone)
    from sim.app.effect import headline, pick_group

    names = list(dict.fromkeys(comp["scenario"]))
    group = pick_group(comp, "t", {})
    headline(comp, names, group, {})


def test_the_page_names_each_policys_tiles_and_picks_the_changed_group(export_policies) -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_effect_panel, args=(export_policies,), default_timeout=30)
    app.run()
    assert not app.exception
    picker = app.selectbox(key="group-t")
    assert picker.value == HN
    assert "changed most: net cost to the province" in picker.format_func(HN)
    assert "changed most" not in picker.format_func(TT)
    titles = [m.value for m in app.markdown if "Δ against base" in m.value]
    assert titles == ["**hold_upstream** (Δ against base)", "**rail_fruit** (Δ against base)"]
    helps = [m.proto.help for m in app.metric]
    assert len(helps) == 2 and helps[0].startswith("hold_upstream.") and helps[1].startswith("rail_fruit.")


def test_the_decision_is_on_the_comparisons_own_objective_whatever_group_the_tiles_show() -> None:
    """The page's decision table is the one compare printed: on its objective's group (the province for
    the default net cost, the only row that holds each policy's own cost), not on the tiles' group."""
    from sim.present.page_text import decision_group

    assert decision_group({}) == (ALL, ALL)
    assert decision_group({"decision": {"objective": "net_cost_usd"}}) == (ALL, ALL)
    assert decision_group({"decision": {"objective": "mean_clearance_h@huu_nghi/export"}}) == HN


def _decision_panel(comp: "pd.DataFrame") -> None:  # noqa: UP037 (AppTest runs the body alone)
    from sim.app.effect import decision_sentences
    from sim.groups import ALL

    decision_sentences(comp, (ALL, ALL), {})


def test_the_decision_table_leads_its_sentences(export_policies) -> None:
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_decision_panel, args=(export_policies,), default_timeout=30)
    app.run()
    assert not app.exception
    kinds = [type(e).__name__ for e in app.main]
    assert "Dataframe" in kinds and "Markdown" in kinds
    assert kinds.index("Dataframe") < kinds.index("Markdown")  # the table first, then the words
