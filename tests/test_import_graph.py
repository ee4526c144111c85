"""The package's import graph (issue 28, plain wiring): no cycle between ``sim`` modules at module level,
and no private (underscore) name imported from another module. A cycle makes a module's meaning depend
on which side is imported first; a private name crossing modules is a contract nobody declared. Read
from the source; ``TYPE_CHECKING`` blocks and imports inside functions do not count for cycles (they
run after both modules exist), but they do for private names."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

SIM = ROOT / "sim"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run when the module is imported (into if/try/with, not into functions,
    classes' methods or TYPE_CHECKING blocks)."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If):
            if not _type_checking(node):
                out += _module_level(node.body) + _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            out += _module_level(node.body) + _module_level(node.orelse) + _module_level(node.finalbody)
            for handler in node.handlers:
                out += _module_level(handler.body)
        elif isinstance(node, ast.With):
            out += _module_level(node.body)
        else:
            out.append(node)
    return out


def _targets(node: ast.stmt, modules: dict[str, Path]) -> list[str]:
    """The sim modules an import statement loads (``from sim.x import y``: sim.x.y if it is a module)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = [f"{node.module}.{a.name}" for a in node.names]
        names = [n if n in modules else node.module for n in names]
    return [n for n in names if n in modules]


def graph(modules: dict[str, Path] = MODULES) -> dict[str, set[str]]:
    """Module -> the sim modules it imports at module level."""
    out: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out[name] = {t for node in _module_level(tree.body) for t in _targets(node, modules) if t != name}
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def private_imports(path: Path) -> list[str]:
    """``from sim.x import _name`` anywhere in the file (module level or inside a function)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
            out += [
                f"{node.module}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return out


def test_no_import_cycle_between_sim_modules() -> None:
    found = cycles(graph())
    assert not found, f"import cycles at module level: {found}"


def test_no_private_name_crosses_modules() -> None:
    found = {name: hits for name, path in MODULES.items() if (hits := private_imports(path))}
    assert not found, f"private names imported from another module: {found}"


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """A constructed pair importing each other is a cycle; a function-level import is not; an
    underscore name is caught wherever it is imported."""
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    a.write_text("from sim.b import x\n", encoding="utf-8")
    b.write_text("import sim.a\n", encoding="utf-8")
    c.write_text("def f():\n    from sim.a import _hidden\n", encoding="utf-8")
    edges = graph({"sim.a": a, "sim.b": b, "sim.c": c})
    assert cycles(edges) == [["sim.a", "sim.b"]]
    assert cycles({"sim.a": {"sim.b"}, "sim.b": set()}) == []
    assert private_imports(c) == ["sim.a._hidden"]
    assert "sim.a" not in edges["sim.c"]  # inside a function: runs after both modules exist
