"""The command line end to end, and every bundled scenario validating and running a short horizon."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.scenario import load_scenario
from sim.store.tables import TABLES, read_table
from tests.conftest import ROOT, SCENARIOS, run

ALL_SCENARIOS = sorted(p.relative_to(SCENARIOS).as_posix() for p in SCENARIOS.rglob("*.yaml"))


@pytest.mark.parametrize("rel", ALL_SCENARIOS)
def test_every_bundled_scenario_validates_and_runs_briefly(rel: str) -> None:
    loaded = load_scenario(SCENARIOS / rel, ["run.horizon=48", "run.warmup=0"])
    tables = run(loaded.scenario, seed=1)
    assert len(tables.trucks) > 0
    assert (tables.trucks["status"] == "cleared").any()


def test_run_writes_parquet_tables_manifest_and_resolved_scenario(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(SCENARIOS / "lang_son_minimal.yaml"), "--set", "run.horizon=72", "--label", "t"])
    out = capsys.readouterr().out
    assert code == 0
    folder = in_tmp / "results" / "lang_son_minimal" / "t"
    for name in TABLES:
        assert (folder / name / "rep-0000.parquet").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    trucks = read_table(folder, "trucks")
    assert manifest["root_seed"] == 2021 and manifest["replications"] == 1
    assert manifest["trucks_simulated"] == len(trucks)
    assert manifest["versions"]["bordersim"]
    # the saved scenario is the resolved one and loads back to the same scenario
    saved = load_scenario(folder / "scenario.yaml").scenario
    assert saved == load_scenario(SCENARIOS / "lang_son_minimal.yaml", ["run.horizon=72"]).scenario
    assert "huu_nghi" in out and "cleared" in out
    # no temporary folder is left behind
    assert [p.name for p in folder.parent.iterdir()] == ["t"]


def test_replications_share_nothing_but_the_root_seed(in_tmp: Path) -> None:
    assert (
        main(
            [
                "run",
                str(SCENARIOS / "examples/mmc.yaml"),
                "--set",
                "run.horizon=200",
                "--set",
                "run.warmup=0",
                "--replications",
                "3",
                "--seed",
                "5",
                "--label",
                "r",
            ]
        )
        == 0
    )
    trucks = read_table(in_tmp / "results" / "mmc" / "r", "trucks")
    assert sorted(trucks["replication"].unique()) == [0, 1, 2]
    by_rep = [g["arrival"].to_numpy()[:5] for _, g in trucks.groupby("replication")]
    assert not (by_rep[0] == by_rep[1]).all()


def test_show_prints_the_resolved_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(SCENARIOS / "examples/mmc.yaml"), "--set", "run.seed=9"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["run"]["seed"] == 9 and data["run"]["replications"] == 1  # a default filled in


def test_existing_output_folder_is_refused(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "run",
        str(SCENARIOS / "examples/mmc.yaml"),
        "--set",
        "run.horizon=50",
        "--set",
        "run.warmup=0",
        "--label",
        "same",
    ]
    assert main(args) == 0
    before = pd.read_parquet(in_tmp / "results/mmc/same/trucks/rep-0000.parquet")
    assert main(args) == 2
    after = pd.read_parquet(in_tmp / "results/mmc/same/trucks/rep-0000.parquet")
    pd.testing.assert_frame_equal(before, after)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_python_dash_m_and_console_script_agree(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(SCENARIOS / "examples/mmc.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0 and "ok" in proc.stdout
    exe = Path(sys.executable).parent / "bordersim"
    if exe.exists():
        proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
        assert proc.returncode == 0 and "bordersim" in proc.stdout


def test_readme_quick_start_names_existing_files() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "scenarios/lang_son_minimal.yaml" in readme or "base_2021" in readme


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_compare_notes_a_policy_that_does_not_extend_the_base(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = in_tmp / "base.yaml"
    base.write_text((SCENARIOS / "examples/mmc.yaml").read_text())
    extending = in_tmp / "more.yaml"
    extending.write_text(
        "extends: base.yaml\nname: more\ngates: {gate: {export: {stages: {service: {servers: 4}}}}}\n"
    )
    stranger = in_tmp / "tandem.yaml"
    stranger.write_text((SCENARIOS / "examples/tandem.yaml").read_text())
    args = [
        "compare",
        str(base),
        str(extending),
        str(stranger),
        "--replications",
        "2",
        "--jobs",
        "1",
        "--set",
        "run.horizon=60",
        "--set",
        "run.warmup=0",
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "tandem does not extend base.yaml" in err
    assert "more does not extend" not in err
