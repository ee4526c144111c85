"""The clearance ECDF with six scenarios (issue 29, row 8): the chart was squashed into a strip and its
in-plot legends hid the curves and the p50/p95 marks.

The figures are drawn by the real plotting code from a small stand-in for a results folder (six scenarios,
two gates, two replications of random clearance times): no simulation is needed to lay out a figure.
Checked on the drawn Figure: no legend covers any panel's data area, and every panel keeps a readable
height whatever the legends take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.present.plots import clearance, style

HEADLINE_IN = 3.5  # inches: an ECDF a planner reads (the squashed one of six scenarios was 2.3 in tall)
PANEL_IN = 1.9  # inches: a per-gate panel (1.8 in with six scenarios before)
GATES = ("huu_nghi", "tan_thanh")
NAMES = (
    "winter_replay_of_the_season_2021_22",
    "rail_fruit",
    "route_by_wait",
    "hold_upstream_jan",
    "call_forward_slots",
    "call_forward_slots_and_rail",
)


@dataclass
class FakeRun:
    """What the clearance figures read of one scenario's results."""

    name: str
    hours: pd.DataFrame
    scenario: SimpleNamespace
    replications: tuple[int, ...] = (0, 1)

    def cleared_hours(self) -> pd.DataFrame:
        return self.hours

    def window_text(self) -> str:
        return "1 Dec 2021 to 1 Feb 2022 (62 days)"


@dataclass
class FakeStudy:
    runs: list[FakeRun]

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.runs]

    @property
    def base(self) -> FakeRun:
        return self.runs[0]

    def flows(self) -> list[tuple[str, str]]:
        return [(g, d) for g in GATES for d in ("export", "import")]

    def gate_label(self, gate: str) -> str:
        return gate.replace("_", " ").title()


def _study(n: int) -> FakeStudy:
    rng = np.random.default_rng(29)
    runs = []
    for k in range(n):
        rows = [
            {"replication": r, "gate": g, "direction": d, "status": "cleared", "hours": h}
            for r in (0, 1)
            for g in GATES
            for d in ("export", "import")
            for h in rng.lognormal(np.log(5.0 + k), 0.8, 60)
        ]
        rows += [
            {"replication": 0, "gate": "huu_nghi", "direction": "export", "status": "inside", "hours": np.nan}
        ]
        # descriptions as long as the winter files' (the base about 650 characters, a policy about 200)
        about = " ".join(
            ["The winter replayed with its dated arrivals, closures and caps as they were."]
            * (8 if k == 0 else 3)
        )
        runs.append(FakeRun(NAMES[k], pd.DataFrame(rows), SimpleNamespace(description=about)))
    return FakeStudy(runs)


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures ``style.save`` is given while the test runs, kept and not written (the files are not
    what is checked here, and writing PNG and SVG of every figure is most of the time)."""
    figures: list[Figure] = []

    def keep(fig: Figure, out: Path, name: str, title: str, caption: str, source: str) -> style.Written:
        figures.append(fig)
        return style.Written(name, (), 0, 0, title, caption)

    monkeypatch.setattr(style, "save", keep)
    return figures


def _covered(fig: Figure) -> list[str]:
    """Legends (the figure's and the panels') that overlap a panel's data area, as 'legend on panel'."""
    canvas = FigureCanvasAgg(fig)  # a saved (closed) figure's canvas is no longer Agg
    canvas.draw()
    renderer = canvas.get_renderer()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    return [
        f"{legend.get_texts()[0].get_text()!r} on {ax.get_title()!r}"
        for legend in legends
        for ax in fig.axes
        if legend.get_window_extent(renderer).overlaps(ax.bbox)
    ]


def _shortest_panel_in(fig: Figure) -> float:
    return min(ax.get_position().height for ax in fig.axes) * fig.get_figheight()


@pytest.mark.parametrize("n", [2, 6])
def test_the_headline_ecdf_keeps_its_legends_off_the_curves_and_its_height(
    n: int, tmp_path: Path, kept: list[Figure]
) -> None:
    clearance.headline(_study(n), tmp_path, "test")
    (fig,) = kept
    assert _covered(fig) == []
    # the values of every scenario are still given, under each panel
    panel_legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(panel_legends) == 2 and all(len(lg.get_texts()) == n for lg in panel_legends)
    assert all(
        "p50" in t.get_text() and "p95" in t.get_text() for lg in panel_legends for t in lg.get_texts()
    )
    assert _shortest_panel_in(fig) >= HEADLINE_IN


def test_the_pages_group_ecdf_of_six_scenarios_keeps_its_legends_off_the_curves_and_its_height() -> None:
    fig, alt = clearance.group_ecdf(_study(6), "huu_nghi", "export")
    try:
        assert _covered(fig) == []
        assert _shortest_panel_in(fig) >= HEADLINE_IN
        assert all(name in alt for name in NAMES)
    finally:
        plt.close(fig)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
@pytest.mark.parametrize("n", [2, 6])
def test_the_per_gate_ecdf_and_histogram_keep_every_panel_readable(
    n: int, tmp_path: Path, kept: list[Figure]
) -> None:
    clearance.per_flow(_study(n), tmp_path, "test")
    figures = dict(zip(("clearance_ecdf", "clearance_hist", "clearance_box"), kept, strict=True))
    assert _covered(figures["clearance_ecdf"]) == []
    for name in ("clearance_ecdf", "clearance_hist"):
        assert _shortest_panel_in(figures[name]) >= PANEL_IN, name
