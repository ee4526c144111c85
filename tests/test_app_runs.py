"""Issue 29 row 10: the page's saved policies and saved runs. The chips name each policy, the saved-runs
table shows what was tried and what it did first, a run of saved policies lists them and each one's
effect, and a what-if that changes no lever is refused (or compares the saved policies only), never run
as a duplicate of the base."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.compare import comparison
from sim.app import jobs
from sim.app.background import run_job
from sim.app.runs import COLUMNS, saved_runs
from sim.present.page_text import policy_labels
from tests.conftest import SCENARIOS

WINTER = "lang_son/policies_winter"
MMC_SHORT = ["run.horizon=300", "run.warmup=20"]


def test_policy_chips_show_the_policys_own_name() -> None:
    files = [f"{WINTER}/hold_upstream_jan.yaml", "lang_son/china_cap_90.yaml", "a/same.yaml", "b/same.yaml"]
    labels = policy_labels(files)
    assert labels[f"{WINTER}/hold_upstream_jan.yaml"] == "hold_upstream_jan"
    assert labels["lang_son/china_cap_90.yaml"] == "china_cap_90"
    assert labels["a/same.yaml"] != labels["b/same.yaml"]  # the folder tells two of one name apart
    assert all(label.startswith("same") for f, label in labels.items() if f.endswith("same.yaml"))


def _saved_policy_run(root: Path, what_if_changes: bool) -> Path:
    """A finished run of two saved policies (and the what-if's own, when it changed a lever)."""
    folder = root / "whatif-20261207-120000-winter"
    folder.mkdir(parents=True)
    policy = ""
    if what_if_changes:
        policy = str(folder / "winter.yaml")
        Path(policy).write_text("extends: x.yaml\nname: winter\nrun: {seed: 3}\n")
    others = [str(SCENARIOS / WINTER / f"{n}.yaml") for n in ("hold_upstream_jan", "rail_fruit")]
    spec = jobs.JobSpec(str(SCENARIOS / "lang_son/winter_2021_22.yaml"), policy, "winter", "winter", [], 3,
                        1, str(root), "", 0.0, others)  # fmt: skip
    jobs.write_spec(folder, spec)
    done = jobs.JobState(status=jobs.DONE, started=1_764_849_600.0, finished=1_764_849_700.0)
    jobs.write_state(folder, done)
    noise = np.array([0.1, -0.1, 0.0])
    rows = [
        {"replication": r, "gate": "all", "direction": "all", "metric": "mean_clearance_h", "value": v}
        for r, v in enumerate(10.0 + noise)
    ]
    base = pd.DataFrame(rows)
    per_rep = {"winter_2021_22": base, "hold_upstream_jan": base.assign(value=base["value"] - 2.0 + noise),
               "rail_fruit": base.assign(value=base["value"] - 1.0 - noise)}  # fmt: skip
    comparison(per_rep, "winter_2021_22").to_csv(folder / "comparison.csv", index=False)
    return folder


def test_a_run_of_saved_policies_lists_them_and_each_ones_effect(tmp_path: Path) -> None:
    _saved_policy_run(tmp_path, what_if_changes=False)
    row = saved_runs(tmp_path).iloc[0]
    assert row["levers changed"] == "saved policies hold_upstream_jan, rail_fruit"
    assert row["effect"].startswith("hold_upstream_jan: mean clearance time -2.00 h (95% interval")
    assert "; rail_fruit: mean clearance time -1.00 h (95% interval" in row["effect"]


def test_the_saved_runs_table_shows_what_was_tried_and_its_effect_first(tmp_path: Path) -> None:
    _saved_policy_run(tmp_path, what_if_changes=True)
    table = saved_runs(tmp_path)
    assert list(table.columns[:3]) == ["levers changed", "effect", "status"] == COLUMNS[:3]
    assert table.iloc[0]["levers changed"].endswith("; saved policies hold_upstream_jan, rail_fruit")


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_what_if_of_saved_policies_only_runs_no_copy_of_the_base(tmp_path: Path) -> None:
    base_file = SCENARIOS / "examples" / "mmc.yaml"
    saved = tmp_path / "four_servers.yaml"
    saved.write_text(f"extends: {base_file}\nname: four_servers\n"
                     "gates: {gate: {export: {stages: {service: {servers: 4}}}}}\n")  # fmt: skip
    folder = tmp_path / "results" / "whatif-saved-only"
    spec = jobs.JobSpec(str(base_file), "", "saved_only", "test", MMC_SHORT, 2, 7, str(tmp_path / "results"),
                        "", 0.0, [str(saved)])  # fmt: skip
    jobs.write_spec(folder, spec)
    assert jobs.policies(spec) == [str(saved)]
    assert run_job(folder) == 0
    comp = pd.read_csv(folder / "comparison.csv")
    assert list(dict.fromkeys(comp["scenario"])) == ["mmc", "four_servers"]  # no column of the base again


def test_the_page_refuses_a_what_if_that_changes_nothing(page) -> None:
    run = page.button(key="run")
    assert run.disabled
    assert any("No lever is changed: the what-if would be the base itself" in i.value for i in page.info)
    chips = page.multiselect(key="others")
    assert "hold_upstream_jan" in chips.options
    assert not any(o.startswith("lang_son/") for o in chips.options)
    chips.set_value([f"{WINTER}/hold_upstream_jan.yaml"]).run()
    assert not page.exception
    assert not page.button(key="run").disabled  # the saved policy against the base: a comparison to run
    assert any("compares the base with the 1 saved policy picked only" in i.value for i in page.info)
