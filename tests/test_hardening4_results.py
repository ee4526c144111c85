"""Hardening round 4 (issue 27), what a run's results say.

Row 9: upstream holding with ``daily_quota: 0`` (or ``slots_per_hour: 0``, ``threshold: 0``) to the end
of the run releases nobody. The run printed 0 arrived at the gate, left the held trucks out of the
summary and did not mark the flow unstable: it read as a gate without trucks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.stability import inside_shares
from sim.cli import main
from sim.present.tables import run_layouts
from sim.scenario import load_scenario
from sim.scenario.upstream_check import never_released
from tests.conftest import SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"


def _holding(tmp_path: Path, *periods: str) -> Path:
    """The minimal scenario with upstream holding of Huu Nghi's exports in the given periods."""
    lines = "\n".join(f"          {p}" for p in periods)
    path = tmp_path / "held.yaml"
    path.write_text(
        f"extends: {MINIMAL}\nname: held\ngates:\n  huu_nghi:\n    export:\n      upstream:\n"
        f"        periods:\n{lines}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("period", "why"),
    [
        ("stop: {from: 2021-06-01, rule: quota, daily_quota: 0}", "daily_quota: 0"),
        ("stop: {from: 2021-06-01, rule: slots, slots_per_hour: 0}", "slots_per_hour: 0"),
        ("stop: {from: 2021-06-01, rule: threshold, threshold: 0}", "threshold: 0"),
    ],
)
def test_a_hold_that_releases_nobody_to_the_end_is_found(tmp_path: Path, period: str, why: str) -> None:
    s = load_scenario(_holding(tmp_path, period)).scenario
    (found,) = never_released(s)
    assert (found.gate, found.direction, found.period, found.why) == ("huu_nghi", "export", "stop", why)


@pytest.mark.parametrize(
    "periods",
    [
        # a stop order lifted before the end: the held trucks go then
        ["stop: {from: 2021-06-01, rule: quota, daily_quota: 0}", "go: {from: 2021-06-10, rule: none}"],
        # a quota of one a day releases someone
        ["slow: {from: 2021-06-01, rule: quota, daily_quota: 1}"],
        # nobody complies, so nobody is held
        ["stop: {from: 2021-06-01, rule: quota, daily_quota: 0, compliance: 0}"],
    ],
)
def test_a_hold_that_releases_someone_is_not_flagged(tmp_path: Path, periods: list[str]) -> None:
    assert never_released(load_scenario(_holding(tmp_path, *periods)).scenario) == []


def test_a_stop_from_after_the_end_leaves_the_period_in_force_then() -> None:
    """The period in force at the end decides: a stop order dated after the run is not in it, and one
    dated inside it counts even when a later (after the end) period would lift it."""
    base = load_scenario(MINIMAL).scenario
    end = "2021-06-29"  # the minimal scenario runs 28 days from 1 June
    for periods, expected in (
        ({"stop": {"from": end, "rule": "quota", "daily_quota": 0}}, []),
        (
            {
                "stop": {"from": "2021-06-10", "rule": "quota", "daily_quota": 0},
                "go": {"from": "2021-07-10", "rule": "none"},
            },
            ["stop"],
        ),
    ):
        spec = base.model_dump(by_alias=True, exclude_unset=True)
        spec["gates"]["huu_nghi"]["export"]["upstream"] = {"periods": periods}
        s = type(base).model_validate(spec)
        assert [n.period for n in never_released(s)] == expected


def test_held_trucks_count_as_not_through_in_the_stability_check() -> None:
    """A gate whose every truck is held upstream: 0 arrived, 0 inside, 400 held. Counted among arrivals
    only it read 0 of 0, stable."""
    rows = [
        ("g", "export", "arrived", 0.0),
        ("g", "export", "still_inside", 0.0),
        ("g", "export", "trucks_held_upstream", 400.0),
        ("h", "export", "arrived", 100.0),
        ("h", "export", "still_inside", 5.0),
        ("h", "export", "trucks_held_upstream", 0.0),
    ]
    summary = pd.DataFrame(rows, columns=["gate", "direction", "metric", "mean"])
    shares = inside_shares(summary).set_index("gate")
    assert shares.loc["g", "still_inside_share"] == 1.0 and shares.loc["g", "unstable"]
    assert shares.loc["h", "still_inside_share"] == 0.05 and not shares.loc["h", "unstable"]


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_run_warns_shows_the_held_trucks_and_marks_the_flow_unstable(in_tmp: Path, capsys) -> None:
    path = _holding(in_tmp, "stop: {from: 2021-06-01, rule: quota, daily_quota: 0}")
    short = ["--set", "run.horizon=72", "--set", "run.warmup=0", "--replications", "2", "--jobs", "1"]
    assert main(["run", str(path), *short, "--out", "run"]) == 0
    out, err = capsys.readouterr()
    assert "huu_nghi export: upstream period 'stop'" in err
    assert "nobody held there will ever be released" in err
    assert "held upstream" in out  # the summary's column
    summary = pd.read_csv(in_tmp / "run" / "summary.csv")
    flow = summary[(summary["gate"] == "huu_nghi") & (summary["direction"] == "export")]
    assert flow["unstable"].all()
    held = flow[flow["metric"] == "trucks_held_upstream"]["mean"].iloc[0]
    arrived = flow[flow["metric"] == "arrived"]["mean"].iloc[0]
    assert arrived == 0 and held > 0
    assert f"{held:,.0f}" in out


def test_the_held_column_is_left_out_where_nobody_is_held() -> None:
    """Scenarios without upstream holding (most) do not get a column of 'not modelled'."""
    rows = [
        ("g", "export", "arrived", 10.0, True),
        ("g", "export", "trucks_held_upstream", 0.0, False),
    ]
    summary = pd.DataFrame(rows, columns=["gate", "direction", "metric", "mean", "modelled"])
    summary = summary.assign(n=2, half_width=1.0)
    wide = run_layouts(summary, "s", 2)[0][0]
    assert not any("held upstream" in c for c in wide.headers)
    summary.loc[1, "modelled"] = True
    wide = run_layouts(summary, "s", 2)[0][0]
    assert any("held upstream" in c for c in wide.headers)


# --------------------------------------------------------------------------------------------------
# Row 14 (part): no negative zero; a total of parts none of which is modelled is 'not modelled'
# --------------------------------------------------------------------------------------------------
def test_a_forecast_interval_never_prints_negative_zero() -> None:
    from sim.present.forecast_text import _ci

    assert _ci(-0.2, -1.2, -0.4) == "0 (-1 to 0)"
    assert "-0" not in _ci(-0.0, -0.3, 0.2, decimals=0)
    assert _ci(-0.04, -0.06, 0.01, decimals=1) == "0.0 (-0.1 to 0.0)"


def test_total_cost_of_unmodelled_parts_is_not_modelled(tmp_path: Path) -> None:
    from sim.analysis.metrics import not_modelled

    # the minimal scenario: no waiting cost, no perishable class, no holding: nothing of the total
    assert {"total_cost_usd", "upstream_cost_usd"} <= not_modelled(load_scenario(MINIMAL).scenario)
    # holding with no cost set: the upstream cost, and so the total, is still not modelled
    held = load_scenario(_holding(tmp_path, "slow: {from: 2021-06-01, rule: quota, daily_quota: 5}")).scenario
    assert {"total_cost_usd", "upstream_cost_usd"} <= not_modelled(held)
    # a cost of holding set: both are modelled
    path = _holding(tmp_path, "slow: {from: 2021-06-01, rule: quota, daily_quota: 5}")
    path.write_text(path.read_text() + "        cost_usd_per_day: 4\n", encoding="utf-8")
    assert not {"total_cost_usd", "upstream_cost_usd"} & not_modelled(load_scenario(path).scenario)
