"""Inputs by readable names, not dotted keys (issue 29, row 16): the uncertainty drivers chart and the
tornado chart were labelled 'gates.huu_nghi.export.stages.china_side.changes.0.daily_cap'."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim.present.input_names import input_label, input_labels
from sim.present.plots import tornado as tornado_plots
from sim.present.plots import uncertainty as uncertainty_plots
from sim.store.layout import SCENARIO_FILE, sweep_point_folder
from sim.store.reader import study_gate_names
from tests.conftest import SCENARIOS

NAMES = {"huu_nghi": "Huu Nghi", "mong_cai": "Mong Cai (Quang Ninh)", "chi_ma": "Chi Ma"}
DOTTED = re.compile(r"[a-z_*\]]\.[a-z_*\[0-9]")  # a dotted key anywhere in a label
# keys of the winter replay's and its policies' 'uncertain:' sections
KEYS = [
    "gates.huu_nghi.export.stages.china_side.changes.0.from",
    "arrivals.huu_nghi_[!i]*.schedule.3.factor",
    "gates.huu_nghi.export.stages.china_side.changes.0.daily_cap",
    "gates.*.export.reneging.hazard.per_day",
    "gates.tan_thanh.export.stages.china_side.changes.1.service.mode",
    "arrivals.huu_nghi_fruit_*.schedule.7.from",
    "gates.huu_nghi.closures.2.end",
    "gates.chi_ma.random_closures.rate_per_day",
    "gates.huu_nghi.import.yard.capacity",
    "gates.*.export.upstream.periods.request.compliance",
    "gates.mong_cai.export.stages.china_side.daily_cap",
    "rail.export.wagons_per_day",
    "demand.scale",
]


@pytest.mark.parametrize(
    ("key", "label"),
    [
        (KEYS[2], "Huu Nghi export, China side: daily cap (change 1)"),
        (KEYS[0], "Huu Nghi export, China side: start (change 1)"),
        (KEYS[4], "Tan Thanh export, China side: service mode (change 2)"),  # no name given: title-cased
        (KEYS[10], "Mong Cai (Quang Ninh) export, China side: daily cap"),  # the scenario's own name
        (KEYS[3], "Every gate export: giving up hazard per day"),
        (KEYS[5], "Huu Nghi fruit arrivals: start (schedule step 8)"),
        (KEYS[1], "Huu Nghi arrivals: factor (schedule step 4)"),
        (KEYS[6], "Huu Nghi: end (closure 3)"),
        (KEYS[8], "Huu Nghi import: yard capacity"),
        (KEYS[9], "Every gate export: hold at origin compliance (period request)"),
        (KEYS[11], "Rail export: wagons per day"),
        (KEYS[12], "Demand scale"),
        (
            "gates.*.export.reneging.hazard.per_day (+2 more)",
            "Every gate export: giving up hazard per day (+2 more)",
        ),
    ],
)
def test_a_dotted_key_reads_as_words(key: str, label: str) -> None:
    assert input_label(key, NAMES) == label


def test_labels_of_different_keys_stay_different() -> None:
    labels = input_labels(KEYS, NAMES)
    assert len(set(labels)) == len(KEYS)
    assert not [t for t in labels if DOTTED.search(t)]


def test_keys_that_read_the_same_are_told_apart() -> None:
    twins = [
        "gates.huu_nghi.export.stages.china_side.daily_cap",
        "gates.huu_nghi.export.stages.china-side.daily_cap",
    ]
    labels = input_labels(twins, NAMES)
    assert len(set(labels)) == 2


def _tick_texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.get_yticklabels() if t.get_text()]


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_drivers_chart_names_its_inputs_in_words(tmp_path: Path, drawn_figures: list[Figure]) -> None:
    rows = [
        {"metric": m, "gate": "all", "direction": "export", "input": k, "spearman": (-1) ** i * 0.1 * (i % 9)}
        for m in ("mean_clearance_h", "cleared")
        for i, k in enumerate(KEYS)
    ]
    uncertainty_plots.drivers_figure(pd.DataFrame(rows), tmp_path, "test", 16, NAMES)
    (fig,) = drawn_figures
    texts = _tick_texts(fig)
    assert len([t for t in texts if ":" in t or t == "Demand scale"]) >= len(KEYS) - 1
    assert [t for t in texts if DOTTED.search(t)] == []
    assert "Huu Nghi export, China side: daily cap (change 1)" in texts


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_tornado_names_its_assumptions_in_words(tmp_path: Path, drawn_figures: list[Figure]) -> None:
    table = pd.DataFrame(
        {
            "assumption": [KEYS[2], f"{KEYS[3]} (+1 more)"],
            "file": ["winter_2021_22.yaml", "winter_2021_22.yaml"],
            "low_diff": [-1.0, -2.0],
            "high_diff": [1.0, 2.0],
            "low_half_width": [0.1, 0.1],
            "high_half_width": [0.1, 0.1],
        }
    )
    tornado_plots.tornado(table, "mean_clearance_h", "province", "oat", tmp_path, "test", NAMES)
    (fig,) = drawn_figures
    texts = _tick_texts(fig)
    assert [t for t in texts if DOTTED.search(t.split("  (")[0])] == []
    assert any(t.startswith("Every gate export: giving up hazard per day (+1 more)") for t in texts)


def test_a_study_folder_gives_the_gate_names_of_its_scenario(tmp_path: Path) -> None:
    point = sweep_point_folder(tmp_path, 0)
    point.mkdir(parents=True)
    assert study_gate_names(tmp_path) == {}  # nothing written yet: keys title-cased by the labels
    shutil.copy(SCENARIOS / "lang_son_minimal.yaml", point / SCENARIO_FILE)
    # as Vietnamese spells them (issue 29 row 17)
    assert study_gate_names(tmp_path) == {"huu_nghi": "Hữu Nghị", "tan_thanh": "Tân Thanh"}
