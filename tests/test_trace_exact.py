"""Exact trace checks: the engine against an independent recursion on the same random draws.

The arrival and service times are regenerated here, independently of the engine, from the documented
stream names (``arrivals/<stream>``: exponential gaps; ``service/<gate>/<direction>/<stage>``: uniforms
turned into service times by inversion, -mean * log(1 - U)); then every truck's wait
is recomputed with the Kiefer-Wolfowitz recursion for a FIFO c-server queue (servers' next-free times,
sorted) and compared with the engine's records to 1e-9. For stages in series, each stage's arrivals are
the previous stage's departures, taken in time order.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.random_streams import replication_seed, stream
from tests.conftest import run, scenario


def kiefer_wolfowitz(arrivals: np.ndarray, services: np.ndarray, servers: int) -> np.ndarray:
    """Waits in a FIFO queue with ``servers`` identical servers; customers given in arrival order."""
    free_at = np.zeros(servers)
    waits = np.empty(len(arrivals))
    for i, (a, s) in enumerate(zip(arrivals, services, strict=True)):
        k = int(np.argmin(free_at))
        start = max(a, free_at[k])
        waits[i] = start - a
        free_at[k] = start + s
    return waits


def regenerate_arrivals(seed: int, name: str, rate: float, horizon: float) -> np.ndarray:
    gen = stream(replication_seed(seed, 0), "arrivals", name)
    times = np.cumsum(gen.exponential(1.0 / rate, int(rate * horizon * 1.5) + 1000))
    return times[times < horizon]


def regenerate_services(seed: int, stage: str, mean: float, n: int) -> np.ndarray:
    gen = stream(replication_seed(seed, 0), "service", "gate", "export", stage)
    return -mean * np.log1p(-gen.random(n))


@pytest.mark.parametrize("servers", [1, 3])
def test_single_stage_matches_kiefer_wolfowitz(servers: int) -> None:
    rate, mean, horizon, seed = 2.55, 1.0, 3000.0, 7
    s = scenario(
        "examples/mmc.yaml",
        f"run.horizon={horizon}",
        "run.warmup=0",
        f"gates.gate.export.stages.service.servers={servers}",
        f"gates.gate.export.stages.service.service.mean={mean * servers / 3}",
    )
    tables = run(s, seed=seed)
    arrivals = regenerate_arrivals(seed, "trucks", rate, horizon)
    services = regenerate_services(seed, "service", mean * servers / 3, len(arrivals))
    # the engine saw exactly these arrivals (rtol: the engine sums gaps block by block)
    np.testing.assert_allclose(tables.trucks["arrival"].to_numpy(), arrivals, rtol=1e-12, atol=0)

    expected = kiefer_wolfowitz(arrivals, services, servers)
    st = tables.stages.sort_values("truck")
    done = st["truck"].to_numpy()
    assert len(done) > 0.95 * len(arrivals)
    np.testing.assert_allclose(st["wait"].to_numpy(), expected[done], rtol=0, atol=1e-9)
    np.testing.assert_allclose(st["service"].to_numpy(), services[done], rtol=0, atol=1e-9)
    assert expected.max() > 1.0  # the trace has real queueing, so the comparison means something


def test_three_stages_in_series_match_recursion() -> None:
    horizon, seed = 3000.0, 11
    s = scenario("examples/tandem.yaml", f"run.horizon={horizon}", "run.warmup=0")
    tables = run(s, seed=seed)
    stages = [("declaration", 1, 0.25), ("customs", 2, 0.6), ("crossing", 3, 1.05)]
    arrivals = regenerate_arrivals(seed, "trucks", 2.0, horizon)
    n = len(arrivals)
    at_stage = arrivals.copy()
    st = tables.stages
    for order, (name, servers, mean) in enumerate(stages):
        services = regenerate_services(seed, name, mean, n)
        order_in = np.argsort(at_stage, kind="stable")
        waits = np.empty(n)
        waits[order_in] = kiefer_wolfowitz(at_stage[order_in], services[order_in], servers)
        rec = st[st["stage_order"] == order].sort_values("truck")
        done = rec["truck"].to_numpy()
        assert len(done) > 0.95 * n
        np.testing.assert_allclose(rec["wait"].to_numpy(), waits[done], rtol=0, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(rec["queued"].to_numpy(), at_stage[done], rtol=0, atol=1e-9)
        at_stage = at_stage + waits + services  # departure from this stage = arrival at the next
