"""Hardening round 4 (issue 27), the figures: every figure is drawn for any valid scenario, and tells the
truth about what it shows.

Row 5: a gate with one direction only (Tan Thanh exports only) left an empty panel whose ``set_xticks([])``
emptied the date locator every panel shares; the date formatter then failed on no ticks (an IndexError
from ``plot`` and ``report``). The family: a comparison where a policy adds a gate (a route, a rail line)
has panels of flows some scenarios lack, and a scenario without the flow must draw nothing there, not a
line at zero.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from matplotlib.figure import Figure

from sim.cli import main
from sim.present.plots import style
from tests.conftest import SCENARIOS

SHORT = ["--set", "run.horizon=96", "--set", "run.warmup=24", "--replications", "2", "--jobs", "1"]
FIGURES = {
    "forest",
    "headline_clearance",
    "clearance_ecdf",
    "clearance_hist",
    "clearance_box",
    "backlog",
    "daily_trucks",
    "daily_value",
    "stage_breakdown",
}
ADD_GATE = """extends: one_direction.yaml
name: add_gate
description: adds Chi Ma, imports only, with a daily cap
gates:
  chi_ma:
    name: Chi Ma
    yard: {capacity: 100}
    import:
      enters_yard_at: china_side
      stages:
        china_side:
          servers: 2
          service: {dist: triangular, low: 0.1667, mode: 0.2083, high: 0.25}
          daily_cap: 30
arrivals:
  chi_ma_import: {gate: chi_ma, direction: import, truck_class: goods_import, rate: 40, per: day}
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A run of the minimal scenario with Tan Thanh's imports removed, and its comparison with a policy
    that adds an import-only gate."""
    root = tmp_path_factory.mktemp("one_direction")
    spec = yaml.safe_load((SCENARIOS / "lang_son_minimal.yaml").read_text(encoding="utf-8"))
    del spec["gates"]["tan_thanh"]["import"], spec["arrivals"]["tan_thanh_import"]
    spec["name"] = "one_direction"
    (root / "one_direction.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (root / "add_gate.yaml").write_text(ADD_GATE, encoding="utf-8")
    here = Path.cwd()
    os.chdir(root)
    try:
        assert main(["run", "one_direction.yaml", *SHORT, "--out", "run"]) == 0
        assert main(["compare", "one_direction.yaml", "add_gate.yaml", *SHORT, "--out", "compare"]) == 0
    finally:
        os.chdir(here)
    yield {"run": root / "run", "compare": root / "compare"}


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, Figure]:
    """Every figure saved, by name, kept for a look at its panels after it is written."""
    figures: dict[str, Figure] = {}
    real = style.save

    def keep(fig: Figure, out: Path, name: str, *args: object) -> style.Written:
        figures[name] = fig
        return real(fig, out, name, *args)

    monkeypatch.setattr(style, "save", keep)
    return figures


def _panel(fig: Figure, title: str):
    return next(ax for ax in fig.axes if ax.get_title().startswith(title))


@pytest.mark.parametrize("which", ["run", "compare"])
def test_every_figure_and_the_report_are_drawn_with_a_one_direction_gate(
    which: str, folders: dict[str, Path], drawn: dict[str, Figure]
) -> None:
    assert main(["report", str(folders[which])]) == 0  # draws every figure that applies, then the page
    assert (folders[which] / "report" / "index.html").is_file()
    assert set(drawn) == FIGURES - ({"forest"} if which == "run" else set())
    assert all(p.stat().st_size > 10_000 for p in (folders[which] / "plots").glob("*.png"))
    # the empty panel hides its own ticks only: its neighbours sharing the axis keep their dates / hours
    for name in ("daily_trucks", "clearance_ecdf", "clearance_hist"):
        ax = _panel(drawn[name], "Tan Thanh, export")
        assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()], name


def test_a_flow_only_a_policy_has_is_drawn_for_that_policy_only(
    folders: dict[str, Path], drawn: dict[str, Figure], tmp_path: Path
) -> None:
    from sim.present.plots import plot

    plot(folders["compare"], ["throughput"], out=tmp_path)
    ax = _panel(drawn["daily_trucks"], "Chi Ma, import")
    assert "only in add_gate" in ax.get_title()
    labels = [line.get_label() for line in ax.get_lines()]
    assert "cleared, add_gate" in labels and "arrived (demand), add_gate" in labels
    assert not [label for label in labels if label.endswith("one_direction")]  # no base line at zero
    legend = [t.get_text() for t in drawn["daily_trucks"].legends[0].get_texts()]
    assert "arrived (demand), add_gate" in legend  # a panel's own lines reach the legend


def test_animate_draws_a_frame_of_a_one_direction_gate(folders: dict[str, Path], tmp_path: Path) -> None:
    assert main(["animate", str(folders["run"]), "--frame", "2021-06-02", "--out", str(tmp_path / "a.png")]) == 0
    out = tmp_path / "b.png"
    args = ["animate", str(folders["compare"]), "--scenario", "add_gate", "--frame", "2021-06-02"]
    assert main([*args, "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
