"""The README's command table agrees with the command line (issue 28: the table is checked against what
the program accepts until a study registry generates both): every command has a row, and every option a
row names is one the command takes. The table is a summary (``--help`` lists every option), so an option
may be left out of it, never misspelt or kept after it is gone."""

from __future__ import annotations

import argparse
import re

import pytest

from sim.cli import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
TABLE = README[README.index("## Command line") : README.index("Every command that prints results")]
ROWS = re.findall(r"^\| `bordersim ([a-z-]+)([^`]*)`", TABLE, flags=re.M)


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_has_a_row_and_every_row_a_command() -> None:
    assert len(ROWS) > 15
    assert {name for name, _ in ROWS} == set(commands())


@pytest.mark.parametrize(("name", "usage"), ROWS, ids=[f"{n}{i}" for i, (n, _) in enumerate(ROWS)])
def test_every_option_of_a_row_is_one_the_command_takes(name: str, usage: str) -> None:
    taken = {o for action in commands()[name]._actions for o in action.option_strings}
    named = set(re.findall(r"--[a-z][a-z-]*", usage))
    assert named <= taken, f"bordersim {name}: the README names {sorted(named - taken)}, not taken"


def test_the_check_sees_a_misspelt_option() -> None:
    taken = {o for action in commands()["run"]._actions for o in action.option_strings}
    assert "--replications" in taken and "--replicatons" not in taken
