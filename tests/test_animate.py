"""The animated map (``bordersim animate``): one frame per day of the run, each frame's numbers equal to
the backlog table's counts for that date (``sim.analysis.backlog.daily_interval``, what ``bordersim
backlog`` prints: computed here independently of the map's own reading), closures shown while they
last, gates at their scenario coordinates, and the files written (GIF by Pillow; MP4 by ffmpeg, or a
clear message and a GIF where ffmpeg is missing)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from sim.cli import main
from tests.conftest import SCENARIOS

MINIMAL = str(SCENARIOS / "lang_son_minimal.yaml")
DAYS = 5
CLOSED_POLICY = f"""extends: {MINIMAL}
name: closed_on_day_three
gates:
  tan_thanh:
    closures:
      - {{start: 2021-06-03, end: 2021-06-03, reason: a whole day}}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Five days of a policy with a scheduled closure on day three, 2 replications."""
    root = tmp_path_factory.mktemp("animate")
    (root / "closed.yaml").write_text(CLOSED_POLICY)
    args = ["run", str(root / "closed.yaml"), "--set", f"run.horizon={24 * DAYS}", "--set", "run.warmup=24"]
    assert main([*args, "--replications", "2", "--jobs", "2", "--out", str(root / "run")]) == 0
    yield root / "run"


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_one_frame_per_day_and_its_numbers_are_the_backlog_tables_counts(run_dir: Path) -> None:
    from sim.analysis.backlog import daily_interval
    from sim.present.animate import MapFigure, count_text, frames
    from sim.store.reader import load_run

    run = load_run(run_dir)
    all_frames = frames(run, "day")
    assert len(all_frames) == DAYS
    series = run.table("backlog_series")
    expected = {}
    for gate, direction in run.flows():
        for column in ("outside", "in_yard"):
            table = daily_interval(series, run.start, run.unit_hours, run.horizon, gate, direction, column)
            assert len(table) == DAYS
            expected[(gate, direction, column)] = table.set_index("date")["mean"]
    figure = MapFigure(run, all_frames)
    try:
        drawn_any = 0
        for frame in all_frames:
            figure.show(frame)
            texts = {t.get_gid(): t.get_text() for t in figure.fig.findobj(Text) if t.get_gid()}
            for (gate, direction, column), by_date in expected.items():
                want = count_text(float(by_date[frame.when.date()]))
                assert texts[f"{gate}|{direction}|{column}"] == want, (frame.when, gate, direction, column)
                drawn_any += want not in ("0", "-")
            assert texts["date"].startswith(frame.when.strftime("%a %d %b %Y"))
        assert drawn_any > 5  # the run has queues: the check is not all zeros
    finally:
        figure.close()


def test_closures_show_on_the_days_they_last_and_gates_sit_at_their_coordinates(run_dir: Path) -> None:
    from sim.present.animate import CLOSED, OPEN, MapFigure, frames
    from sim.store.reader import load_run

    run = load_run(run_dir)
    all_frames = frames(run, "day")
    figure = MapFigure(run, all_frames)
    try:
        for frame in all_frames:
            figure.show(frame)
            closed = figure.closed_text["tan_thanh"].get_text()
            colour = figure.markers["tan_thanh"].get_facecolor()[0]
            if frame.when.day == 3:
                assert closed.startswith("closed")
                assert np.allclose(colour[:3], _rgb(CLOSED))
            elif "stoppage" not in closed:
                assert closed == ""
                assert np.allclose(colour[:3], _rgb(OPEN))
        for gate, marker in figure.markers.items():
            lon, lat = marker.get_offsets()[0]
            location = run.gates[gate].location
            assert (lat, lon) == pytest.approx((location.lat, location.lon))
    finally:
        figure.close()


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(hex_colour)


def test_hour_by_hour_has_a_frame_each_hour(run_dir: Path) -> None:
    from sim.present.animate import frames
    from sim.store.reader import load_run

    assert len(frames(load_run(run_dir), "hour")) == 24 * DAYS + 1  # from 00:00 of day one to the horizon


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_command_writes_a_gif_with_a_frame_per_day(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "map.gif"
    assert main(["animate", str(run_dir), "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == DAYS


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_mp4_through_ffmpeg_or_a_gif_and_a_message_without_it(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "map.mp4"
    if shutil.which("ffmpeg"):
        assert main(["animate", str(run_dir), "--out", str(out)]) == 0
        assert out.stat().st_size > 1000 and out.read_bytes()[4:8] == b"ftyp"
    import sim.present.animate as animate

    monkeypatch.setattr(animate.shutil, "which", lambda _: None)
    other = tmp_path / "none.mp4"
    assert main(["animate", str(run_dir), "--out", str(other)]) == 0
    said = capsys.readouterr()
    assert "ffmpeg is not installed" in said.out + said.err
    assert not other.exists() and other.with_suffix(".gif").is_file()


def test_bad_requests_are_user_errors(run_dir: Path, tmp_path: Path) -> None:
    assert main(["animate", str(run_dir), "--out", str(tmp_path / "map.avi")]) == 2
    assert main(["animate", str(tmp_path / "nowhere")]) == 2
    assert not (tmp_path / "map.avi").exists()


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_report_embeds_the_map(run_dir: Path) -> None:
    import html
    import re

    from sim.present.report import build_report

    page, _ = build_report(run_dir)
    text = page.read_text(encoding="utf-8")
    found = re.findall(r'<img src="([^"]+\.gif)" alt="([^"]+)"', text)
    assert len(found) == 1
    src, alt = found[0]
    assert "Animated map" in html.unescape(alt)
    with Image.open(page.parent / src) as im:
        assert im.n_frames == DAYS


def test_one_frame_as_a_png(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "frame.png"
    assert main(["animate", str(run_dir), "--frame", "2021-06-03", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (1000, 760)
    assert main(["animate", str(run_dir), "--frame", "2021-07-01", "--out", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()


def test_an_existing_out_file_is_not_replaced_without_force(tmp_path: Path, capsys) -> None:
    from sim.cli import main

    out = tmp_path / "mine.gif"
    out.write_bytes(b"keep me")
    assert main(["animate", str(tmp_path / "no-run"), "--out", str(out)]) == 2
    assert out.read_bytes() == b"keep me" and "--force" in capsys.readouterr().err
