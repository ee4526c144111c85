"""The Python API (``import sim``): light to import, on the same store as the command line, typed errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.errors import UserError
from tests.conftest import ROOT, SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"
SHORT = ["run.horizon=72", "run.warmup=12"]


def test_import_sim_stays_light() -> None:
    code = "import sys, sim; print(sorted(m for m in ('pandas', 'sim.api', 'simpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
    assert callable(sim.run) and callable(sim.compare) and callable(sim.sweep)  # loaded on first use
    with pytest.raises(AttributeError):
        sim.no_such_thing  # noqa: B018


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_api_and_command_line_share_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "results"
    base = sim.run(MINIMAL, replications=2, overrides=SHORT, jobs=2, root=root, label="api")
    assert base.folder == root / "lang_son_minimal" / "api" and base.replications == 2
    assert set(base.tables.table("trucks", ["gate"])["replication"]) == {0, 1}  # read from the store
    assert "<table" in base._repr_html_()
    # the command line's comparison reuses the replications the API made (same scenario, seed, code)
    args = ["compare", str(MINIMAL), str(MINIMAL), "--results-root", str(root), "--replications", "2"]
    assert main([*args, *(a for s in SHORT for a in ("--set", s)), "--jobs", "2", "--quiet"]) == 0
    manifest = json.loads(
        (root / "compare-lang_son_minimal-lang_son_minimal-2" / "manifest.json").read_text()
    )
    assert Path(manifest["scenarios"][0]["run_folder"]) == base.folder
    with pytest.raises(UserError, match=r"nowhere\.yaml"):
        sim.run(tmp_path / "nowhere.yaml", root=root)
