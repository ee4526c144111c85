"""Hardening round 4 (issue 27), the figures: every figure is drawn for any valid scenario, and tells the
truth about what it shows.

Row 5: a gate with one direction only (Tan Thanh exports only) left an empty panel whose ``set_xticks([])``
emptied the date locator every panel shares; the date formatter then failed on no ticks (an IndexError
from ``plot`` and ``report``). The family: a comparison where a policy adds a gate (a route, a rail line)
has panels of flows some scenarios lack, and a scenario without the flow must draw nothing there, not a
line at zero.

Row 7: the animated map's panels showed the caps the scenario sets before any dated change ("none",
"300/day") on every frame, not the caps in force that day (the winter replay's 65 and 35). The daily
throughput figure drew the same base caps as levels; both now read the caps in force day by day.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.figure import Figure

from sim.cli import main
from sim.present.plots import style
from tests.conftest import SCENARIOS
from tests.test_plots_report import FIGURES  # every figure the report draws

SHORT = ["--set", "run.horizon=96", "--set", "run.warmup=24", "--replications", "2", "--jobs", "1"]
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
    # dated caps (row 7): Huu Nghi's exports capped from 3 June, Tan Thanh's lowered then lifted
    spec["gates"]["huu_nghi"]["export"]["stages"]["china_side"]["changes"] = [
        {"from": "2021-06-03", "daily_cap": 65}
    ]
    tt = spec["gates"]["tan_thanh"]["export"]["stages"]["china_side"]
    tt["daily_cap"] = 300
    tt["changes"] = [{"from": "2021-06-03", "daily_cap": 35}, {"from": "2021-06-04", "daily_cap": "none"}]
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


@pytest.mark.slow  # the whole report twice (about 40 s on two busy cores); .ci/run runs it
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
        ax = _panel(drawn[name], "Tân Thanh, export")
        assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()], name


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
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


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_animate_draws_a_frame_of_a_one_direction_gate(folders: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "a.png"
    assert main(["animate", str(folders["run"]), "--frame", "2021-06-02", "--out", str(out)]) == 0
    out = tmp_path / "b.png"
    args = ["animate", str(folders["compare"]), "--scenario", "add_gate", "--frame", "2021-06-02"]
    assert main([*args, "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000


def test_each_frame_shows_the_caps_in_force_that_day(folders: dict[str, Path]) -> None:
    from sim.present.animate import MapFigure, frames
    from sim.store.reader import load_run

    run = load_run(folders["run"])
    by_day = {f.when.strftime("%m-%d"): f for f in frames(run)}
    assert by_day["06-02"].caps["huu_nghi"] == ["export cap: none", "import cap: none"]
    assert by_day["06-03"].caps["huu_nghi"] == ["export cap: 65/day (china_side)", "import cap: none"]
    assert [by_day[d].caps["tan_thanh"] for d in ("06-02", "06-03", "06-04")] == [
        ["export cap: 300/day (china_side)"],
        ["export cap: 35/day (china_side)"],
        ["export cap: none"],  # 'none' lifts the cap; a gate's panel lists only the directions it has
    ]
    figure = MapFigure(run, list(by_day.values()))
    try:
        for day, words in (("06-02", "export cap: none"), ("06-03", "export cap: 65/day")):
            figure.show(by_day[day])
            assert words in figure.titles["huu_nghi"].get_text()
    finally:
        figure.close()


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_daily_throughput_draws_the_caps_in_force_each_day(
    folders: dict[str, Path], drawn: dict[str, Figure], tmp_path: Path
) -> None:
    from sim.present.plots import plot

    plot(folders["run"], ["throughput"], out=tmp_path)
    fig = drawn["daily_trucks"]
    hn = _panel(fig, "Hữu Nghị, export")
    assert "no daily cap" not in hn.get_title()  # capped from 3 June
    steps = [line for line in hn.get_lines() if line.get_drawstyle() == "steps-mid"]
    assert len(steps) == 1
    y = np.asarray(steps[0].get_ydata(), dtype=float)
    assert np.isnan(y[:2]).all() and (y[2:] == 65).all()  # 1-2 June uncapped, then 65
    tt = _panel(fig, "Tân Thanh, export")
    (line,) = [line for line in tt.get_lines() if line.get_drawstyle() == "steps-mid"]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert list(y[:3]) == [300, 300, 35] and np.isnan(y[3])


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_forecast_fan_shows_the_spread_of_outcomes_and_says_so(
    tmp_path: Path, drawn: dict[str, Figure]
) -> None:
    """Row 15: the fan was the 95% interval of the mean over the replications under a title 'mean and
    95% interval'; a planner reads it as where the queue may be, and it is far narrower than that."""
    from scipy import stats

    from sim.present.plots.forecast import plot_forecast
    from sim.studies.forecast import forecast
    from sim.studies.options import StudyOptions

    state = tmp_path / "state.csv"
    state.write_text("gate,direction,count,waited_h\nhuu_nghi,export,400,24\n")
    result = forecast(
        SCENARIOS / "lang_son_minimal.yaml",
        StudyOptions(replications=2, jobs=1, root=tmp_path / "results", label="t"),
        state=state,
        start="2021-06-01T12:00",
        days=3,
        direction="export",
    )
    daily = result.daily[(result.daily["gate"] == "all") & (result.daily["direction"] == "export")]
    later = daily.sort_values("date").iloc[1:]  # day 0 is the state: no spread
    assert (later["half_width"] > 0).all()
    # with two replications x1, x2: p5 + p95 = x1 + x2 = 2 mean, and p95 - p5 = 0.9 |x2 - x1|; the
    # interval of the mean is the count's quasi-Poisson one, of width w = 2 sqrt(c m + c^2/4) with
    # c = t(0.975, 1)^2 s^2 / (2 m) and s = |x2 - x1| / sqrt(2): solved back for |x2 - x1|
    assert np.allclose(later["p5"] + later["p95"], 2 * later["mean"])
    m, half = later["mean"], (later["ci_high"] - later["ci_low"]) / 2
    c = 2 * (np.sqrt(m**2 + half**2) - m)
    gap = np.sqrt(c * 2 * m / stats.t.ppf(0.975, 1) ** 2) * np.sqrt(2)
    assert np.allclose(later["p95"] - later["p5"], 0.9 * gap)

    plot_forecast(result.folder, "export", out=tmp_path / "plots")
    fig = drawn["forecast_fan"]
    assert "5-95% of 2 replications" in fig.get_suptitle()
    assert "unreliable with so few" in fig.get_suptitle()  # 2 replications: said, as every figure does
    ax = next(ax for ax in fig.axes if ax.get_title(loc="left") == "Province")
    (band,) = ax.collections[:1]
    ys = band.get_paths()[0].vertices[:, 1]
    assert np.isclose(ys.max(), daily["p95"].max()) and np.isclose(ys.min(), max(daily["p5"].min(), 0.0))
