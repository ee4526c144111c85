"""``bordersim list`` and ``summary`` on every kind of folder the store may hold, including the
history table kept with the repository and the optimise and sensitivity studies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from sim.cli import main


def _manifest(folder: Path, **fields) -> None:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(fields))


def test_a_committed_history_table_alone_is_not_listed_and_summary_says_what_it_is(tmp_path, capsys) -> None:
    root = tmp_path / "results"
    (root / "history-base").mkdir(parents=True)
    (root / "history-base" / "history.md").write_text("| figure | reported |\n")
    assert main(["list", "--results-root", str(root), "--format", "csv"]) == 0
    listed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert listed.empty
    assert main(["summary", str(root / "history-base")]) == 2
    assert "holds only history.md" in capsys.readouterr().err


def test_optimise_and_sensitivity_studies_are_listed_by_kind_with_whole_replications(
    tmp_path, capsys
) -> None:
    root = tmp_path / "results"
    block = {"scenario": "base_2021_calibrated", "scenario_files": ["a.yaml"]}  # as the studies record it
    done = "2026-12-04T09:02:47+00:00"
    _manifest(root / "base" / "optimise-x", kind="optimise", scenario=block, replications=4, finished=done)
    _manifest(root / "base" / "sensitivity-y", kind="sensitivity", scenario=block, replications=2)
    assert main(["list", "--results-root", str(root), "--format", "csv"]) == 0
    listed = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("kind")
    assert listed.loc["optimise", "state"] == "complete" and listed.loc["sensitivity", "state"] == "partial"
    assert set(listed["scenario"]) == {"base_2021_calibrated"}
    assert sorted(listed["replications"]) == [2, 4]
    assert main(["list", "--results-root", str(root), "--format", "json"]) == 0
    assert '"replications":4,' in capsys.readouterr().out.replace(" ", "")  # a whole number, not 4.0
    assert main(["summary", str(root / "base" / "optimise-x")]) == 2
    assert "evaluations.csv" in capsys.readouterr().err
