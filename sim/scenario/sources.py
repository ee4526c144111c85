"""Where a scenario value comes from: the comment written beside it in the scenario files.

The Lang Son scenarios cite a source (``# facts #1: HN goods clearance 7:00-18:00``) or say
``# assumption: ...`` on the line of almost every number. The resolved ``scenario.yaml`` of a run has the
values but not the comments, so a report that shows a parameter looks its source up here, in the files
of the scenario's ``extends`` chain (child first), as recorded in the manifest.

Read-only and forgiving: a file that is gone or unreadable gives no sources, never an error, because a
report of old results must still be written.
"""

from __future__ import annotations

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
