"""Shared helpers for the tests: load scenarios from the repository and run replications in memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.model.records import Tables
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def scenario(relpath: str, *overrides: str) -> Scenario:
    return load_scenario(SCENARIOS / relpath, overrides).scenario


def run(s: Scenario, seed: int = 1, replication: int = 0) -> Tables:
    return run_replication(s, replication_seed(seed, replication))


def t_interval(samples: Sequence[float], confidence: float) -> tuple[float, float]:
    """Mean and half-width of the Student-t interval over independent replications."""
    x = np.asarray(samples, dtype=float)
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean()), float(half)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run a test from an empty folder, so that a stray results/ folder would be seen."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
