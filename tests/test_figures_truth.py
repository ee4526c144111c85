"""Figures that tell the truth (issue 23), each rule checked on the rendered matplotlib Figure.

The figures are drawn by the real plotting code from results saved by the real commands; ``style.save``
is wrapped so that each Figure is kept (and drawn once, so text positions are final) before it is closed.
Rules: the time axis spans the run's window and nothing outside it is shaded; bands stay between 0 and
what a yard holds; fewer than 5 replications are called unreliable; durations carry one unit; legends are
not cut; tick labels do not overlap; counts never print as '-0'; a difference that is the same in every
replication is said to be so and is not called significant.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.cli import main
from tests.conftest import SCENARIOS

MINIMAL = str(SCENARIOS / "lang_son_minimal.yaml")
SHORT = ["--set", "run.horizon=96", "--set", "run.warmup=24"]  # 2021-06-01 to 2021-06-05
YARD = 12  # a small yard at Huu Nghi: full in some hours of one replication, not the other
POLICY = f"""extends: {MINIMAL}
name: closed_policy
description: >-
  A policy whose description is long enough that the old legend cut it in the middle of a word, and
  whose last words (the words that tell it apart) are ZEBRA-CROSSING-AT-THE-END
gates:
  huu_nghi:
    yard: {{capacity: {YARD}}}
  tan_thanh:
    closures:
      - {{start: 2021-05-29, end: 2021-06-01, reason: before the run and ending on its first day}}
      - {{start: 2021-06-20, end: 2021-06-22, reason: after the run}}
      - {{start: 2021-06-03T06:00:00, end: 2021-06-03T18:00:00, reason: inside the run}}
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A comparison (minimal base vs the policy, 2 replications each) saved by the command line."""
    root = tmp_path_factory.mktemp("truth")
    (root / "closed_policy.yaml").write_text(POLICY)
    here = Path.cwd()
    os.chdir(root)
    try:
        code = main(["compare", MINIMAL, "closed_policy.yaml", *SHORT, "--replications", "2", "--jobs", "2"])
        assert code == 0
    finally:
        os.chdir(here)
    yield {"compare": root / "results" / "compare-lang_son_minimal-closed_policy"}


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[Figure, str]]:
    """Every figure saved while the test runs, by name: (the Figure, drawn; its caption)."""
    from sim.present.plots import style

    kept: dict[str, tuple[Figure, str]] = {}
    original = style.save

    def keep(fig: Figure, out: Path, name: str, title: str, caption: str, source: str) -> style.Written:
        fig.canvas.draw()
        kept[name] = (fig, caption)
        return original(fig, out, name, title, caption, source)

    monkeypatch.setattr(style, "save", keep)
    return kept


def _draw(folder: Path, kind: str, tmp_path: Path, drawn: dict) -> dict[str, tuple[Figure, str]]:
    from sim.present.plots import plot

    plot(folder, [kind], out=tmp_path)
    return drawn


def _window(folder: Path) -> tuple[float, float]:
    from sim.store.reader import load_study

    base = load_study(folder).base
    start, end = base.to_calendar(np.array([0.0, base.horizon]))
    return float(mdates.date2num(start)), float(mdates.date2num(end))


# --------------------------------------------------------------------------------------------------
# backlog: window, closures, bands
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_backlog_time_axis_is_the_run_window_and_closures_are_clipped_to_it(
    folders: dict[str, Path], tmp_path: Path, drawn: dict
) -> None:
    fig, _ = _draw(folders["compare"], "backlog", tmp_path, drawn)["backlog"]
    lo, hi = _window(folders["compare"])
    spans = 0
    for ax in fig.axes:
        if not ax.get_title():
            continue
        assert ax.get_xlim() == pytest.approx((lo, hi)), ax.get_title()
        for patch in ax.patches:
            if isinstance(patch, Rectangle) and patch.get_height() > 0:
                x0, x1 = sorted((patch.get_x(), patch.get_x() + patch.get_width()))
                assert lo - 1e-9 <= x0 < x1 <= hi + 1e-9, (ax.get_title(), x0, x1, lo, hi)
                spans += 1
        if ax.get_title().startswith("Tân Thanh"):
            shaded = sorted(
                (round(p.get_x() - lo, 6), round(p.get_x() + p.get_width() - lo, 6))
                for p in ax.patches
                if isinstance(p, Rectangle)
            )
            # the closure of 29 May - 1 June clipped to the first day, 3 June 06:00-18:00 whole, and
            # the one of 20-22 June (after the run) not drawn at all
            assert shaded == [(0.0, 1.0), (2.25, 2.75)], shaded
    assert spans >= 3 * 2  # the Tan Thanh panels have their closures


def _band_tops(ax) -> list[np.ndarray]:
    return [c.get_paths()[0].vertices[:, 1] for c in ax.collections if isinstance(c, PolyCollection)]


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_backlog_bands_stay_between_zero_and_the_yard_capacity(
    folders: dict[str, Path], tmp_path: Path, drawn: dict
) -> None:
    from sim.present.plots import backlog, style
    from sim.store.reader import load_study

    fig, caption = _draw(folders["compare"], "backlog", tmp_path, drawn)["backlog"]
    yards = [ax for ax in fig.axes if ax.get_title() == "Hữu Nghị: trucks in the yard"]
    assert len(yards) == 1
    bands = _band_tops(yards[0])
    assert len(bands) == 2  # base and policy
    for ax in fig.axes:
        for band in _band_tops(ax):
            assert band.min() >= 0, ax.get_title()
    policy_band = np.concatenate(bands)
    assert policy_band.max() <= 500  # the base's yard at Huu Nghi holds 500
    # the policy's small yard: its band reaches the capacity and not beyond, where the plain t-interval
    # of the same values does go beyond (so the clipping is what keeps it there)
    study = load_study(folders["compare"])
    run = study.runs[1]
    changes = backlog._replication_changes(run)
    _, values = backlog._series(run, changes, "huu_nghi", "in_yard", "all", False)
    _, _, raw_high = style.t_band(values)
    assert raw_high.max() > YARD
    assert bands[1].max() == pytest.approx(YARD)
    assert "clipped to 0 and the yard capacity" in caption
    assert "95% CI" in caption


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_fewer_than_five_replications_are_called_unreliable_with_a_number_to_run(
    folders: dict[str, Path], tmp_path: Path, drawn: dict
) -> None:
    figures = _draw(folders["compare"], "backlog", tmp_path, drawn) | _draw(
        folders["compare"], "headline", tmp_path, drawn
    )
    for name in ("backlog", "headline_clearance"):
        fig, _caption = figures[name]
        legend_text = " ".join(t.get_text() for lg in fig.legends for t in [*lg.get_texts(), lg.get_title()])
        assert "unreliable" in legend_text, name
        assert "10" in legend_text
    assert "unreliable" in figures["backlog"][1] and "--replications 10" in figures["backlog"][1]
    assert "unreliable" in figures["headline_clearance"][1]


def test_the_unreliable_note_depends_on_the_number_of_replications() -> None:
    from sim.present.plots import style

    assert "unreliable" in style.band_label(2) and "unreliable" in style.band_label(4)
    assert "unreliable" not in style.band_label(5)
    assert style.unreliable_text(1) == "" and style.unreliable_text(5) == ""
    assert "--replications 10" in style.unreliable_text(3)


# --------------------------------------------------------------------------------------------------
# headline: ticks, units, legend
# --------------------------------------------------------------------------------------------------
def _renderer(fig: Figure):
    """An Agg renderer of the figure, drawn (a closed figure's canvas is no longer Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _overlaps(fig: Figure, ax) -> list[tuple[str, str]]:
    renderer = _renderer(fig)
    labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    lo, hi = sorted(ax.get_xlim())
    labels = [t for t in labels if lo <= t.get_position()[0] <= hi]
    boxes = sorted(((t.get_window_extent(renderer), t.get_text()) for t in labels), key=lambda b: b[0].x0)
    return [(a[1], b[1]) for a, b in itertools.pairwise(boxes) if a[0].x1 > b[0].x0]


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_headline_tick_labels_do_not_overlap(folders: dict[str, Path], tmp_path: Path, drawn: dict) -> None:
    fig, _ = _draw(folders["compare"], "headline", tmp_path, drawn)["headline_clearance"]
    panels = [ax for ax in fig.axes if ax.get_xlabel().startswith("clearance time")]
    assert panels
    for ax in panels:
        assert len([t for t in ax.get_xticklabels() if t.get_text()]) >= 3
        assert _overlaps(fig, ax) == []


@pytest.mark.parametrize("limits", [(0.05, 400.0), (0.2, 1000.0), (1 / 12, 720.0), (2.0, 30.0)])
def test_log_hour_ticks_never_overlap_on_a_half_width_panel(limits: tuple[float, float]) -> None:
    import matplotlib.pyplot as plt

    from sim.present.plots import style

    fig, axes = style.figure(1, 2, 5.0)
    ax = axes[0, 0]
    ax.plot(limits, [0, 1])
    style.hours_axis(ax, log=True)
    ax.set_xlim(*limits)
    fig.canvas.draw()
    try:
        assert len([t for t in ax.get_xticklabels() if t.get_text()]) >= 2
        assert _overlaps(fig, ax) == []
    finally:
        plt.close(fig)


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_duration_and_its_interval_are_written_in_one_unit(
    folders: dict[str, Path], tmp_path: Path, drawn: dict
) -> None:
    from sim.present.plots import style

    assert style.hours_pm(33.5, 62.4) == "33.5 ± 62.4 h"
    assert style.hours_pm(74.0, 9.6) == "3.1 ± 0.4 d"
    assert style.hours_pm(0.5, 0.25) == "30 ± 15 min"
    fig, _ = _draw(folders["compare"], "headline", tmp_path, drawn)["headline_clearance"]
    texts = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert texts and all("±" in t for t in texts)
    for text in texts:
        assert not re.search(r"\b(min|h|d)\b[^·]*?±", text), text  # a unit before '±' means two units


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_legends_are_whole_and_inside_the_figure(
    folders: dict[str, Path], tmp_path: Path, drawn: dict
) -> None:
    figures = _draw(folders["compare"], "headline", tmp_path, drawn) | _draw(
        folders["compare"], "backlog", tmp_path, drawn
    )
    for name, (fig, _) in figures.items():
        renderer = _renderer(fig)
        box = fig.bbox
        for legend in fig.legends:
            extent = legend.get_window_extent(renderer)
            assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, name
            assert extent.y0 >= box.y0 - 1, name
            for text in legend.get_texts():
                assert "…" not in text.get_text() and "..." not in text.get_text(), name
    fig, _ = figures["headline_clearance"]
    legend = " ".join(" ".join(t.get_text().split()) for t in fig.legends[0].get_texts())
    assert "ZEBRA-CROSSING-AT-THE-END" in legend


# --------------------------------------------------------------------------------------------------
# numbers in words
# --------------------------------------------------------------------------------------------------
def test_counts_never_print_as_minus_zero() -> None:
    from sim.analysis.metrics import metric_info

    assert metric_info("spoiled_trucks").format(-0.33) == "0"
    assert metric_info("trucks_turned_back").format(-0.4) == "0"
    assert metric_info("mean_clearance_h").format(-0.001) == "0.00"
    assert metric_info("spoiled_trucks").format(-0.6) == "-1"
    assert metric_info("arrived").format(16927.6) == "16,928"


def _per_rep(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"replication": r, "gate": "all", "direction": "all", "metric": m, "value": v}
        for m, vs in values.items()
        for r, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_a_difference_identical_in_every_replication_is_not_called_significant() -> None:
    from sim.analysis.compare import comparison
    from sim.analysis.decision import Effect, MetricRef, change_of, classify, decide
    from sim.present.comparison_text import wide
    from sim.present.decision_text import decision_sentences, effect_sentence

    base = _per_rep({"spoiled_trucks": [3.0, 5.0], "mean_clearance_h": [10.0, 12.0]})
    policy = _per_rep({"spoiled_trucks": [2.0, 4.0], "mean_clearance_h": [8.0, 11.0]})
    comp = comparison({"base": base, "policy": policy}, "base")
    row = comp[(comp["scenario"] == "policy") & (comp["metric"] == "spoiled_trucks")].iloc[0]
    assert row["diff"] == -1 and row["diff_low"] == row["diff_high"] == -1  # zero width
    assert not bool(row["significant"])
    assert classify(row.to_dict(), -1, 0.0) is Effect.CONSTANT
    sentence = effect_sentence(change_of("policy", row.to_dict(), "spoiled_trucks", None))
    assert "the same in each of the 2 replications" in sentence and "interval -1 to -1" not in sentence
    _headers, rows, _marks = wide(comp, ["base", "policy"])
    cells = dict(zip([r[0] for r in rows], [r[-1] for r in rows], strict=True))
    assert cells["spoiled (trucks)"].startswith("-1 in every replication")
    assert not cells["spoiled (trucks)"].endswith("*")
    # a difference that varies keeps its interval and its verdict
    varied = comp[(comp["scenario"] == "policy") & (comp["metric"] == "mean_clearance_h")].iloc[0]
    assert varied["diff_half_width"] > 0
    decision = decide(comp, MetricRef("spoiled_trucks"))
    assert decision.ranking[-1].effect is Effect.CONSTANT or decision.ranking[0].effect is Effect.CONSTANT
    assert any("unreliable" in s and "--replications 10" in s for s in decision_sentences(decision))


def test_five_replications_are_not_called_unreliable() -> None:
    from sim.analysis.compare import comparison
    from sim.analysis.decision import MetricRef, decide
    from sim.present.decision_text import decision_sentences

    base = _per_rep({"mean_clearance_h": [10.0, 12.0, 11.0, 9.0, 13.0]})
    policy = _per_rep({"mean_clearance_h": [8.0, 11.0, 9.5, 8.0, 12.0]})
    decision = decide(comparison({"base": base, "policy": policy}, "base"), MetricRef("mean_clearance_h"))
    assert not any("unreliable" in s for s in decision_sentences(decision))
