"""The scenario schema stays small modules by subject (issue 28): each file of sim/scenario/schema/ is
under 400 lines, and the package re-exports every public name of its modules, so that
``from sim.scenario.schema import X`` keeps working whichever module defines ``X``."""

from __future__ import annotations

import ast
import importlib

import pytest

from tests.conftest import ROOT

SCHEMA = ROOT / "sim" / "scenario" / "schema"
MAX_LINES = 400
MODULES = sorted(p for p in SCHEMA.glob("*.py") if p.name != "__init__.py")


def test_the_schema_is_a_package_of_several_modules() -> None:
    assert not (ROOT / "sim" / "scenario" / "schema.py").exists()
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", [*MODULES, SCHEMA / "__init__.py"], ids=lambda p: p.name)
def test_every_schema_module_is_under_400_lines(path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines < MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by subject"


def _defined(path) -> set[str]:
    """Public classes, functions and constants a module defines at its top level."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_package_re_exports_every_public_name(path) -> None:
    package = importlib.import_module("sim.scenario.schema")
    module = importlib.import_module(f"sim.scenario.schema.{path.stem}")
    names = _defined(path)
    assert names
    missing = sorted(n for n in names if n not in package.__all__)
    assert not missing, f"add {missing} to sim/scenario/schema/__init__.py"
    for name in names:
        assert getattr(package, name) is getattr(module, name)
