"""The memory estimate made before a run: expected trucks match what the model then creates, and the
warning fires exactly when the estimate exceeds the memory available."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sim.model import memory
from tests.conftest import run, scenario


@pytest.mark.parametrize(
    ("relpath", "horizon"),
    [
        ("examples/mmc.yaml", "5000"),
        ("lang_son/base_2021_calibrated.yaml", "720"),
        ("lang_son/winter_2021_22.yaml", "96 run.warmup=0"),  # dated arrival schedules
    ],
)
@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_expected_trucks_match_the_trucks_created(relpath: str, horizon: str) -> None:
    s = scenario(relpath, *f"run.horizon={horizon}".split())
    expected = memory.estimate(s).trucks
    tables = run(s, seed=5)
    arrived = int((tables.trucks["diverted_from"] < 0).sum())  # diverted trucks are second rows
    # a Poisson count: 4 standard deviations of the total
    assert abs(arrived - expected) <= 4 * np.sqrt(expected), (arrived, expected)


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_truck_stages_bound_the_records() -> None:
    s = scenario("lang_son/base_2021_calibrated.yaml", "run.horizon=720")
    est = memory.estimate(s)
    tables = run(s, seed=5)
    # an upper bound (stages that apply to some trucks count for all), but of the right size
    assert 0.6 * est.truck_stages < len(tables.stages) <= 1.05 * est.truck_stages


def test_warning_only_when_the_machine_is_too_small(monkeypatch: pytest.MonkeyPatch) -> None:
    s = scenario("lang_son/base_2021_calibrated.yaml")
    need = memory.estimate(s).bytes
    monkeypatch.setattr(memory, "available_bytes", lambda: int(need * 1.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        memory.warn_if_too_big(s)  # fits: silent
    assert memory.memory_problem(s, parallel=2) is not None  # two at once do not
    monkeypatch.setattr(memory, "available_bytes", lambda: int(need * 0.5))
    with pytest.warns(memory.MemoryWarning, match="GiB"):
        memory.warn_if_too_big(s)
