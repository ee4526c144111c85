"""Legends stay whole and inside the figure whatever the policies are called (issue 29, row 12): the
winter comparison's legends ran past both edges ('..._2021_22', 'pstream_jan', 'only route_by_wa').

A comparison of four scenarios with long names, one closure in two policies only (the backlog legend then
names them), saved by the command line; every figure of it is drawn by the real plotting code and each
legend's rendered extent is checked against the figure's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.cli import main
from sim.present.plots import style
from tests.conftest import SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"
BASE = "winter_replay_of_the_season_2021_22"
POLICIES = (
    "hold_upstream_jan_with_compliance",
    "route_by_wait_announced_2021_22",
    "call_forward_slots_2021_22",
)
CLOSED_IN = POLICIES[:2]


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("legends")
    (root / "base.yaml").write_text(f"extends: {MINIMAL}\nname: {BASE}\n")
    for name in POLICIES:
        closure = (
            "gates:\n  tan_thanh:\n    closures:\n"
            f"      - {{start: 2021-06-03T06:00:00, end: 2021-06-03T18:00:00, reason: closed in {name}}}\n"
        )
        (root / f"{name}.yaml").write_text(
            f"extends: base.yaml\nname: {name}\n" + (closure if name in CLOSED_IN else "")
        )
    here = Path.cwd()
    os.chdir(root)
    try:
        args = ["compare", "base.yaml", *(f"{n}.yaml" for n in POLICIES)]
        code = main(
            [*args, "--set", "run.horizon=96", "--set", "run.warmup=24", "--replications", "2", "--jobs", "2"]
        )
        assert code == 0
    finally:
        os.chdir(here)
    (folder,) = (root / "results").glob("compare-*")
    yield folder


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, Figure]:
    kept: dict[str, Figure] = {}
    original = style.save

    def keep(fig: Figure, out: Path, name: str, title: str, caption: str, source: str) -> style.Written:
        fig.canvas.draw()
        kept[name] = fig
        return original(fig, out, name, title, caption, source)

    monkeypatch.setattr(style, "save", keep)
    return kept


def _outside(fig: Figure) -> list[str]:
    """The legends (figure's and panels') reaching past the figure's edges, as 'text: where'."""
    canvas = FigureCanvasAgg(fig)  # a closed figure's canvas is no longer Agg
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    bad = []
    for legend in legends:
        e = legend.get_window_extent(renderer)
        if e.x0 < box.x0 - 1 or e.x1 > box.x1 + 1 or e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1:
            bad.append(
                f"{legend.get_texts()[0].get_text()!r}: x {e.x0:.0f}..{e.x1:.0f}, y {e.y0:.0f}..{e.y1:.0f}"
            )
    return bad


def _legend_words(fig: Figure) -> str:
    return " ".join(" ".join(t.get_text().split()) for lg in fig.legends for t in lg.get_texts())


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_every_legend_of_a_comparison_with_long_names_is_inside_the_figure(
    comparison: Path, tmp_path: Path, drawn: dict[str, Figure]
) -> None:
    from sim.present import plots

    plots.plot(comparison, out=tmp_path / "plots")
    assert {"backlog", "daily_trucks", "daily_value", "headline_clearance"} <= set(drawn)
    for name, fig in drawn.items():
        assert _outside(fig) == [], name
    for name in ("backlog", "daily_trucks"):  # whole names, wrapped at spaces, never cut
        words = _legend_words(drawn[name])
        for scenario in (BASE, *POLICIES):
            assert scenario in words, (name, scenario)
    assert all(p in _legend_words(drawn["backlog"]) for p in CLOSED_IN)  # the closure's 'only ...'


def test_a_legend_too_wide_for_the_figure_is_wrapped_at_spaces_and_fits() -> None:
    fig, _ = style.figure(1, 1, 3.0)
    long = "a closure only in " + ", ".join(f"policy_number_{i}_with_a_long_name_2021_22" for i in range(6))
    handles = [Line2D([], [], color=style.colour(k), label=f"{long} {k}") for k in range(5)]
    legend = style.figure_legend(fig, handles)
    try:
        assert _outside(fig) == []
        for k, text in enumerate(legend.get_texts()):
            assert " ".join(text.get_text().split()) == f"{long} {k}"  # every word kept, in order
            assert "\n" in text.get_text()
    finally:
        plt.close(fig)


def test_a_legend_that_fits_keeps_its_columns_and_lines() -> None:
    fig, _ = style.figure(1, 1, 3.0)
    handles = [Line2D([], [], label=f"policy {k}") for k in range(4)]
    legend = style.figure_legend(fig, handles)
    try:
        assert legend._ncols == 3
        assert all("\n" not in t.get_text() for t in legend.get_texts())
    finally:
        plt.close(fig)
