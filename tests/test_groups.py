"""One name for the summed groups (issue 28, plain wiring): the literal "all" for a gate or direction group
lives in sim/groups.py only; everywhere else says ALL, so a renamed group cannot half-change."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# "all" that means every stage of a closure (the closures table's applies_to), not a gate or direction group
STAGES_ALL = {"sim/model/network.py", "sim/present/plots/backlog.py", "sim/present/animate.py"}


def literal_alls(path: Path) -> list[int]:
    """Lines where the string "all" is a value in the code (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    # pandas' own "all" (dropna(how="all")): a keyword of the library, not a group of the model
    pandas_how = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "how"
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value == "all"
        and id(node) not in docstrings | pandas_how
    ]


def test_the_group_name_is_written_once() -> None:
    found = {}
    for path in sorted((ROOT / "sim").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel != "sim/groups.py" and rel not in STAGES_ALL and (lines := literal_alls(path)):
            found[rel] = lines
    assert not found, f'"all" written as a literal instead of sim.groups.ALL: {found}'


def test_the_check_sees_a_literal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""Doc mentions "all"."""\nx = "all"\ny = f(how="all", gate="all")\n', encoding="utf-8")
    assert literal_alls(bad) == [2, 3]  # pandas' how="all" is left out, a gate="all" is not
