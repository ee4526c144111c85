"""The golden fingerprints and the model's draws depend on values only, not on the library versions or the
CPU that computed them (hardening round 4, row 1: a fresh install on pandas 3 failed every golden test).

These are unit tests of the digest and of the sources of library- or CPU-dependence that were found; the
golden comparison itself is tests/test_golden_tables.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.metrics import replication_metrics
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from sim.scenario.schema import Lognormal
from tests.golden import tables as golden

TABLE = pd.DataFrame(
    {
        "gate": ["huu_nghi", "tan_thanh", "huu_nghi"],
        "n": np.array([1, 2, 3], dtype=np.int64),
        "x": [0.5, np.nan, 2.0],
        "flag": [True, False, True],
    }
)


@pytest.mark.parametrize("text_dtype", ["category", "object", "string"])
def test_digest_is_blind_to_how_text_is_stored(text_dtype: str) -> None:
    assert golden.table_digest(TABLE.astype({"gate": text_dtype})) == golden.table_digest(TABLE)


def test_digest_is_blind_to_integer_width_and_negative_zero() -> None:
    narrow = TABLE.astype({"n": np.int32})
    signed_zero = TABLE.assign(x=[0.5, np.nan, 2.0]), TABLE.assign(x=[-0.0, np.nan, 2.0])
    assert golden.table_digest(narrow) == golden.table_digest(TABLE)
    assert golden.table_digest(signed_zero[1]) == golden.table_digest(TABLE.assign(x=[0.0, np.nan, 2.0]))


@pytest.mark.parametrize(
    "changed",
    [
        TABLE.assign(x=[0.5, np.nan, np.nextafter(2.0, 3.0)]),  # one ulp
        TABLE.assign(gate=["huu_nghi", "tan_thanh", "tan_thanh"]),
        TABLE.iloc[[1, 0, 2]].reset_index(drop=True),  # row order
        TABLE.rename(columns={"x": "y"}),
        TABLE.assign(n=["1", "2", "3"]),  # text is not a number
        TABLE.assign(x=[0.5, 0.0, 2.0]),  # a missing value is not zero
        TABLE.iloc[:2],
    ],
)
def test_digest_sees_every_change_of_value(changed: pd.DataFrame) -> None:
    assert golden.table_digest(changed) != golden.table_digest(TABLE)


def test_lognormal_draws_do_not_use_numpys_vectorised_exp(monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy's float64 ``exp`` takes an AVX512F path on CPUs that have it, whose last bit differs from the
    C library's; the cargo values drawn from a lognormal then differed between machines. Here ``np.exp``
    is made one ulp off: the quantiles must not move, and they equal scipy's on this machine."""
    spec = Lognormal(dist="lognormal", mean=25_000.0, sd=40_000.0)
    u = np.random.default_rng(7).random(5_000)
    u[0] = 0.0
    before = spec.quantiles(u)
    sigma2 = np.log1p((spec.sd / spec.mean) ** 2)
    reference = stats.lognorm.ppf(u, np.sqrt(sigma2), scale=spec.mean * np.exp(-sigma2 / 2.0))
    np.testing.assert_allclose(before, reference, rtol=4e-16, atol=0.0)
    exp = np.exp
    monkeypatch.setattr(np, "exp", lambda x, *a, **k: np.nextafter(exp(x, *a, **k), np.inf))
    assert np.array_equal(spec.quantiles(u), before)


def test_a_metric_without_data_is_a_missing_row_on_every_pandas() -> None:
    """pandas 2's ``stack`` dropped NaN cells and pandas 3's keeps them: the metrics of a gate whose trucks
    did not clear keep their rows, as NaN, whichever pandas runs."""
    path = golden.ROOT / "scenarios/lang_son_minimal.yaml"
    scenario = load_scenario(path, ["run.horizon=3", "run.warmup=0"]).scenario
    metrics = replication_metrics(run_replication(scenario, replication_seed(1, 0)), scenario)
    per_group = metrics.groupby(["gate", "direction"]).size()
    assert per_group.nunique() == 1  # every gate and direction has every metric
    means = metrics[metrics["metric"] == "mean_clearance_h"]
    assert len(means) == len(per_group)
    assert means["value"].isna().any()  # the case in point: a group whose trucks have not cleared in 3 h
