"""Patience as a hazard (reneging ``hazard``): a small daily rate while the cargo keeps, a higher one once
the wait passes the shelf life it had left (facts 2.4), so reefer and ambient cargo differ through their
shelf lives (facts #49, #50).

Trucks arrive on the first day at a gate closed for the whole run, so each waits until it gives up and
the wait at which it does is its patience. For each class the fraction that gave up within a wait w must
match 1 - S(w) of the exact survival function at every checkpoint (binomial z within 4.5), and the whole
distribution must pass a Kolmogorov-Smirnov test against it. A hazard read in hours instead of days, the
two rates swapped, or the shelf life ignored moves a checkpoint by tens of standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.model.patience import hazard_patience_h, hazard_survival
from sim.scenario.schema import Scenario
from tests.conftest import run

DAY = 24.0
PER_DAY, PAST = 0.1, 1.0  # the hazard a day before and after the shelf life is spent
SHELF_H = {"reefer": 240.0, "ambient": 48.0, "goods": math.inf}  # shelf life left on arrival
HORIZON_DAYS = 70

TEXT = f"""
name: patience
run: {{time_unit: hours, start: 2022-01-01T00:00:00, horizon: {HORIZON_DAYS * DAY}, seed: 1}}
truck_classes:
  reefer:
    commodity: fresh_fruit
    attributes: {{reefer: true}}
    perishable: {{shelf_life_h: {{dist: deterministic, value: 300}},
                  age_on_arrival_h: {{dist: deterministic, value: 60}}}}
  ambient:
    commodity: fresh_fruit
    attributes: {{reefer: false}}
    perishable: {{shelf_life_h: {{dist: deterministic, value: 108}},
                  age_on_arrival_h: {{dist: deterministic, value: 60}}}}
  goods: {{commodity: goods}}
gates:
  g:
    closures: [{{start: 2022-01-01, end: 2022-12-31}}]
    export:
      reneging: {{hazard: {{per_day: {PER_DAY}, past_shelf_life_per_day: {PAST}}}}}
      stages:
        china_side: {{servers: 1, service: {{dist: deterministic, value: 0.1}}}}
arrivals:
"""
for name in SHELF_H:
    TEXT += (
        f"  {name}: {{gate: g, direction: export, truck_class: {name}, rate: 600, per: day,"
        " schedule: [{from: 2022-01-02, rate: 0}]}\n"
    )


def waits_before_giving_up() -> dict[str, np.ndarray]:
    trucks = run(Scenario.model_validate(yaml.safe_load(TEXT)), 11).trucks
    assert (trucks["status"] != "cleared").all()
    out = {}
    for name in SHELF_H:
        rows = trucks[trucks["truck_class"] == name]
        gone = rows["status"] == "turned_back"
        # a truck still waiting at the horizon has waited at least until then (censored)
        out[name] = np.where(gone, rows["exit"] - rows["arrival"], np.inf)
    return out


@pytest.fixture(scope="module")
def waits() -> dict[str, np.ndarray]:
    return waits_before_giving_up()


@pytest.mark.parametrize("name", sorted(SHELF_H))
def test_the_fraction_turned_back_follows_the_survival_function(
    waits: dict[str, np.ndarray], name: str
) -> None:
    w = waits[name]
    n = len(w)
    assert n > 450
    shelf = SHELF_H[name]
    checkpoints = [12.0, 36.0, 47.0, 60.0, 120.0, 235.0, 250.0, 300.0, 500.0, 1000.0]
    for t in checkpoints:
        p = 1.0 - hazard_survival(t, PER_DAY, PAST, shelf)
        observed = float((w <= t).sum())
        sd = math.sqrt(n * p * (1 - p)) or 1.0
        assert abs(observed - n * p) / sd < 4.5, (name, t, observed, n * p)


@pytest.mark.parametrize("name", ["reefer", "ambient"])
def test_the_wait_distribution_passes_a_ks_test(waits: dict[str, np.ndarray], name: str) -> None:
    w = waits[name]
    assert np.isfinite(w).all()  # past their shelf life they all give up well before the horizon
    shelf = SHELF_H[name]
    result = stats.kstest(w, lambda x: 1.0 - np.vectorize(hazard_survival)(x, PER_DAY, PAST, shelf))
    assert result.pvalue > 1e-3, result


def test_reefer_and_ambient_differ_through_their_shelf_lives(waits: dict[str, np.ndarray]) -> None:
    # a week into the wait: most ambient loads (2 days left) are gone, most reefer loads (10 days) wait
    week = 7 * DAY
    assert (waits["ambient"] <= week).mean() > 0.95
    assert (waits["reefer"] <= week).mean() < 0.6


def test_the_inverse_is_the_survival_functions() -> None:
    """hazard_patience_h maps a unit exponential E to the wait w with -log S(w) = E."""
    for shelf in (0.0, 30.0, 240.0, math.inf):
        for e in (0.01, 0.3, 1.0, 2.5, 7.0):
            w = hazard_patience_h(e, PER_DAY, PAST, shelf)
            assert -math.log(hazard_survival(w, PER_DAY, PAST, shelf)) == pytest.approx(e, rel=1e-12)
    assert hazard_patience_h(1.0, 0.0, PAST, math.inf) == math.inf  # no hazard, never spoils
    assert hazard_patience_h(1.0, 0.0, 2.0, 24.0) == pytest.approx(24.0 + 12.0)


DIVERT = """
name: patience_divert
run: {time_unit: hours, start: 2022-01-01T00:00:00, horizon: 1200, seed: 1}
truck_classes:
  ambient:
    commodity: fresh_fruit
    perishable: {shelf_life_h: {dist: deterministic, value: 48}}
gates:
  a:
    closures: [{start: 2022-01-01, end: 2022-12-31}]
    export:
      reneging: {hazard: {per_day: 0.5, past_shelf_life_per_day: 2}, divert_to: b, divert_share: 1.0,
                 travel_h: {dist: deterministic, value: 3}}
      stages: {china_side: {servers: 1, service: {dist: deterministic, value: 0.1}}}
  b:
    closures: [{start: 2022-01-01, end: 2022-12-31}]
    export:
      reneging: {hazard: {per_day: 0.5, past_shelf_life_per_day: 2}}
      stages: {china_side: {servers: 1, service: {dist: deterministic, value: 0.1}}}
arrivals:
  a: {gate: a, direction: export, truck_class: ambient, rate: 800, per: day,
      schedule: [{from: 2022-01-02, rate: 0}]}
"""


def test_a_diverted_truck_keeps_only_the_shelf_life_it_has_left() -> None:
    """At the second gate the hazard rises once the wait there passes what is left of the shelf life
    after the time already lost: the cumulative hazard of each truck's second wait, under its own
    shelf point, is a unit exponential (Kolmogorov-Smirnov). Restarting the shelf life at the second
    gate would make it far too small for the trucks that lost a day or more at the first."""
    trucks = run(Scenario.model_validate(yaml.safe_load(DIVERT)), 4).trucks
    first = trucks[trucks["diverted_from"] < 0].set_index("truck")
    second = trucks[trucks["diverted_from"] >= 0]
    assert len(second) > 700 and (second["status"] == "turned_back").all()
    origin = first.loc[second["diverted_from"], "arrival"].to_numpy()
    left = 48.0 - (second["arrival"].to_numpy() - origin)  # shelf life left on reaching gate b
    wait = (second["exit"] - second["arrival"]).to_numpy()
    e = [-math.log(hazard_survival(w, 0.5, 2.0, s)) for w, s in zip(wait, left, strict=True)]
    assert stats.kstest(e, "expon").pvalue > 1e-3
    restarted = [-math.log(hazard_survival(w, 0.5, 2.0, 48.0)) for w in wait]
    assert stats.kstest(restarted, "expon").pvalue < 1e-6


def test_a_starting_truck_keeps_the_hazard_it_has_left(tmp_path: Path) -> None:
    """Trucks of a starting state have already waited w: their patience is drawn given that they are
    still there, so the further wait until they give up has survival S(w + x) / S(w). For a cargo that
    does not perish that is the hazard's exponential, whatever w (memoryless); for a cargo with 48 h of
    shelf life left on arrival and a 12 h wait, the hazard rises 36 h into the run. Both checked by KS
    (drawing the patience without the condition, or reading the draw in hours, fails them)."""
    from sim.scenario import load_scenario

    (tmp_path / "state.csv").write_text(
        "gate,direction,count,class,waited_h\ng,export,600,goods,48\ng,export,600,ambient,12\n"
    )
    text = TEXT.replace("seed: 1}", f"seed: 1, initial_state: {tmp_path / 'state.csv'}}}")
    text = text[: text.index("arrivals:")] + "arrivals:\n"
    text += "  goods: {gate: g, direction: export, truck_class: goods, rate: 1e-9, per: day}\n"
    (tmp_path / "s.yaml").write_text(text)
    trucks = run(load_scenario(tmp_path / "s.yaml").scenario, 2).trucks
    start = trucks[trucks["arrival"] < 0]
    assert len(start) == 1200 and (start["status"] == "turned_back").mean() > 0.99
    for name, waited in (("goods", 48.0), ("ambient", 12.0)):
        shelf = SHELF_H[name]
        x = start.loc[start["truck_class"] == name, "exit"].dropna().to_numpy()  # hours after the start
        s_w = hazard_survival(waited, PER_DAY, PAST, shelf)
        cdf = np.vectorize(
            lambda v, w=waited, s=shelf, sw=s_w: 1.0 - hazard_survival(w + v, PER_DAY, PAST, s) / sw
        )
        assert stats.kstest(x, cdf).pvalue > 1e-3, name
