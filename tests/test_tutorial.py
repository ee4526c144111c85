"""docs/tutorial.ipynb runs end to end, in a kernel of this virtual environment's python, in seconds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

TUTORIAL = ROOT / "docs" / "tutorial.ipynb"
KERNEL = "bordersim-test-venv"


@pytest.fixture
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that starts this very python (not whatever 'python3' a machine has registered)."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}), encoding="utf-8"
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


@pytest.mark.slow  # seconds of subprocesses or a browser: run by .ci/run with -m slow
def test_tutorial_runs_end_to_end(venv_kernel: str, tmp_path: Path) -> None:
    nb = nbformat.read(TUTORIAL, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it without outputs"
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    NotebookClient(
        nb, kernel_name=venv_kernel, timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert nb.cells[-1].outputs[0]["text"].strip() == sys.executable
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("customs_14" in h and "Δ customs_14" in h for h in html)  # the comparison shows itself
    assert any(o["data"].get("image/png") for o in outputs if o.output_type == "execute_result")
