"""``robust``'s numbers on hand-made tables (sim.analysis.robust): regret, satisficing, P(best) and its
interval, the minimax-regret ranking against the central one, the discovered box of a known flip, and
the value of information of the input that flips the choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.robust import (
    discover,
    meets,
    p_best,
    rank_robust,
    regret,
    robustness,
    value_of_information,
)

# three input sets, three policies, less is better; regret worked out by hand below
HAND = pd.DataFrame({"base": [10.0, 8.0, 6.0], "a": [7.0, 9.0, 5.0], "b": [8.0, 6.0, 7.0]})


def test_regret_and_satisficing_match_a_hand_made_table() -> None:
    # best per set: a (7), b (6), a (5): regrets base 3,2,1; a 0,3,0; b 1,0,2
    expected = pd.DataFrame({"base": [3.0, 2.0, 1.0], "a": [0.0, 3.0, 0.0], "b": [1.0, 0.0, 2.0]})
    pd.testing.assert_frame_equal(regret(HAND, -1), expected)
    # more is better: best per set base (10), a (9), b (7)
    assert regret(HAND, +1)["a"].tolist() == [3.0, 0.0, 2.0]
    assert meets(HAND, "<=", 7.0).to_dict() == pytest.approx({"base": 1 / 3, "a": 2 / 3, "b": 2 / 3})
    assert meets(HAND, ">=", 8.0).to_dict() == pytest.approx({"base": 2 / 3, "a": 1 / 3, "b": 1 / 3})
    central = pd.Series({"base": 8.0, "a": 7.0, "b": 6.0})
    table = robustness(HAND, "base", -1, central=central, target=("<=", 7))
    row = table.set_index("policy")
    assert row.loc["a", "expected_regret"] == pytest.approx(1.0)
    assert row.loc["a", "worst_regret"] == 3.0
    assert row.loc["b", "expected_regret"] == pytest.approx(1.0)
    assert row.loc["b", "worst_regret"] == 2.0
    # minimax regret: b (2) before a (3) before base (3, but expected 2 > 1)
    assert list(table["policy"]) == ["b", "a", "base"]
    assert row.loc["a", "diff_p50"] == pytest.approx(-1.0)  # paired differences -3, +1, -1
    assert row.loc["a", "p_best"] == pytest.approx(2 / 3)
    assert row.loc["b", "central_rank"] == 1 and row.loc["a", "central_rank"] == 2


def test_minimax_ties_are_broken_by_expected_regret() -> None:
    table = pd.DataFrame(
        {"worst_regret": [2.0, 2.0, 1.0], "expected_regret": [1.5, 0.5, 0.9]}, index=["x", "y", "z"]
    )
    assert rank_robust(table) == ["z", "y", "x"]


def flip_pair(n: int, seed: int, at: float = 0.37) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two policies whose better one flips at ``at`` of input u (range 0..1): 'early' is better below
    it, 'late' above; a second input v does nothing. Common noise per set, as common random numbers
    give, so the flip is exact."""
    rng = np.random.default_rng(seed)
    u, v, noise = rng.uniform(0, 1, n), rng.uniform(0, 1, n), rng.normal(0, 5, n)
    wide = pd.DataFrame({"base": 20 + noise, "early": 10 + 10 * (u - at) + noise, "late": 10 + noise})
    return wide, pd.DataFrame({"u": u, "v": v})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_box_recovers_a_known_flip_within_5_percent_and_p_best_is_the_exact_share(seed: int) -> None:
    at = 0.37
    wide, inputs = flip_pair(96, seed, at)
    shares = p_best(wide, -1, seed=seed)
    exact = float(np.mean(inputs["u"] < at))
    assert shares.loc["early", "p_best"] == pytest.approx(exact)
    assert shares.loc["late", "p_best"] == pytest.approx(1 - exact)
    assert shares.loc["early", "p_best_low"] <= exact <= shares.loc["early", "p_best_high"]
    assert shares.loc["early", "p_best_high"] - shares.loc["early", "p_best_low"] < 0.3
    failed = regret(wide, -1)["early"].to_numpy() > 0  # where 'early' loses: u above the flip
    box = discover(inputs, failed)
    assert [(limit.input, limit.op) for limit in box.limits] == [("u", ">=")]
    assert abs(box.limits[0].value - at) <= 0.05  # within 5% of the range 0..1
    assert box.coverage == 1.0 and box.density == 1.0


def test_a_tie_shares_the_win() -> None:
    wide = pd.DataFrame({"a": [1.0, 1.0], "b": [1.0, 2.0]})
    assert p_best(wide, -1)["p_best"].to_dict() == pytest.approx({"a": 0.75, "b": 0.25})


def test_value_of_information_names_the_input_that_flips_the_choice() -> None:
    wide, inputs = flip_pair(200, 4)
    r = regret(wide, -1)
    voi = value_of_information(inputs, r, "late", bins=4)
    assert voi.iloc[0]["input"] == "u"
    assert voi.iloc[0]["value"] > 0 and "early" in voi.iloc[0]["switch"]
    knowing_v = voi.set_index("input").loc["v"]
    assert knowing_v["value"] < voi.iloc[0]["value"] / 3  # v does nothing: only chance is left
    assert (voi["value"] >= -1e-12).all()
