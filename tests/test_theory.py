"""Theory checks: long runs of simple scenarios against queueing formulas.

Each check runs independent replications (the scenario's warm-up deleted) and asks two things of the 99%
Student-t interval of the replication means: that it covers the theoretical value, and that its half-width
is under 5% of that value, so a test that passes has the power to see a 5% error. The run lengths below
were sized for that half-width; the formulas are written here, independently of the package.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest

from tests.conftest import replicate, scenario, t_interval

CONFIDENCE = 0.99
MAX_RELATIVE_HALF_WIDTH = 0.05


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """(P(wait), mean wait in queue) of an M/M/c queue."""
    a = lam / mu
    rho = a / c
    assert rho < 1
    tail = a**c / factorial(c) / (1 - rho)
    p_wait = tail / (sum(a**k / factorial(k) for k in range(c)) + tail)
    return p_wait, p_wait / (c * mu - lam)


def test_erlang_c_formula_itself() -> None:
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lam); M/M/2 closed form: P(wait) = 2 rho^2 / (1 + rho)
    assert erlang_c(0.6, 1.0, 1) == pytest.approx((0.6, 0.6 / 0.4))
    rho = 0.7
    assert erlang_c(2 * rho, 1.0, 2)[0] == pytest.approx(2 * rho**2 / (1 + rho))


def stage_waits(tables, warmup: float, order: int = 0) -> np.ndarray:
    st = tables.stages
    st = st[(st["stage_order"] == order) & (st["queued"] >= warmup)]
    return st["wait"].to_numpy()


def assert_covers(samples: list[float], theory: float, what: str) -> None:
    mean, half = t_interval(samples, CONFIDENCE)
    assert abs(mean - theory) <= half, f"{what}: theory {theory:.4f} outside {mean:.4f} +- {half:.4f}"
    assert half <= MAX_RELATIVE_HALF_WIDTH * theory, (
        f"{what}: half-width {half:.4f} is over 5% of {theory:.4f}; the test would lack power"
    )


@pytest.mark.parametrize(
    ("rate", "horizon", "reps"),
    [  # rho = 0.5 and rho = 0.85 with 3 servers of mean 1 h; the heavy-traffic case (26 s) is a slow check
        pytest.param(1.5, 20000, 16, id="rho=0.5"),
        pytest.param(2.55, 45000, 16, id="rho=0.85", marks=pytest.mark.slow),
    ],
)
def test_mmc_matches_erlang_c(rate: float, horizon: int, reps: int, replication_pool) -> None:
    s = scenario("examples/mmc.yaml", f"arrivals.trucks.rate={rate}", f"run.horizon={horizon}")
    p_wait, wq = erlang_c(rate, 1.0, 3)
    measured = replicate(replication_pool, s, 2024, reps, mmc_measures)
    waits, sojourns, waited = (list(column) for column in zip(*measured, strict=True))
    assert_covers(waits, wq, "mean wait in queue Wq")
    assert_covers(sojourns, wq + 1.0, "mean time in system W = Wq + 1/mu")
    assert_covers(waited, p_wait, "P(wait)")


def mmc_measures(tables, s) -> tuple[float, float, float]:
    """One replication's mean wait, mean time in system and share of trucks that waited (after warm-up)."""
    waits = stage_waits(tables, s.run.warmup)
    tr = tables.trucks
    tr = tr[(tr["arrival"] >= s.run.warmup) & (tr["status"] == "cleared")]
    return float(waits.mean()), float(tr["clearance_time"].mean()), float((waits > 1e-12).mean())


def mean_wait(tables, s) -> float:
    """One replication's mean wait at the first stage (after warm-up)."""
    return float(stage_waits(tables, s.run.warmup).mean())


def tandem_measures(tables, s) -> tuple[list[float], float]:
    """One replication's mean wait at each of the three stations and its mean time in system."""
    tr = tables.trucks
    tr = tr[(tr["arrival"] >= s.run.warmup) & (tr["status"] == "cleared")]
    waits = [float(stage_waits(tables, s.run.warmup, k).mean()) for k in range(3)]
    return waits, float(tr["clearance_time"].mean())


def test_md1_matches_pollaczek_khinchine(replication_pool) -> None:
    rho, service = 0.7, 1.0
    s = scenario(
        "examples/mmc.yaml",
        f"arrivals.trucks.rate={rho / service}",
        "gates.gate.export.stages.service.servers=1",
        f"gates.gate.export.stages.service.service={{dist: deterministic, value: {service}}}",
        "run.horizon=28000",
    )
    wq = rho * service / (2 * (1 - rho))  # P-K with zero service-time variance
    assert_covers(replicate(replication_pool, s, 2024, 12, mean_wait), wq, "M/D/1 mean wait")


@pytest.mark.slow  # 10 s: a slow check (.ci/run runs them: pytest -m slow)
def test_tandem_matches_jackson(replication_pool) -> None:
    s = scenario("examples/tandem.yaml", "run.horizon=20000")
    lam = 2.0
    stations = [(1, 0.25), (2, 0.6), (3, 1.05)]
    measured = replicate(replication_pool, s, 99, 10, tandem_measures)
    per_stage = [[waits[k] for waits, _ in measured] for k in range(len(stations))]
    total = [sojourn for _, sojourn in measured]
    theory_total = 0.0
    for k, (c, mean) in enumerate(stations):
        _, wq = erlang_c(lam, 1.0 / mean, c)
        theory_total += wq + mean
        mean_w, half = t_interval(per_stage[k], CONFIDENCE)
        assert abs(mean_w - wq) <= half, f"station {k}: {wq:.4f} outside {mean_w:.4f} +- {half:.4f}"
    assert_covers(total, theory_total, "tandem mean time in system (Jackson)")
