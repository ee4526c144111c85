"""Where a scenario value comes from: the comment written beside it in the scenario files.

The Lang Son scenarios cite a source (``# facts #1: HN goods clearance 7:00-18:00``) or say
``# assumption: ...`` on the line of almost every number. The resolved ``scenario.yaml`` of a run has the
values but not the comments, so a report that shows a parameter looks its source up here, in the files
of the scenario's ``extends`` chain (child first), as recorded in the manifest.

Read-only and forgiving: a file that is gone or unreadable gives no sources, never an error, because a
report of old results must still be written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

Key = tuple[str, ...]


@dataclass(frozen=True)
class Source:
    """A value's place in a scenario file and the comment on its line (empty if none)."""

    file: Path
    line: int
    comment: str

    def __str__(self) -> str:
        where = f"{self.file.name}:{self.line}"
        return f"{self.comment} ({where})" if self.comment else where


def line_comment(text: str) -> str:
    """The ``# comment`` at the end of a YAML line (a '#' inside quotes is not one)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[i + 1 :].strip()
    return ""


def header_comment(path: Path) -> str:
    """The comment block a scenario file opens with (what it is and where its numbers come from)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    out = []
    for line in lines:
        if not line.startswith("#"):
            break
        out.append(line[1:].strip() if len(line) > 1 else "")
    return "\n".join(out).strip()


def _walk(
    node: yaml.Node, prefix: Key, lines: list[str], out: dict[Key, tuple[int, str]], depth: int
) -> None:
    if not isinstance(node, yaml.MappingNode) or depth > 12:
        return
    merged: list[yaml.Node] = []
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            continue
        if k.value == "<<":  # a merge key: its mapping's keys count as this mapping's, unless overridden
            merged += v.value if isinstance(v, yaml.SequenceNode) else [v]
            continue
        key = (*prefix, str(k.value))
        k_line = k.start_mark.line
        comment = line_comment(lines[k_line]) if k_line < len(lines) else ""
        v_line = v.start_mark.line
        one_line = not isinstance(v, yaml.MappingNode | yaml.SequenceNode) or bool(v.flow_style)
        if not comment and v_line != k_line and v_line < len(lines) and one_line:
            comment = line_comment(lines[v_line])  # an alias: the anchor's line tells the source
        if not comment and isinstance(v, yaml.ScalarNode) and v_line < len(lines):
            comment = line_comment(lines[v_line])
        out.setdefault(key, (k_line + 1, comment))
        _walk(v, key, lines, out, depth + 1)
    for m in merged:
        _walk(m, prefix, lines, out, depth + 1)


@lru_cache(maxsize=64)
def file_sources(path: Path) -> dict[Key, tuple[int, str]]:
    """Every key path of a YAML file: the line it is set on and the comment there."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    out: dict[Key, tuple[int, str]] = {}
    if root is not None:
        _walk(root, (), text.splitlines(), out, 0)
    return out


def source_of(files: Sequence[Path], key: Key) -> Source | None:
    """Where ``key`` is set in the chain (child first): the first file that sets it, else the file setting
    the longest part of its path (a value inside an alias or a default). Its comment, or the nearest
    commented parent's."""
    best: tuple[int, Path, Key] | None = None
    for f in files:
        found = file_sources(Path(f))
        for n in range(len(key), 0, -1):
            if key[:n] in found:
                if best is None or n > best[0]:
                    best = (n, Path(f), key[:n])
                break
        if best is not None and best[0] == len(key):
            break
    if best is None:
        return None
    _, path, found_key = best
    found = file_sources(path)
    line, comment = found[found_key]
    for n in range(len(found_key) - 1, 0, -1):  # no comment on the line: the nearest commented parent
        if comment:
            break
        comment = found.get(found_key[:n], (0, ""))[1]
    return Source(path, line, comment)


# --------------------------------------------------------------------------------------------------
# the numbers a scenario assumes (for the sensitivity study)
# --------------------------------------------------------------------------------------------------
ASSUMPTION = re.compile(r"\bassumption\b", re.IGNORECASE)
RANGE = re.compile(r"\brange:?\s*\[?\s*(-?[\d.]+)\s*(?:-|to|\.\.|,)\s*(-?[\d.]+)\s*\]?", re.IGNORECASE)
NOT_MODEL = ("run", "uncertain")  # how we look (horizon, warm-up, seed) and the ranges drawn, not the world


@dataclass(frozen=True)
class Assumption:
    """A number (or a distribution's numbers) a scenario file marks ``# assumption:``.

    ``paths`` are every key path where the value is used (a YAML anchor used through aliases is one
    assumption used in several places); ``fields`` the numeric leaves under each path (``()`` for a
    plain number; ``("low",), ("mode",), ("high",)`` for a distribution written on one line); ``values``
    their values; ``range`` a [low, high] written beside it (``range 0.2-0.4``), if any."""

    file: Path
    line: int
    comment: str
    paths: tuple[Key, ...]
    fields: tuple[tuple[str, ...], ...]
    values: tuple[float, ...]
    range: tuple[float, float] | None = None

    @property
    def name(self) -> str:
        """The assumption's first dotted path (and how many more places share its number)."""
        first = ".".join(self.paths[0])
        return first if len(self.paths) == 1 else f"{first} (+{len(self.paths) - 1} more)"

    @property
    def is_integer(self) -> bool:
        """Whether the number counts whole things (servers, capacities), so varied values stay whole."""
        return all(float(v).is_integer() for v in self.values) and self.fields == ((),)


def _number(node: yaml.Node) -> float | None:
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    ):
        return None
    try:
        value = yaml.safe_load(node.value)
    except yaml.YAMLError:
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _assumed(node: yaml.Node, lines: list[str]) -> str:
    """The node's ``# assumption`` comment: on its own line (a scalar or a one-line mapping)."""
    line = node.start_mark.line
    if line >= len(lines):
        return ""
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
        return ""
    comment = line_comment(lines[line])
    return comment if ASSUMPTION.search(comment) else ""


def _leaves(node: yaml.Node) -> list[tuple[tuple[str, ...], float]]:
    value = _number(node)
    if value is not None:
        return [((), value)]
    if isinstance(node, yaml.MappingNode):
        out = []
        for k, v in node.value:
            number = _number(v)
            if isinstance(k, yaml.ScalarNode) and number is not None:
                out.append(((str(k.value),), number))
        return out
    return []


def file_assumptions(path: Path) -> list[Assumption]:
    """The ``# assumption`` numbers of one YAML file, in file order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        root = yaml.compose(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    lines = text.splitlines()
    found: dict[int, tuple[yaml.Node, str, list[Key]]] = {}

    def walk(node: yaml.Node, prefix: Key, depth: int) -> None:
        if not isinstance(node, yaml.MappingNode) or depth > 12:
            return
        merged = []
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                continue
            if k.value == "<<":
                merged += v.value if isinstance(v, yaml.SequenceNode) else [v]
                continue
            key = (*prefix, str(k.value))
            comment = _assumed(v, lines)
            if comment and key[0] not in NOT_MODEL and _leaves(v):
                entry = found.setdefault(id(v), (v, comment, []))
                if key not in entry[2]:
                    entry[2].append(key)
                continue  # a one-line mapping is one assumption, not one per number in it
            walk(v, key, depth + 1)
        for m in merged:
            walk(m, prefix, depth + 1)

    if root is not None:
        walk(root, (), 0)
    out = []
    for node, comment, paths in found.values():
        leaves = _leaves(node)
        match = RANGE.search(comment)
        rng = (float(match.group(1)), float(match.group(2))) if match and len(leaves) == 1 else None
        out.append(
            Assumption(
                Path(path),
                node.start_mark.line + 1,
                comment,
                tuple(paths),
                tuple(f for f, _ in leaves),
                tuple(v for _, v in leaves),
                rng,
            )
        )
    return sorted(out, key=lambda a: a.line)


def assumptions(files: Sequence[Path]) -> list[Assumption]:
    """The assumptions of a scenario's ``extends`` chain (child first): a value a child file sets again
    is the child's, so the parent's assumption about it no longer applies there."""
    out = []
    for k, f in enumerate(files):
        later = [set(file_sources(Path(c))) for c in files[:k]]
        for a in file_assumptions(Path(f)):
            paths = tuple(p for p in a.paths if not any(p in keys for keys in later))
            if paths:
                out.append(Assumption(a.file, a.line, a.comment, paths, a.fields, a.values, a.range))
    return out
