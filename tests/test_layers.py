"""The package's layers import one way only (docs/architecture.md, section 2), read from the source of
every module.

cli / commands / api / app -> present -> studies -> runner -> store -> analysis -> model -> scenario, with
``sim.errors`` and ``sim.version`` usable by all; the package root forwards to the API, a face. A module
may import its own layer and the layers below it, never one above: the model never reads results, the
store never runs replications, the studies never print. Imports inside functions and ``TYPE_CHECKING``
blocks count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

SIM = ROOT / "sim"
RANK = {
    "sim": 8,  # the package root forwards to the API (a face); the version is sim.version
    "sim.errors": 0,
    "sim.version": 0,
    "sim.groups": 0,
    "sim.scenario": 1,
    "sim.model": 2,
    "sim.analysis": 3,
    "sim.store": 4,
    "sim.runner": 5,
    "sim.studies": 6,
    "sim.present": 7,
    "sim.commands": 8,
    "sim.cli": 8,
    "sim.api": 8,
    "sim.app": 8,
    "sim.__main__": 9,
}


# Stated exceptions (issue 28): module -> the modules above its layer it may import, and why.
EXCEPTIONS: dict[str, set[str]] = {
    # comparison.md is written into the study's folder by the study; its words are built in present only.
    # To go when the study registry renders it after the study (the study then writes data only).
    "sim.studies.compare": {
        "sim.present.comparison_text",
        "sim.present.comparison_text.markdown",
        "sim.present.decision_text",
        "sim.present.decision_text.as_markdown",
    },
    "sim.studies.calibrate": {"sim.present.fit_text", "sim.present.fit_text.scale_header"},
    "sim.studies.fit": {
        "sim.present.fit_text",
        "sim.present.fit_text.fit_markdown",
        "sim.present.fit_text.fit_header",
    },
    "sim.studies.history": {
        "sim.present.history_text",
        "sim.present.history_text.markdown_table",
        "sim.present.history_text.observed_markdown",
    },
    "sim.studies.forecast": {"sim.present.decision_text", "sim.present.decision_text.as_markdown"},
}


def layer(module: str) -> str:
    """The layer a dotted module name belongs to: its longest prefix in RANK."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in RANK:
            return prefix
    raise KeyError(module)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return [n for n in names if n == "sim" or n.startswith("sim.")]


MODULES = sorted(SIM.rglob("*.py"))


def test_every_module_belongs_to_a_layer() -> None:
    assert len(MODULES) > 30
    for path in MODULES:
        layer(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_go_down_the_layers_only(path: Path) -> None:
    me = layer(module_name(path))
    upward = []
    for name in imported(path):
        try:
            other = layer(name)
        except KeyError:  # 'from sim import cli' style names resolve through their package
            continue
        if RANK[other] > RANK[me] and name not in EXCEPTIONS.get(module_name(path), set()):
            upward.append(f"{name} ({other})")
    assert not upward, f"{module_name(path)} ({me}) imports a layer above it: {upward}"


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The checker itself can fail: a model module importing the store is flagged."""
    bad = tmp_path / "bad.py"
    bad.write_text("from sim.store.tables import read_table\n", encoding="utf-8")
    assert [layer(n) for n in imported(bad)] == ["sim.store", "sim.store"]
    assert RANK[layer("sim.store.tables")] > RANK[layer("sim.model.network")]


FACES = ("sim.commands", "sim.cli", "sim.api", "sim.app", "sim")
BEHIND_THE_STUDIES = ("sim.store", "sim.analysis", "sim.runner", "sim.model")
"""What a face may not import: it talks to the studies (the registry, the study modules, their readers
in ``sim.studies.folders``) and to ``sim.present``, never past them (issue 28)."""


def reached_past(path: Path) -> list[str]:
    return sorted({n for n in imported(path) if layer(n) in BEHIND_THE_STUDIES})


@pytest.mark.parametrize(
    "path", [p for p in MODULES if layer(module_name(p)) in FACES], ids=lambda p: module_name(p)
)
def test_faces_talk_to_the_studies_and_present_only(path: Path) -> None:
    assert not reached_past(path), f"{module_name(path)} reaches past the studies: {reached_past(path)}"


def test_the_face_check_catches_a_face_reading_the_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from sim.store.reader import load_study\n", encoding="utf-8")
    assert reached_past(bad) == ["sim.store.reader", "sim.store.reader.load_study"]
