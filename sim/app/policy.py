"""A what-if as a policy file: the edited levers written as YAML that ``extends`` the base, and checked.

The file is what a person would write by hand: ``extends:`` the base (a path relative to the file), a
name and description, and only the changed values, each with a comment that says it is a what-if and
what the base had and where that came from (the project's rule: every number cites its source or says
``# assumption:``). Validation goes through the same loader as the command line, so the page shows the
very messages ``bordersim compare`` would print.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sim.app.levers import CLOSURES, Lever, edits, policy_data, relative_extends
from sim.errors import Problem, UserError
from sim.scenario import LoadedScenario, load_scenario
from sim.studies.folders import write_text_atomic

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Draft:
    """A what-if ready to write: the base file, the policy's name and description, the edited values."""

    base_file: Path
    name: str
    description: str
    levers: Sequence[Lever]
    values: dict[tuple[str, ...], Any]

    def changes(self) -> list[tuple[Lever, Any]]:
        """The levers whose values differ from the base, with their new values."""
        return edits(self.levers, self.values)


def _flow(value: Any) -> str:
    """A value as one line of YAML (flow style), e.g. ``{windows: ['07:00-23:00']}``."""
    if value is None:
        return "null"
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _comment(lever: Lever) -> str:
    if lever.kind == CLOSURES:
        base = f"{len(lever.base)} closure(s)"
    else:
        base = "none" if lever.base in (None, []) else _flow(lever.base)
    return f"# assumption: what-if (base {base}; {lever.source})"


def _emit(tree: dict[str, Any], comments: dict[tuple[str, ...], str], path: tuple[str, ...], out: list[str]):
    indent = "  " * len(path)
    for key, value in tree.items():
        full = (*path, key)
        if full in comments:
            out.append(f"{indent}{key}: {_flow(value)}   {comments[full]}")
        else:
            out.append(f"{indent}{key}:")
            _emit(value, comments, full, out)


def policy_text(draft: Draft, policy_file: Path, rerun: str = "") -> str:
    """The policy YAML for ``draft``, to be written at ``policy_file`` (``extends`` is relative to it)."""
    changes = draft.changes()
    data = policy_data(draft.levers, draft.values)
    comments = {lever.key: _comment(lever) for lever, _ in changes}
    lines = [
        f"# What-if made on the bordersim page on {datetime.now():%Y-%m-%d %H:%M}: "
        f"{len(changes)} value(s) changed from {draft.base_file.name}.",
    ]
    if rerun:
        lines.append(f"# Rerun: {rerun}")
    lines += [
        f"extends: {relative_extends(policy_file, draft.base_file)}",
        f"name: {draft.name}",
        f"description: {_flow(draft.description or 'What-if from the bordersim page')}",
    ]
    _emit(data, comments, (), lines)
    return "\n".join(lines) + "\n"


def check_name(name: str) -> Problem | None:
    """A policy name becomes a file and folder name: letters, digits, '_' and '-' only."""
    if NAME.match(name):
        return None
    return Problem(
        None, "name", f"use letters, digits, '_' and '-' only, at most 64 characters (got {name!r})"
    )


def write_policy(draft: Draft, path: Path, overrides: Sequence[str] = (), rerun: str = "") -> LoadedScenario:
    """Write the policy file atomically, then load it as the command line would (UserError if wrong:
    the file is removed again, so nothing invalid is left behind)."""
    path = Path(path)
    problem = check_name(draft.name)
    if problem is not None:
        raise UserError([problem])
    write_text_atomic(path, policy_text(draft, path, rerun))
    try:
        return load_scenario(path, overrides)
    except UserError:
        path.unlink(missing_ok=True)
        raise


def validate(draft: Draft, scratch: Path, overrides: Sequence[str] = ()) -> list[Problem]:
    """The problems the command line would report for this what-if (none: it is valid)."""
    try:
        write_policy(
            draft,
            Path(scratch) / f"{draft.name if check_name(draft.name) is None else 'draft'}.yaml",
            overrides,
        )
    except UserError as exc:
        return exc.problems
    return []


def rerun_command(
    base_file: Path,
    policy_file: Path | None,
    overrides: Sequence[str],
    replications: int,
    seed: int,
    others: Sequence[str | Path] = (),
    swing: bool = False,
) -> str:
    """The command line that reruns a what-if (with ``others``: saved policies compared beside it; with
    ``swing``: each policy at the ends of its own assumptions' ranges too): the same comparison, the same
    numbers. ``policy_file`` None: no lever changed, the saved policies only."""
    sets = " ".join(f"--set {o}" for o in overrides)
    parts = [
        "bordersim compare",
        str(base_file),
        str(policy_file or ""),
        *map(str, others),
        sets,
        f"--replications {replications} --seed {seed}",
        "--swing" if swing else "",
    ]
    return " ".join(p for p in parts if p)
