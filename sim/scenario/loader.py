"""Load a scenario: read YAML (``safe_load`` only), apply ``extends`` and ``--set`` overrides, validate.

Policies are data: a policy file says ``extends: base.yaml`` and overrides a few keys. Mappings merge
key by key (the overriding file wins); any other value, lists included, is replaced whole.

Every failure becomes a :class:`~sim.errors.UserError` naming the file, the field path and, where the
YAML source gives it, the line.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import Problem, UserError
from sim.scenario.schema import DISTRIBUTION_FIELDS, DISTRIBUTION_TAGS, Scenario, reference_problems


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (the files of its ``extends`` chain, child first)."""

    scenario: Scenario
    files: tuple[Path, ...]
    overrides: tuple[str, ...]

    @property
    def path(self) -> Path:
        return self.files[0]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError.single(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError.single(str(path), "", f"cannot read the file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        raise UserError.single(str(path), "", f"not valid YAML: {what}", line) from None
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


def _resolve_extends(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], tuple[Path, ...]]:
    path = path.resolve() if path.exists() else path
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise UserError.single(str(path), "extends", f"'extends' goes round in a circle: {chain}")
    data = _read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, (path,)
    if not isinstance(parent, str):
        raise UserError.single(str(path), "extends", "must be the path of a base scenario file")
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise UserError.single(str(path), "extends", f"base scenario '{parent}' not found ({parent_path})")
    base, files = _resolve_extends(parent_path, (*seen, path))
    return deep_merge(base, data), (path, *files)


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``dotted.key.path=value`` override in place; the value is read as YAML (``safe_load``)."""
    if "=" not in assignment:
        raise UserError.single(None, assignment, "an override must look like 'key.path=value'")
    key, _, raw = assignment.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise UserError.single(None, assignment, "an override needs a key path before '='")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise UserError.single(None, key, f"the value '{raw}' is not valid YAML ({exc})") from None
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part) if isinstance(node, dict) else None
        if not isinstance(nxt, dict):
            where = ".".join(parts[: i + 1])
            raise UserError.single(None, key, f"'{where}' is not a section of this scenario")
        node = nxt
    if value is None:  # as in a policy file: null removes the key, so the default applies
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def _yaml_line(path: Path, loc: Sequence[str | int]) -> int | None:
    """Line (1-based) of the deepest node along ``loc`` in one YAML file, or None if the file lacks it."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    node, line, found_any = root, None, False
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    line, node, found_any = k.start_mark.line + 1, v, True
                    break
            else:
                continue  # a pydantic union tag or a key this file does not set: look deeper
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line, found_any = node.start_mark.line + 1, True
    return line if found_any else None


def _locate(files: Iterable[Path], loc: Sequence[str | int]) -> tuple[str, int | None]:
    """The file of the chain that sets the field at ``loc`` (child first), and its line."""
    files = list(files)
    best: tuple[str, int | None] = (str(files[0]), None)
    for depth in range(len(loc), 0, -1):
        for f in files:
            line = _yaml_line(f, loc[:depth])
            if line is not None:
                return str(f), line
    return best


def _describe(err: dict[str, Any]) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see the README for the scenario format)"
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "union_tag_invalid":
        return f"{msg}"
    if err["type"] == "value_error":  # our own validators already say what they got
        return msg
    if "input" in err and err["type"] not in ("model_type",) and not isinstance(err["input"], dict):
        return f"{msg} (got {err['input']!r})"
    return msg


def _clean_loc(loc: Sequence[str | int]) -> list[str | int]:
    """Drop pydantic's internal parts of a location (function-wrapper names and union tags)."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (
            "[" in part or part.startswith("function-") or part.startswith("constrained-")
        ):
            continue
        if isinstance(part, str) and part in DISTRIBUTION_TAGS and out and out[-1] in DISTRIBUTION_FIELDS:
            continue  # pydantic's union tag after a distribution-valued field: not a key of the file
        out.append(part)
    return out


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Read, merge, override and validate a scenario file. Raises UserError on any problem."""
    path = Path(path)
    data, files = _resolve_extends(path)
    for assignment in overrides:
        apply_override(data, assignment)
    data.setdefault("name", path.stem)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            file, line = _locate(files, loc)
            dotted = ".".join(str(p) for p in loc)
            keys = [o.split("=", 1)[0].strip() for o in overrides]
            culprit = next((k for k in keys if k == dotted or k.startswith(dotted + ".")), None)
            if culprit is not None:  # the value came from the command line, not from the file's line
                file, line = f"{file} (with --set {culprit})", None
            problems.append(Problem(file, dotted, _describe(err), line))
        raise UserError(problems) from None
    refs = reference_problems(scenario)
    if refs:
        problems = []
        for dotted, message in refs:
            file, line = _locate(files, dotted.split("."))
            problems.append(Problem(file, dotted, message, line))
        raise UserError(problems)
    return LoadedScenario(scenario, files, tuple(overrides))


def resolved_yaml(loaded: LoadedScenario) -> str:
    """The fully resolved scenario (extends applied, defaults filled) as YAML text."""
    from sim.scenario.demand import derived_arrivals

    data = loaded.scenario.model_dump(mode="json", by_alias=True)
    header = f"# resolved from: {', '.join(str(f) for f in loaded.files)}\n"
    if loaded.overrides:
        header += f"# overrides: {' '.join(loaded.overrides)}\n"
    derived = derived_arrivals(loaded.scenario)
    if derived:
        header += "# arrival streams derived from 'demand' (trucks/day in the peak month):\n"
        for name, arr in derived.items():
            header += f"#   {name}: {arr.rate:.3f}\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
