"""Load a scenario: read YAML (``safe_load`` only), apply ``extends`` and ``--set`` overrides, validate.

Policies are data: a policy file says ``extends: base.yaml`` and overrides a few keys. Mappings merge
key by key (the overriding file wins); any other value, lists included, is replaced whole.

Every failure becomes a :class:`~sim.errors.UserError` naming the file, the field path and, where the
YAML source gives it, the line.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import Problem, UserError
from sim.scenario.documents import (
    apply_override,
    deep_merge,
    read_text,
    read_yaml_mapping,
    shorten,
)
from sim.scenario.schema import DISTRIBUTION_FIELDS, DISTRIBUTION_TAGS, Scenario, reference_problems
from sim.scenario.state import resolve_state, state_problems, state_table


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (the files of its ``extends`` chain, child first)."""

    scenario: Scenario
    files: tuple[Path, ...]
    overrides: tuple[str, ...]

    @property
    def path(self) -> Path:
        """The file the user named (the child of the extends chain)."""
        return self.files[0]


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def default_name(path: Path) -> str:
    """The scenario name a file without ``name`` gets: its file name, made a safe folder name."""
    name = _SAFE_NAME.sub("_", path.stem).strip(".")
    return name or "scenario"


def _resolve_extends(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], tuple[Path, ...]]:
    with contextlib.suppress(OSError, ValueError):  # _read_yaml says what is wrong with such a path
        path = path.resolve() if path.exists() else path
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise UserError.single(str(path), "extends", f"'extends' goes round in a circle: {chain}")
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, (path,)
    if not isinstance(parent, str):
        raise UserError.single(str(path), "extends", "must be the path of a base scenario file")
    try:
        parent_path = (path.parent / parent).resolve()
        found = parent_path.exists()
    except (OSError, ValueError):
        parent_path, found = path.parent / parent, False
    if not found:
        raise UserError.single(str(path), "extends", f"base scenario '{parent}' not found ({parent_path})")
    base, files = _resolve_extends(parent_path, (*seen, path))
    return deep_merge(base, data), (path, *files)


def _yaml_line(path: Path, loc: Sequence[str | int]) -> int | None:
    """Line (1-based) of the deepest node along ``loc`` in one YAML file, or None if the file lacks it."""
    try:
        root = yaml.compose(read_text(path), Loader=yaml.SafeLoader)
    except (UserError, yaml.YAMLError, RecursionError):
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
        return shorten(msg, 300)
    if "input" in err and err["type"] not in ("model_type",) and not isinstance(err["input"], dict):
        return f"{shorten(msg, 300)} (got {shorten(err['input'])})"
    return shorten(msg, 300)


def _clean_loc(loc: Sequence[str | int], data: Any = None) -> list[str | int]:
    """Drop pydantic's internal parts of a location (function-wrapper names and union tags); a part that
    is a key of the document at that place (``data``) is the user's, kept even if it looks internal (a
    gate key ``[b]`` is refused by name, and the message must say which key)."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
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
    return scenario_from(path, data, files, overrides)


def read_document(path: str | Path) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """A scenario file's merged mapping (``extends:`` applied) and the files it came from: what
    :func:`scenario_from` validates. Reading the YAML is most of a load's time (seconds for the winter
    replay), so a study loading many variants of one file reads it once."""
    return _resolve_extends(Path(path))


def scenario_from(
    path: str | Path, data: dict[str, Any], files: tuple[Path, ...], overrides: Sequence[str] = ()
) -> LoadedScenario:
    """Override and validate a merged mapping of ``path`` (:func:`read_document`; changed in place: pass
    a copy), with every check :func:`load_scenario` makes."""
    path = Path(path)
    for assignment in overrides:
        apply_override(data, assignment)
    data.setdefault("name", default_name(path))
    resolve_state(data, files, overrides)  # run.initial_state: FILE becomes its checked rows
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"], data)
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
    state = state_problems(scenario)
    if state:
        raise UserError(state)
    if scenario.uncertain:
        from sim.scenario.uncertain import problems as uncertain_problems  # scipy.stats: only when needed

        found = uncertain_problems(scenario)
        if found:  # the key is one mapping key of 'uncertain', dots and all
            located = [(name, message, _locate(files, ["uncertain", name])) for name, message in found]
            raise UserError([Problem(f, f"uncertain.{n}", m, line) for n, m, (f, line) in located])
    return LoadedScenario(scenario, files, tuple(overrides))


STATE_SIDECAR = "initial_state.csv"  # a resolved scenario's starting state, beside it (resolved_files)


def resolved_files(loaded: LoadedScenario, scenario_file: str = "scenario.yaml") -> dict[str, str]:
    """The resolved scenario as files to save together: its YAML and, when it starts from a state, the
    state's rows as a CSV beside it (``run.initial_state: initial_state.csv``). A state of thousands of
    trucks inline would make the YAML larger than a scenario file may be; as a sidecar it reads back
    through the same checked reader as any state file."""
    state = loaded.scenario.run.initial_state
    if state is None or not state.groups or state.spread_days != 1.0:
        return {scenario_file: resolved_yaml(loaded)}
    return {
        scenario_file: resolved_yaml(loaded, state_file=STATE_SIDECAR),
        STATE_SIDECAR: state_table(state.groups).to_csv(index=False),
    }


def resolved_yaml(loaded: LoadedScenario, state_file: str | None = None) -> str:
    """The fully resolved scenario (extends applied, defaults filled) as YAML text; with ``state_file``,
    the starting state is named by that file instead of written out row by row."""
    data = loaded.scenario.model_dump(mode="json", by_alias=True)
    if state_file is not None and data.get("run", {}).get("initial_state") is not None:
        data["run"]["initial_state"] = state_file
    header = f"# resolved from: {', '.join(str(f) for f in loaded.files)}\n"
    if loaded.overrides:
        header += f"# overrides: {' '.join(loaded.overrides)}\n"
    derived = loaded.scenario.derived_arrivals
    if derived:
        header += "# arrival streams derived from 'demand' (trucks/day in the peak month):\n"
        for name, arr in derived.items():
            header += f"#   {name}: {arr.rate:.3f}\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
