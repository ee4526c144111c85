"""``plot`` and ``report`` read a sweep folder: response curves per grid axis and paired neighbour steps."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from sim.analysis.metrics import metric_info
from sim.cli import main
from sim.store.reader import load_study
from tests.conftest import SCENARIOS

MMC = str(SCENARIOS / "examples/mmc.yaml")


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_plot_and_report_accept_a_sweep_folder(tmp_path: Path) -> None:
    args = ["--set", "run.horizon=400", "--set", "run.warmup=40", "--replications", "3", "--jobs", "1"]
    grid = [
        "--grid",
        "gates.gate.export.stages.service.servers=3,4,5",
        "--grid",
        "arrivals.trucks.rate=2.0,2.5",
    ]
    root = ["--results-root", str(tmp_path / "r")]
    assert main(["sweep", MMC, *grid, *args, *root, "--label", "s"]) == 0
    folder = tmp_path / "r" / "mmc" / "sweep-s"
    study = load_study(folder)
    assert study.kind == "sweep" and study.sweep.axes == [
        "gates.gate.export.stages.service.servers",
        "arrivals.trucks.rate",
    ]
    assert main(["plot", str(folder)]) == 0
    for k in (0, 1):
        with Image.open(folder / "plots" / f"sweep_{k}.png") as im:
            assert im.size[0] == 1200
    assert main(["report", str(folder)]) == 0
    page = html.unescape((folder / "report" / "index.html").read_text(encoding="utf-8"))
    assert "Every grid point" in page
    summary = pd.read_csv(folder / "sweep_summary.csv")
    province = summary[(summary["gate"] == "all") & (summary["direction"] == "all")]
    shown = province[province["metric"] == "mean_clearance_h"]
    assert len(shown) == 6
    for mean in shown["mean"]:
        assert metric_info("mean_clearance_h").format(mean) in page
