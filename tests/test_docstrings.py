"""Every public module, class, function and method of the package says what it is for, in a docstring.

Walked with ast: a definition is public when neither it nor any enclosing class starts with '_';
``__init__`` and other dunders are exempt (the class's docstring speaks for them), as are a Protocol's
bodiless methods, whose class says what each does. A method that overrides a documented method of a base
class in the same module inherits its docstring, as ``inspect.getdoc`` does (each distribution's
``quantiles`` is the one ``Dist.quantiles`` describes).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

SIM = ROOT / "sim"
EXEMPT: tuple[str, ...] = ()  # every package, sim/model included (its docstring pass is done)


def missing(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    out = [] if ast.get_docstring(tree) else [f"{rel}: module"]

    documented = {  # class name -> its methods with a docstring
        c.name: {f.name for f in c.body if isinstance(f, ast.FunctionDef) and ast.get_docstring(f)}
        for c in ast.walk(tree)
        if isinstance(c, ast.ClassDef)
    }

    def inherited(cls: ast.AST, name: str) -> bool:
        bases = [b.id for b in getattr(cls, "bases", []) if isinstance(b, ast.Name)]
        return any(name in documented.get(b, set()) for b in bases)

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if child.name.startswith("_"):
                    continue
                if (
                    ast.get_docstring(child) is None
                    and not _is_overload(child)
                    and not inherited(node, child.name)
                ):
                    out.append(f"{rel}:{child.lineno} {prefix}{child.name}")
                if isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return out


def _is_overload(node: ast.AST) -> bool:
    body = getattr(node, "body", [])
    return len(body) == 1 and isinstance(body[0], ast.Expr) and getattr(body[0].value, "value", 0) is Ellipsis


def test_every_public_definition_has_a_docstring() -> None:
    files = [p for p in sorted(SIM.rglob("*.py")) if not any(p.is_relative_to(SIM / e) for e in EXEMPT)]
    gaps = [g for p in files for g in missing(p)]
    assert not gaps, f"{len(gaps)} public definitions without a docstring:\n" + "\n".join(gaps)


PROBE = """\"\"\"A module.\"\"\"


def shown():
    pass


class Base:
    \"\"\"A base.\"\"\"

    def said(self):
        \"\"\"Documented once.\"\"\"


class Child(Base):
    \"\"\"A child.\"\"\"

    def said(self):
        return 1

    def unsaid(self):
        return 2
"""


def test_the_check_finds_a_missing_docstring(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    assert [g.split(" ")[-1] for g in missing(probe)] == ["shown", "Child.unsaid"]
