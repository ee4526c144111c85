"""The animated map's layout, read from the drawn Figure (Agg; extents from the renderer): gate names clear
of each other and of the border, closure notes beside the map (inside the figure, off the map and its
axes), every gate on the border as drawn, and one bar scale for every gate and frame, stated on the figure.

Two runs stand for the family: the four Lang Son gates (base_2021, a short window) and the minimal
scenario with its two gates moved to about 1.4 km apart (the names must still find room). Closure notes
are checked with the longest words a note can have, at every gate at once."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from matplotlib.path import Path as MplPath
from matplotlib.text import Text

from sim.cli import main
from tests.conftest import SCENARIOS

SHORT = ["--set", "run.horizon=48", "--set", "run.warmup=24", "--replications", "1", "--jobs", "1"]
CROWDED = [  # Tan Thanh moved to about 1.4 km south-south-east of Huu Nghi (21.977 N, 106.713 E)
    "--set", "gates.tan_thanh.location.lat=21.965", "--set", "gates.tan_thanh.location.lon=106.717",
]  # fmt: skip
NEAR_KM = 1.0  # a gate is on the drawn border when within this distance of the line
LONGEST_NOTE = "closed (china_side, customs); ban (export); stoppage in 24 of 24 replications"


@pytest.fixture(scope="module", params=["four_gates", "crowded"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from sim.store.reader import load_run

    out = tmp_path_factory.mktemp("layout") / "run"
    if request.param == "four_gates":
        args = ["run", str(SCENARIOS / "lang_son" / "base_2021.yaml"), *SHORT]
    else:
        args = ["run", str(SCENARIOS / "lang_son_minimal.yaml"), *SHORT, *CROWDED]
    assert main([*args, "--out", str(out)]) == 0
    return load_run(out)


@pytest.fixture()
def figure(run):
    from sim.present.animate import MapFigure, frames

    drawn = MapFigure(run, frames(run, "day"))
    drawn.show(drawn.frames[-1])
    drawn.fig.canvas.draw()
    yield drawn
    drawn.close()


def _border(figure) -> np.ndarray:
    """The border as drawn: the map's one dashed line, in data coordinates (lon, lat)."""
    dashed = [line for line in figure.map.get_lines() if line.get_linestyle() not in ("-", "None", "")]
    assert len(dashed) == 1, "the map draws one dashed line, the border"
    return np.column_stack(dashed[0].get_data()).astype(float)


def _crosses(line_px: np.ndarray, box) -> bool:
    inside = (box.x0 <= line_px[:, 0]) & (line_px[:, 0] <= box.x1)
    inside &= (box.y0 <= line_px[:, 1]) & (line_px[:, 1] <= box.y1)
    return MplPath(line_px).intersects_bbox(box, filled=False) or bool(inside.any())


def _map_names(figure, run) -> dict[str, Text]:
    """The gates' names on the map, found by their words (not by any id the code sets)."""
    names = {t.get_text(): t for t in figure.map.texts}
    found = {gate: names[run.gate_label(gate)] for gate in run.gates if run.gate_label(gate) in names}
    assert len(found) == len(run.gates)
    return found


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_gate_names_do_not_overlap_each_other_nor_cross_the_border(figure, run) -> None:
    renderer = figure.fig.canvas.get_renderer()
    names = _map_names(figure, run)
    boxes = {gate: text.get_window_extent(renderer) for gate, text in names.items()}
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert not box_a.overlaps(box_b), f"the names of {a} and {b} overlap"
    border_px = figure.map.transData.transform(_border(figure))
    for text in [*names.values(), *figure.map.texts]:  # the gates' names first, then the city's, ...
        if text.get_text():
            assert not _crosses(border_px, text.get_window_extent(renderer)), (
                f"the border runs through {text}"
            )
    map_box = figure.map.bbox
    for gate, box in boxes.items():  # inside the map
        assert (
            map_box.x0 <= box.x0 and box.x1 <= map_box.x1 and map_box.y0 <= box.y0 and box.y1 <= map_box.y1
        ), gate


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_every_gate_with_a_location_is_on_the_drawn_border(figure, run) -> None:
    border = _border(figure)
    lat0 = np.radians(np.mean(border[:, 1]))
    km = np.array([111.32 * np.cos(lat0), 110.57])  # km per degree of longitude and of latitude, here
    line = border * km
    located = [g for g, spec in run.gates.items() if spec.location is not None]
    assert located
    for gate in located:
        where = np.array([run.gates[gate].location.lon, run.gates[gate].location.lat]) * km
        a, b = line[:-1], line[1:]
        t = np.clip(np.einsum("ij,ij->i", where - a, b - a) / np.einsum("ij,ij->i", b - a, b - a), 0, 1)
        distance = np.min(np.linalg.norm(a + t[:, None] * (b - a) - where, axis=1))
        assert distance <= NEAR_KM, f"{gate} is {distance:.1f} km from the border drawn"


def test_closure_notes_sit_beside_the_map_inside_the_figure(figure, run) -> None:
    notes = {gate: LONGEST_NOTE for gate in run.gates}
    figure.show(dataclasses.replace(figure.frames[-1], closed=notes))
    figure.fig.canvas.draw()
    renderer = figure.fig.canvas.get_renderer()
    page = figure.fig.bbox
    map_box = figure.map.get_tightbbox(renderer)  # the map with its ticks and axis labels
    boxes = []
    for gate, text in figure.closed_text.items():
        assert " ".join(text.get_text().split()) == LONGEST_NOTE  # all the words, wrapped or not
        box = text.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, gate
        assert not box.overlaps(map_box), f"{gate}'s closure note is on the map"
        boxes.append(box)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), "two closure notes overlap"


def test_every_gates_bars_use_one_scale_for_the_whole_run(figure, run) -> None:
    panels = {bar.axes for bar in figure.bars.values()}
    assert len(panels) == len(run.gates)
    peak = max(v for f in figure.frames for v in f.counts.values() if np.isfinite(v))
    assert peak > 0
    scales, ends = set(), set()
    for frame in (figure.frames[0], figure.frames[-1]):
        figure.show(frame)
        figure.fig.canvas.draw()
        for ax in panels:  # pixels per truck, as drawn
            x0, x1 = ax.transData.transform([(0, 0), (100, 0)])[:, 0]
            scales.add(round((x1 - x0) / 100, 6))
            ends.add(ax.get_xlim()[1])
        for key, bar in figure.bars.items():
            value = frame.counts[key]
            if np.isfinite(value) and value > 0:
                assert bar.get_width() == pytest.approx(value)
    assert len(scales) == 1, f"the gates' bars are drawn at {len(scales)} scales"
    (end,) = ends
    assert end >= peak
    stated = [t.get_text() for t in figure.fig.texts if "one scale" in t.get_text()]
    assert len(stated) == 1 and f"{end:,.0f} trucks" in stated[0]
