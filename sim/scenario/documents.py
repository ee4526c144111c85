"""A scenario document as data: reading a scenario file's YAML with the loader's limits (size, values
once aliases are expanded, depth, duplicate keys, dates that do not exist), merging documents and setting
dotted keys (``--set``). Shared by the loader, the starting state and the uncertain inputs, which import
it and not each other; every failure is a :class:`~sim.errors.UserError` naming the file and the field.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.errors import UserError
from sim.scenario.user_files import read_user_text

MAX_DOCUMENT_BYTES = 1_000_000  # the largest shipped scenario is 20 KB: a megabyte is no real scenario
MAX_NODES = 200_000  # values in a document with every alias expanded (a "billion laughs" is refused early)
MAX_DEPTH = 64  # nesting of mappings and lists; a scenario needs about ten
SHOWN_CHARACTERS = 80  # the most of an offending value an error message repeats
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def shorten(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """A value as text for an error message, cut to ``limit`` characters (never megabytes of it)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def read_text(path: Path) -> str:
    """The text of a scenario file: a regular file, at most MAX_DOCUMENT_BYTES, UTF-8."""
    return read_user_text(path, what="a scenario YAML file", max_bytes=MAX_DOCUMENT_BYTES, bom=False)


def _dotted(where: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in where)


def _check_unique_keys(node: yaml.MappingNode, file: str | None, where: str) -> None:
    """Refuse a key given twice in one mapping (``horizon:`` twice): YAML readers keep the last one
    silently, so the first value, the one a reader of the file may see, would not be the one run."""
    first: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        seen = first.setdefault((key.tag, key.value), line)
        if seen != line:
            field = shorten(".".join(p for p in (where, key.value) if p), 60)
            lines = f"lines {seen} and {line}" if file is not None else "twice"
            raise UserError.single(
                file,
                field,
                f"given twice in the same mapping ({lines}): YAML would silently keep the last one; "
                "keep one of them",
                line if file is not None else None,
            )


def _check_nodes(root: yaml.Node, loader: yaml.SafeLoader, file: str | None, prefix: str) -> None:
    """Refuse a document before building it: too many values once aliases are expanded, too deep (or
    an alias inside itself), or a date that does not exist. Bounded work: at most MAX_NODES visits."""
    stack: list[tuple[yaml.Node, tuple[str | int, ...], int]] = [(root, (), 0)]
    visits = 0
    checked: set[int] = set()
    while stack:
        node, where, depth = stack.pop()
        visits += 1
        line = node.start_mark.line + 1 if file is not None else None
        field = shorten(".".join(p for p in (prefix, _dotted(where)) if p), 60)
        if visits > MAX_NODES:
            raise UserError.single(
                file,
                field,
                f"the document expands to more than {MAX_NODES:,} values (aliases repeated inside "
                "aliases?): refused",
            )
        if depth > MAX_DEPTH:
            raise UserError.single(
                file, field, f"nested more than {MAX_DEPTH} levels deep (or an alias inside itself)", line
            )
        if isinstance(node, yaml.MappingNode):
            _check_unique_keys(node, file, ".".join(p for p in (prefix, _dotted(where)) if p))
            for key, value in node.value:
                label = shorten(key.value, 40) if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((key, where, depth + 1))
                stack.append((value, (*where, label), depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, (*where, i), depth + 1) for i, v in enumerate(node.value))
        elif node.tag == _TIMESTAMP and id(node) not in checked:
            checked.add(id(node))
            try:
                loader.construct_yaml_timestamp(node)
            except (ValueError, OverflowError) as exc:
                raise UserError.single(
                    file, field, f"'{shorten(node.value)}' is not a date and time that exists ({exc})", line
                ) from None


def parse_yaml(text: str, file: str | None = None, field: str = "") -> Any:
    """YAML text (``safe_load`` semantics) with limits on size, aliases, depth and dates; any problem
    is a UserError naming ``file`` (None: the command line) and, where known, the field and line."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise UserError.single(file, field, f"larger than {MAX_DOCUMENT_BYTES:,} characters: refused")
    try:
        loader = yaml.SafeLoader(text)  # its reader refuses control characters at once
    except yaml.YAMLError as exc:
        raise UserError.single(file, field, f"not valid YAML: {shorten(str(exc), 200)}") from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None and file is not None else None
            what = getattr(exc, "problem", None) or str(exc)
            raise UserError.single(file, field, f"not valid YAML: {shorten(what, 200)}", line) from None
        except RecursionError:
            raise UserError.single(file, field, "nested too deeply to read") from None
        if node is None:
            return None
        _check_nodes(node, loader, file, field)
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None and file is not None else None
            what = getattr(exc, "problem", None) or str(exc)
            raise UserError.single(file, field, f"not valid YAML: {shorten(what, 200)}", line) from None
        except (ValueError, OverflowError, TypeError, RecursionError) as exc:
            raise UserError.single(file, field, f"a value cannot be read: {shorten(str(exc), 200)}") from None
    finally:
        loader.dispose()


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A scenario file's YAML document, which must be a mapping (the loader's limits and checks)."""
    data = parse_yaml(read_text(path), str(path))
    if not isinstance(data, dict):
        raise UserError.single(
            str(path), "", f"a scenario must be a YAML mapping of keys to values, not {type(data).__name__}"
        )
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override``: mappings merge recursively, everything else is replaced.

    A ``null`` in the override removes the key, so the schema's default applies again: that is how a
    policy drops a stage (``disinfection: null``) or a cap (``daily_cap: null``).
    """
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _index(node: Any, part: str) -> int | None:
    """The list index ``part`` names in ``node``, or None (not a list, or no such element)."""
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return int(part)
    return None


def set_dotted(data: dict[str, Any], parts: Sequence[str | int], value: Any, *, create: bool = False) -> None:
    """Set ``data[parts[0]][parts[1]]...`` to ``value`` in place: the one dotted-key setter.

    Without ``create`` every section on the way must exist (an override changes a scenario, it does not
    invent sections: a typo is refused, naming the first missing section); with ``create`` missing
    sections are made (a new document, such as a calibrated file's body). A shared YAML alias is copied so
    only this key changes; ``None`` removes the key, as ``null`` does in a policy file."""
    key = ".".join(str(p) for p in parts)
    parts = _dotted_keys(data, parts)
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        index = part if isinstance(part, int) else _index(node, part)
        if isinstance(node, list) and index is not None and -len(node) <= index < len(node):
            nxt = node[index]  # a list element, by its index (demand.schedule.0.factor)
            part = index
        else:
            nxt = node.get(part) if isinstance(node, dict) else None
        if nxt is None and create and isinstance(node, dict):
            nxt = {}
        if not isinstance(nxt, dict | list):
            where = ".".join(str(p) for p in parts[: i + 1])
            message = f"'{shorten(where)}' is not a section of this scenario"
            if isinstance(node, dict) and any("." in str(k) for k in node):  # uncertain: or calibration.free:
                section = ".".join(str(p) for p in parts[:i])
                message += (
                    f"; the keys of '{section}' hold dots: write one whole, as the file does, e.g. --set "
                    f"{section}.{shorten(str(next(iter(node))), 60)}.low=VALUE ({len(node)} keys: see "
                    "`bordersim show`)"
                )
            raise UserError.single(None, shorten(key), message)
        # a YAML alias (*anchor) shares one node among several keys: copy it so only this key changes
        node[part] = nxt = copy.copy(nxt)
        node = nxt
    if isinstance(node, list):  # an element of a list, by its index
        last = parts[-1]
        index = last if isinstance(last, int) else _index(node, str(last))
        if index is None or value is None:
            where = shorten(".".join(str(p) for p in parts))
            raise UserError.single(None, shorten(key), f"'{where}' is not an element of this scenario's list")
        node[index] = value
    elif value is None:  # as in a policy file: null removes the key, so the default applies
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def _dotted_keys(data: Any, parts: Sequence[str | int]) -> list[str | int]:
    """``parts`` regrouped where a mapping's own key holds dots: ``uncertain`` maps dotted keys to ranges
    (``arrivals.hn_export.rate``), so ``uncertain.arrivals.hn_export.rate.low`` is the parts ``uncertain``,
    ``arrivals.hn_export.rate`` and ``low``. A part that is a key as it stands is taken as it stands; else the
    longest run of parts that together are a key of that mapping."""
    out: list[str | int] = []
    node: Any = data
    i = 0
    while i < len(parts):
        part, take = parts[i], 1
        if isinstance(node, dict) and part not in node:
            for n in range(len(parts) - i, 1, -1):
                joined = ".".join(str(p) for p in parts[i : i + n])
                if joined in node:
                    part, take = joined, n
                    break
        out.append(part)
        i += take
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and (index := _index(node, str(part))) is not None:
            node = node[index]
        else:
            node = None
    return out


def apply_override(data: dict[str, Any], assignment: str, *, create: bool = False) -> None:
    """Apply one ``dotted.key.path=value`` override in place; the value is read as YAML (``safe_load``,
    with the loader's limits), then set by :func:`set_dotted`."""
    if "=" not in assignment:
        raise UserError.single(None, shorten(assignment), "an override must look like 'key.path=value'")
    key, _, raw = assignment.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise UserError.single(None, shorten(assignment), "an override needs a key path before '='")
    set_dotted(data, parts, parse_yaml(raw, None, key.strip()), create=create)
