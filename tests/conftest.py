"""Shared helpers for the tests: load scenarios from the repository and run replications in memory."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
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


def _measure(job: tuple[Callable[[Tables, Scenario], object], Scenario, int, int]) -> object:
    measure, s, seed, replication = job
    return measure(run(s, seed, replication), s)


def replicate(
    pool: Executor, s: Scenario, seed: int, reps: int, measure: Callable[[Tables, Scenario], object]
) -> list:
    """``measure(tables, scenario)`` of replications ``0..reps-1`` of ``s`` under root seed ``seed``, in
    replication order, computed on the pool's worker processes (only the measures travel back)."""
    return list(pool.map(_measure, [(measure, s, seed, r) for r in range(reps)]))


@pytest.fixture(autouse=True)
def main_module_restored() -> Iterator[None]:
    """Streamlit's AppTest runs a page (or a function's source) as ``__main__`` and leaves it there. A
    worker process started later by the spawn or forkserver method re-runs the parent's main script, so
    a pool made after a page test (the theory checks' pool below) would run the page in every worker and
    break. The product's own pools hide the main script (sim.runner.backends); here each test gives the
    suite's ``__main__`` back as it found it."""
    main = sys.modules.get("__main__")
    yield
    if main is not None and sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def replication_pool() -> Iterator[Executor]:
    """Two worker processes for the theory checks, the suite's longest simulations: a replication is a
    pure function of the scenario and its seed, so where it runs changes nothing. Forkserver, not fork:
    earlier tests may have started threads (Dask, the what-if page) that a fork would copy mid-lock."""
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        yield pool


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run a test from an empty folder, so that a stray results/ folder would be seen."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def drawn_figures(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every figure the package saves through ``style.save`` during the test, drawn (so that text extents,
    tick labels and offsets can be read from it) and kept open for the test to inspect."""
    from sim.present.plots import style

    kept: list = []
    original = style.save

    def keep(fig, *args, **kwargs):  # type: ignore[no-untyped-def]
        fig.canvas.draw()
        kept.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(style, "save", keep)
    return kept


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The what-if page on the committed scenarios, run once by Streamlit's AppTest (the page extra)."""
    pytest.importorskip("streamlit", reason="the page needs the app extra: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(sys, "argv", ["page.py", "--results-root", str(tmp_path / "results"),
                                      "--scenarios", str(SCENARIOS)])  # fmt: skip
    app = AppTest.from_file(str(ROOT / "sim" / "app" / "page.py"), default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app
