"""Issue 29 row 4: the net cost to the province, its parts, and a policy's own cost with its source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.metrics import METRICS, groups, not_modelled
from sim.analysis.net_cost import NET, PARTS, net_cost_metrics, outside_gates
from sim.errors import UserError
from sim.groups import ALL
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
WINTER = ROOT / "scenarios" / "lang_son" / "policies_winter"


def _trucks(rows: list[tuple]) -> pd.DataFrame:
    cols = [
        "gate",
        "direction",
        "status",
        "value_usd",
        "waiting_cost_usd",
        "upstream_cost_usd",
        "value_lost_usd",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["arrival"] = 1000.0  # after the warm-up
    return df


def _values(out: pd.DataFrame, gate: str, direction: str) -> dict[str, float]:
    rows = out[(out["gate"] == gate) & (out["direction"] == direction)]
    return dict(zip(rows["metric"], rows["value"], strict=True))


def _policy(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(f"extends: {WINTER / 'route_by_wait.yaml'}\nname: p\n{extra}", encoding="utf-8")
    return path


def test_the_province_leaves_out_other_provinces_gates_and_parts_add_up(tmp_path: Path) -> None:
    path = _policy(
        tmp_path,
        "cost: {usd: 500000, source: 'assumption: a test figure'}\n"
        "lost_exports: {share_of_value: 0.25, source: 'assumption: sold at home'}\n",
    )
    scenario = load_scenario(path).scenario
    assert outside_gates(scenario) == {"mong_cai", "lao_cai"}
    trucks = _trucks(
        [
            ("huu_nghi", "export", "cleared", 40_000.0, 300.0, 0.0, 0.0),
            ("huu_nghi", "export", "turned_back", 20_000.0, 700.0, 0.0, 0.0),  # lost: 0.25 of its value
            ("huu_nghi", "export", "turned_back", 30_000.0, 100.0, 0.0, 30_000.0),  # spoiled: counted once
            ("tan_thanh", "import", "turned_back", 50_000.0, 50.0, 0.0, 0.0),  # an import: not a lost export
            ("mong_cai", "export", "cleared", 10_000.0, 900.0, 0.0, 0.0),  # Quang Ninh's gate
        ]
    )
    out = net_cost_metrics(trucks, scenario, groups(scenario), trucks["arrival"])
    province = _values(out, ALL, ALL)
    assert province["cost_waiting_usd"] == 300 + 700 + 100 + 50  # not Mong Cai's 900
    assert province["cost_spoiled_usd"] == 30_000
    assert province["cost_lost_exports_usd"] == 0.25 * 20_000
    assert province["cost_policy_usd"] == 500_000
    assert province[NET] == pytest.approx(sum(province[p] for p in PARTS))
    assert _values(out, "mong_cai", "export")["cost_waiting_usd"] == 900  # its own row
    assert _values(out, ALL, "export")["cost_policy_usd"] == 0  # the policy's cost: province row only
    assert _values(out, ALL, "export")[NET] == 300 + 700 + 100 + 30_000 + 5_000
    assert set(out["metric"]) == {NET, *PARTS} and set(out["metric"]) <= set(METRICS)


def test_the_rail_route_is_its_own_row_not_the_provinces() -> None:
    scenario = load_scenario(WINTER / "rail_fruit.yaml").scenario
    assert outside_gates(scenario) == {scenario.rail.name}
    trucks = _trucks([(scenario.rail.name, "export", "cleared", 1.0, 123.0, 0.0, 0.0)])
    out = net_cost_metrics(trucks, scenario, groups(scenario), trucks["arrival"])
    assert _values(out, scenario.rail.name, "export")["cost_waiting_usd"] == 123
    assert _values(out, ALL, ALL)["cost_waiting_usd"] == 0


def test_a_policy_cost_without_a_source_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_scenario(_policy(tmp_path, "cost: {usd: 100, source: 'we think'}\n"))
    assert "cost.source" in str(err.value) and "assumption" in str(err.value)
    with pytest.raises(UserError) as err:
        load_scenario(_policy(tmp_path, "cost: {usd: -1, source: 'assumption: x'}\n"))
    assert "cost.usd" in str(err.value)


def test_a_run_records_the_net_cost_and_a_part_the_scenario_lacks_is_not_modelled() -> None:
    from sim.analysis.metrics import all_metrics
    from sim.model.network import run_replication

    loaded = load_scenario(ROOT / "scenarios" / "lang_son_minimal.yaml", ["run.horizon=48", "run.warmup=0"])
    tables = run_replication(loaded.scenario, np.random.SeedSequence(1))
    metrics = all_metrics(tables, loaded.scenario)
    row = metrics[(metrics["gate"] == ALL) & (metrics["direction"] == ALL)].set_index("metric")["value"]
    assert row[NET] == pytest.approx(sum(row[p] for p in PARTS))
    absent = not_modelled(loaded.scenario)
    assert "cost_held_usd" not in absent  # no scheme holds a truck: a true 0, the one the total adds
    assert "cost_policy_usd" not in absent  # no cost: field is a cost of 0, stated by the scenario


def test_the_held_part_is_zero_without_holding_and_unknown_when_holding_is_unpriced(tmp_path: Path) -> None:
    """Against a base that holds nobody, a holding policy's parts must add up to its net effect: the
    base's held part is its true 0, not "not modelled" (the winter's hold_upstream_jan lost 2.3 m of
    its parts that way). Held trucks with no holding cost set stay unknown, and a scenario that prices
    nothing has no net cost (unknown, not 0), whether or not it could hold trucks."""
    base = load_scenario(ROOT / "scenarios" / "lang_son" / "winter_2021_22.yaml").scenario
    hold = load_scenario(WINTER / "hold_upstream_jan.yaml").scenario
    assert "cost_held_usd" not in not_modelled(base)
    assert "cost_held_usd" not in not_modelled(hold)
    held = [
        f"gates.{g}.{d}.upstream"
        for g, gate in hold.gates.items()
        for d, flow in (("export", gate.export), ("import", gate.import_))
        if flow is not None and flow.upstream is not None
    ]
    assert held
    unpriced = [f"{key}.cost_usd_per_day=0" for key in held]
    unpriced += [f"{key}.cost_usd_per_day_by_class={{}}" for key in held]
    free = load_scenario(WINTER / "hold_upstream_jan.yaml", unpriced).scenario
    assert "cost_held_usd" in not_modelled(free)
    minimal = load_scenario(ROOT / "scenarios" / "lang_son_minimal.yaml").scenario
    assert NET in not_modelled(minimal) and "cost_held_usd" not in not_modelled(minimal)


def test_compare_and_robust_rank_on_the_net_cost_by_default() -> None:
    from sim.analysis.decision import DEFAULT_OBJECTIVE
    from sim.studies import robust
    from sim.studies.registry import study

    assert DEFAULT_OBJECTIVE == NET and robust.DECISION_METRIC == NET
    assert study("compare").default("objective") == NET


def test_compare_says_which_policies_state_no_cost_of_their_own(tmp_path: Path) -> None:
    """A policy without 'cost:' counts 0 for its own cost in the net cost: a number that looks right. The
    comparison says so, naming the policies, whenever the net cost is the measure."""
    from sim.studies.compare import _notes

    replay = ROOT / "scenarios" / "lang_son" / "winter_2021_22.yaml"
    base = load_scenario(replay)
    (tmp_path / "costless.yaml").write_text(f"extends: {replay}\nname: costless\n", encoding="utf-8")
    costless = load_scenario(tmp_path / "costless.yaml")
    priced = load_scenario(_policy(tmp_path, "cost: {usd: 500000, source: 'assumption: a test figure'}\n"))
    one = _notes([base.scenario.name, "costless", "priced"], [base, costless, priced])
    assert any("costless states no cost of its own" in n and "counts 0 for it" in n for n in one)
    none = _notes([base.scenario.name, "costless"], [base, costless])
    assert any(n.startswith("no policy states a cost of its own") for n in none)
    minimal = load_scenario(ROOT / "scenarios" / "lang_son_minimal.yaml")  # prices nothing: no net cost
    assert not any("cost of its own" in n for n in _notes(["a", "b"], [minimal, minimal]))


def test_every_winter_policy_states_its_own_cost_with_its_source() -> None:
    """The README's winter comparison ranks on the net cost: each of its policies counts what it costs
    itself (issue 29 row 4), a figure with its source, so the comparison has no policy costed at 0."""
    from sim.studies.compare import _notes

    base = load_scenario(ROOT / "scenarios" / "lang_son" / "winter_2021_22.yaml")
    policies = [load_scenario(p) for p in sorted(WINTER.glob("*.yaml"))]
    assert len(policies) == 4
    for ld in policies:
        assert ld.scenario.cost is not None, ld.scenario.name
        assert ld.scenario.cost.usd > 0, ld.scenario.name
        source = ld.scenario.cost.source
        assert "assumption" in source and "range" in source, ld.scenario.name  # how it is derived, how sure
    names = [base.scenario.name, *(ld.scenario.name for ld in policies)]
    assert not any("cost of its own" in n or "costed" in n for n in _notes(names, [base, *policies]))


def test_a_window_is_charged_the_part_of_the_policys_cost_period_it_measures(tmp_path: Path) -> None:
    """The winter policies' costs cover a stated period; a one-month window must not be charged the
    season's whole cost (it read as that month's), and a period outside the window charges nothing."""
    from datetime import date, datetime

    from sim.analysis.net_cost import policy_cost
    from sim.scenario.schema.costs import PolicyCost

    cost = PolicyCost(
        **{"usd": 100.0, "source": "assumption: t", "from": date(2022, 1, 1), "to": date(2022, 1, 10)}
    )
    assert cost.share(datetime(2021, 12, 1), datetime(2022, 4, 1)) == 1.0  # the whole period measured
    assert cost.share(datetime(2022, 1, 1), datetime(2022, 1, 6)) == pytest.approx(0.5)  # 5 of its 10 days
    assert cost.share(datetime(2022, 2, 1), datetime(2022, 3, 1)) == 0.0  # none of it
    whole = PolicyCost(usd=100.0, source="assumption: t")
    assert whole.share(datetime(2022, 1, 1), datetime(2022, 1, 2)) == 1.0  # no period: charged whole
    for path in sorted(WINTER.glob("*.yaml")):
        full = load_scenario(path).scenario
        assert full.cost is not None and full.cost.from_ is not None
        assert policy_cost(full) == pytest.approx(full.cost.usd)  # the replay measures every period whole
        december = load_scenario(path, ["run.horizon=1464", "run.warmup=720"]).scenario  # Dec 2021 only
        days = (min(full.cost.to, date(2021, 12, 31)) - full.cost.from_).days + 1
        span = (full.cost.to - full.cost.from_).days + 1
        assert policy_cost(december) == pytest.approx(full.cost.usd * max(days, 0) / span)
    alone = tmp_path / "alone.yaml"  # a policy of the replay itself: no cost period to inherit
    alone.write_text(
        f"extends: {WINTER.parent / 'winter_2021_22.yaml'}\nname: alone\n"
        "cost: {usd: 1, source: 'assumption: x', from: 2022-01-01}\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError) as err:
        load_scenario(alone)
    assert "cost" in str(err.value) and "'to'" in str(err.value)
