"""Bad input: every class of user mistake gets one clear message naming the file, the field and what is
expected, exit code 2, no traceback, and no results folder."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import SCENARIOS

GOOD = (SCENARIOS / "examples" / "mmc.yaml").read_text()


def write(tmp: Path, text: str, name: str = "bad.yaml") -> Path:
    p = tmp / name
    p.write_text(textwrap.dedent(text))
    return p


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err + captured.out


CASES = {
    "unknown key": (GOOD.replace("servers: 3", "servers: 3\n          servres: 2"), "servres", "unknown key"),
    "wrong type": (GOOD.replace("servers: 3", "servers: three"), "servers", "whole number of servers"),
    "zero rate": (GOOD.replace("rate: 2.55", "rate: 0"), "arrivals.trucks.rate", "greater than 0"),
    "negative rate": (GOOD.replace("rate: 2.55", "rate: -1"), "arrivals.trucks.rate", "greater than 0"),
    "servers < 1": (GOOD.replace("servers: 3", "servers: 0"), "servers", "at least 1"),
    "missing resource": (
        GOOD.replace("servers: 3", "resource: desks"),
        "gates.gate.export.stages.service.resource",
        "does not define",
    ),
    "bad time of day": (
        GOOD.replace("servers: 3", "servers: 3\n          hours: '07:00-25:30'"),
        "hours",
        "not a time of day",
    ),
    "bad window": (
        GOOD.replace("servers: 3", "servers: 3\n          hours: 'seven to six'"),
        "hours",
        "HH:MM-HH:MM",
    ),
    "unknown distribution": (GOOD.replace("exponential", "exponentail"), "service", "exponentail"),
    "arrival names missing gate": (
        GOOD.replace("gate: gate", "gate: huu_nghi"),
        "arrivals.trucks.gate",
        "huu_nghi",
    ),
    "not YAML": ("run: [unclosed\n  horizon: 3\n", "", "not valid YAML"),
    "not a mapping": ("- just\n- a list\n", "", "must be a YAML mapping"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_scenario_is_one_clear_error(case: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, field, expected = CASES[case]
    path = write(in_tmp, text)
    code, out = run_cli(["run", str(path)], capsys)
    assert code == 2
    assert str(path) in out
    assert field in out
    assert expected in out
    assert "Traceback" not in out
    assert not (in_tmp / "results").exists()


def test_error_names_the_line(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("servers: 3", "servers: 0")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "servers: 0" in ln)
    code, out = run_cli(["validate", str(write(in_tmp, text))], capsys)
    assert code == 2 and f"line {line}" in out
    assert len(out.strip().splitlines()) == 1  # one problem, one message (not one per union member)


def test_unreadable_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["run", str(in_tmp / "nowhere.yaml")], capsys)
    assert code == 2 and "nowhere.yaml" in out and "not found" in out
    binary = in_tmp / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    code, out = run_cli(["run", str(binary)], capsys)
    assert code == 2 and "binary.yaml" in out and "Traceback" not in out
    assert not (in_tmp / "results").exists()


def test_error_in_a_policy_points_at_the_policy_file(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(in_tmp, GOOD, "base.yaml")
    policy = write(
        in_tmp,
        "extends: base.yaml\ngates:\n  gate:\n    export:\n      stages:\n"
        "        service:\n          servers: -2\n",
        "policy.yaml",
    )
    code, out = run_cli(["run", str(policy)], capsys)
    assert code == 2 and "policy.yaml, line 7" in out and "servers" in out


def test_extends_missing_base_and_cycles(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["run", str(write(in_tmp, "extends: nothere.yaml\n"))], capsys)
    assert code == 2 and "extends" in out and "nothere.yaml" in out
    write(in_tmp, "extends: b.yaml\n", "a.yaml")
    write(in_tmp, "extends: a.yaml\n", "b.yaml")
    code, out = run_cli(["run", str(in_tmp / "a.yaml")], capsys)
    assert code == 2 and "circle" in out


def test_bad_override_on_the_command_line(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(in_tmp, GOOD, "good.yaml")
    code, out = run_cli(["run", str(good), "--set", "gates.gate.export.stages.service.servers=0"], capsys)
    assert code == 2 and "--set gates.gate.export.stages.service.servers" in out
    code, out = run_cli(["run", str(good), "--set", "gates.nogate.export.servers=2"], capsys)
    assert code == 2 and "gates.nogate" in out
    code, out = run_cli(["run", str(good), "--set", "no_equals_sign"], capsys)
    assert code == 2 and "key.path=value" in out
    assert not (in_tmp / "results").exists()


def test_safe_load_only(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = write(in_tmp, GOOD + "\nextra: !!python/object/apply:os.system ['echo hacked']\n")
    code, out = run_cli(["run", str(evil)], capsys)
    assert code == 2 and "hacked" not in out.replace("echo hacked", "")


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_command_line_mistakes_exit_2_without_traceback(in_tmp: Path) -> None:
    good = write(in_tmp, GOOD, "good.yaml")
    for args in (["run", str(good), "--replications", "0"], ["run", str(good), "--seed", "-3"]):
        proc = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (in_tmp / "results").exists()
