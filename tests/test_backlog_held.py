"""Trucks held at their origin are in the backlog figure (issue 29, row 11): the winter's hold upstream
kept about a thousand trucks at their origin, and no figure showed them.

A comparison of the minimal scenario with a policy holding Huu Nghi's exports for two days (a daily quota
of releases, then everyone released), drawn by the real backlog figure: a column of trucks held at their
origin appears, the policy's line rises at Huu Nghi only and the base's stays at zero; a study where
nobody is held has no such column."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.cli import main
from sim.present.plots import backlog, style
from sim.store.reader import Study, load_study
from tests.conftest import SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"
HELD = f"""extends: {MINIMAL}
name: held
gates:
  huu_nghi:
    export:
      upstream:
        periods:
          hold: {{from: 2021-06-02, rule: quota, daily_quota: 60}}
          go: {{from: 2021-06-04, rule: none}}
"""
HELD_TITLE = "trucks held at their origin"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("held")
    (root / "held.yaml").write_text(HELD)
    here = Path.cwd()
    os.chdir(root)
    try:
        args = ["compare", str(MINIMAL), "held.yaml", "--set", "run.horizon=96", "--set", "run.warmup=24"]
        assert main([*args, "--replications", "2", "--jobs", "2"]) == 0
    finally:
        os.chdir(here)
    (folder,) = (root / "results").glob("compare-*")
    yield folder


def _draw(study: Study, out: Path, monkeypatch: pytest.MonkeyPatch) -> Figure:
    kept: list[Figure] = []
    original = style.save

    def keep(fig: Figure, *args, **kwargs) -> style.Written:
        kept.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(style, "save", keep)
    backlog.backlog(study, out, "test")
    (fig,) = kept
    return fig


def _held_panels(fig: Figure) -> dict[str, Axes]:
    return {ax.get_title().split("\n")[0]: ax for ax in fig.axes if ax.get_title().endswith(HELD_TITLE)}


def _line(ax: Axes, name: str) -> np.ndarray:
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == name]
    return np.asarray(line.get_ydata(), dtype=float)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_held_trucks_have_their_own_column_in_the_backlog_figure(
    comparison: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = load_study(comparison)
    fig = _draw(study, tmp_path, monkeypatch)
    panels = _held_panels(fig)
    assert set(panels) == {"Province (all gates)", "Hữu Nghị", "Tân Thanh"}
    base = study.base.name
    assert _line(panels["Hữu Nghị"], "held").max() > 0  # the policy holds Huu Nghi's exports
    assert np.all(_line(panels["Hữu Nghị"], base) == 0)  # the base holds nobody
    assert np.all(_line(panels["Tân Thanh"], "held") == 0)  # nor does the policy at Tan Thanh
    province, gate = _line(panels["Province (all gates)"], "held"), _line(panels["Hữu Nghị"], "held")
    assert np.allclose(province, gate)  # the province's held trucks are Huu Nghi's
    assert "held at their origin" in fig._suptitle.get_text()


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_no_held_column_when_nobody_is_held(
    comparison: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = load_study(comparison)
    base_only = Study(full.base.folder, [full.base], "run", full.base.manifest)
    fig = _draw(base_only, tmp_path, monkeypatch)
    assert _held_panels(fig) == {}
    assert "held" not in fig._suptitle.get_text()
