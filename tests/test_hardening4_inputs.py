"""Hardening, round 4 (issue 27), rows 4, 10, 12 and 13: user text stays text.

Row 4: every scenario key that becomes a name (a gate, a flow, a stage, a class, a resource) is a name, and
no spreadsheet cell is ever a live formula. Row 10: user text is printed as written, never read as rich
markup or emoji codes. Row 12: ``--set uncertain.<key>.low=5`` changes a range. Row 13: ``summary`` and
``report`` read every study's folder.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.errors import UserError
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS

MMC = SCENARIOS / "examples" / "mmc.yaml"
FORMULA = '=HYPERLINK("http://example.com","x")'


def _mmc() -> dict:
    return yaml.safe_load(MMC.read_text())


def _write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _rename(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


# ---- row 4: keys are names -------------------------------------------------------------------------
def _with_gate(data: dict, key: str) -> None:
    _rename(data["gates"], "gate", key)
    data["arrivals"]["trucks"]["gate"] = key


def _with_class(data: dict, key: str) -> None:
    _rename(data["truck_classes"], "truck", key)
    data["arrivals"]["trucks"]["truck_class"] = key


def _with_stream(data: dict, key: str) -> None:
    _rename(data["arrivals"], "trucks", key)


def _with_stage(data: dict, key: str) -> None:
    _rename(data["gates"]["gate"]["export"]["stages"], "service", key)


def _with_resource(data: dict, key: str) -> None:
    data["gates"]["gate"]["resources"] = {key: {"servers": 1}}


def _with_attribute(data: dict, key: str) -> None:
    data["truck_classes"]["truck"]["attributes"] = {key: True}


KEYED = {
    "gates": _with_gate,
    "truck_classes": _with_class,
    "arrivals": _with_stream,
    "gates.gate.export.stages": _with_stage,
    "gates.gate.resources": _with_resource,
    "truck_classes.truck.attributes": _with_attribute,
}


@pytest.mark.parametrize("where", list(KEYED))
@pytest.mark.parametrize("key", [FORMULA, "a.b", "[b]x", "a b", "", "+cmd", "x" * 101])
def test_a_key_that_becomes_a_name_must_be_a_name(tmp_path: Path, where: str, key: str) -> None:
    data = _mmc()
    KEYED[where](data, key)
    path = _write(tmp_path, data)
    with pytest.raises(UserError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert any(p.file == str(path) and p.path == f"{where}.{key}" for p in problems), problems
    assert any("letters, digits, '_' or '-'" in p.message for p in problems), problems


@pytest.mark.parametrize("key", ["huu_nghi", "Gate-2", "g7", "a" * 100])
def test_a_name_key_is_accepted(tmp_path: Path, key: str) -> None:
    data = _mmc()
    _with_gate(data, key)
    assert key in load_scenario(_write(tmp_path, data)).scenario.gates


def test_a_formula_gate_key_is_refused_on_the_command_line(tmp_path: Path, capsys) -> None:
    data = _mmc()
    _with_gate(data, FORMULA)
    path = _write(tmp_path, data)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert str(path) in err and f"gates.{FORMULA}" in err


def test_every_text_cell_of_the_workbook_is_text() -> None:
    openpyxl = pytest.importorskip("openpyxl", reason="the .xlsx download needs the 'app' extra")
    from sim.analysis.compare import comparison
    from sim.present.spreadsheet import workbook

    def per_rep(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {"replication": range(len(values)), "gate": FORMULA, "direction": "export",
             "metric": "mean_clearance_h", "value": values}
        )  # fmt: skip

    comp = comparison({"base": per_rep([10.0, 12.0, 11.0]), "=1+1": per_rep([8.0, 11.0, 9.0])}, "base")
    about = {"results folder": "@SUM(A1)", "scenario": "-2+3", "policy": "+cmd"}
    book = openpyxl.load_workbook(io.BytesIO(workbook(comp, about)))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert {FORMULA, "=1+1", "@SUM(A1)", "-2+3", "+cmd"} <= values  # written as they are, not quoted
    assert any(isinstance(c.value, float) for c in cells)  # numbers stay numbers


def test_a_pipe_in_a_markdown_cell_stays_in_its_cell() -> None:
    from sim.present.layout import Block

    block = Block("t", ["scenario", "mean"], [["a|b", "1"], ["c\nd", "2"]])
    lines = [line for line in block.markdown().splitlines() if line.startswith("|")]
    assert len(lines) == 4  # header, rule and two rows: the line break did not end a row
    assert all(line.replace("\\|", "").count("|") == 3 for line in lines), lines
    assert "a\\|b" in lines[2]


# ---- row 10: user text is printed as written ------------------------------------------------------
ODD = ":x: [b]bold[/b] [red]"


def _printed(capsys, args: list[str]) -> str:
    assert main(args) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return out.err


def test_a_yaml_value_is_quoted_as_written(tmp_path: Path, capsys) -> None:
    data = _mmc()
    data["run"]["start"] = ODD
    err = _printed(capsys, ["validate", str(_write(tmp_path, data))])
    assert ODD in err
    assert "\u274c" not in err  # the emoji rich makes of :x:


def test_a_state_cell_is_quoted_as_written(tmp_path: Path, capsys) -> None:
    (tmp_path / "state.csv").write_text(f"gate,direction,count\n{ODD},export,3\n")
    data = _mmc()
    data["run"]["start"] = "2021-06-01T00:00:00"
    data["run"]["initial_state"] = "state.csv"
    err = _printed(capsys, ["validate", str(_write(tmp_path, data))])
    assert ODD in err and "\u274c" not in err


def test_a_files_first_line_is_quoted_as_written(tmp_path: Path, capsys) -> None:
    (tmp_path / "state.csv").write_text(f"{ODD},direction,count\ngate,export,3\n")
    data = _mmc()
    data["run"]["start"] = "2021-06-01T00:00:00"
    data["run"]["initial_state"] = "state.csv"
    err = _printed(capsys, ["validate", str(_write(tmp_path, data))])
    assert ODD in err and "\u274c" not in err


def test_every_console_path_prints_text_as_written() -> None:
    """The message handler, plain lines and the tables, on a console that would read markup and emoji
    (as a test's or a notebook's console does): the text comes out as written."""
    import logging

    from rich.console import Console

    from sim.present import console as terminal_console
    from sim.present.layout import Block, emit

    record = logging.LogRecord("sim", logging.ERROR, __file__, 1, ODD, None, None)
    for console in (terminal_console.err_console, terminal_console.out_console):
        with console.capture() as captured:
            terminal_console._ConsoleHandler().emit(record)
            terminal_console.say(ODD)
        if console is terminal_console.err_console:
            assert f"error: {ODD}" in captured.get()
    reader = Console(width=200, markup=True, emoji=True, record=True)
    block = Block(ODD, [ODD, "n"], [[ODD, "1"]], caption=ODD, strong={(0, 0)})
    emit(pd.DataFrame(), [[block]], "table", reader)
    text = reader.export_text()
    assert text.count(ODD) == 4, text
    assert "\u274c" not in text


# ---- row 12: a range is overridden like any value -------------------------------------------------
def _uncertain(tmp_path: Path) -> Path:
    data = _mmc()
    data["uncertain"] = {
        "arrivals.trucks.rate": {"low": 2.0, "high": 3.0, "why": "a test range"},
        "gates.gate.export.stages.service.servers": {"low": 2, "high": 4, "why": "a test range"},
    }
    return _write(tmp_path, data)


def test_set_changes_one_bound_of_a_range(tmp_path: Path) -> None:
    path = _uncertain(tmp_path)
    s = load_scenario(path, ["uncertain.arrivals.trucks.rate.low=2.2"]).scenario
    assert s.uncertain["arrivals.trucks.rate"].low == 2.2
    assert s.uncertain["arrivals.trucks.rate"].high == 3.0
    assert s.uncertain["gates.gate.export.stages.service.servers"].low == 2
    s = load_scenario(path, ["uncertain.gates.gate.export.stages.service.servers.high=6"]).scenario
    assert s.uncertain["gates.gate.export.stages.service.servers"].high == 6
    whole = "uncertain.arrivals.trucks.rate={low: 1, high: 2, why: narrower}"
    assert load_scenario(path, [whole]).scenario.uncertain["arrivals.trucks.rate"].high == 2
    assert load_scenario(path, ["arrivals.trucks.rate=2.4"]).scenario.arrivals["trucks"].rate == 2.4


def test_a_bad_bound_from_set_names_the_range_and_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_scenario(_uncertain(tmp_path), ["uncertain.arrivals.trucks.rate.low=5"])
    (problem,) = caught.value.problems
    assert problem.path == "uncertain.arrivals.trucks.rate"
    assert "--set uncertain.arrivals.trucks.rate.low" in problem.file
    assert "low must be below high" in problem.message


def test_a_range_that_is_not_there_says_how_to_write_its_key(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_scenario(_uncertain(tmp_path), ["uncertain.arrivals.lorries.rate.low=5"])
    (problem,) = caught.value.problems
    assert "write one whole" in problem.message
    assert "--set uncertain.arrivals.trucks.rate.low=VALUE" in problem.message


# ---- row 13: summary and report read every study's folder -----------------------------------------
@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny finished uncertainty study and a tiny forecast of an M/M/3 queue."""
    tmp = tmp_path_factory.mktemp("studies")
    data = _mmc()
    data["run"].update(horizon=200, warmup=10, start="2021-06-01T00:00:00")
    data["uncertain"] = {"arrivals.trucks.rate": {"low": 2.0, "high": 2.6, "why": "a test range"}}
    scenario = _write(tmp, data)
    (tmp / "state.csv").write_text("gate,direction,count\ngate,export,5\n")
    common = ["--replications", "2", "--jobs", "1", "-q"]
    folders = {"uncertainty": tmp / "u", "forecast": tmp / "f"}
    uncertainty = ["uncertainty", str(scenario), "--samples", "3", *common]
    assert main([*uncertainty, "--out", str(folders["uncertainty"])]) == 0
    forecast = ["forecast", str(scenario), "--state", str(tmp / "state.csv"), "--start", "2021-06-01T00:00"]
    assert main([*forecast, "--days", "2", *common, "--out", str(folders["forecast"])]) == 0
    return folders


@pytest.mark.parametrize("kind", ["uncertainty", "forecast"])
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_summary_reads_every_studys_folder(studies: dict[str, Path], kind: str, capsys) -> None:
    capsys.readouterr()
    assert main(["summary", str(studies[kind]), "--format", "csv"]) == 0
    out = capsys.readouterr()
    table = pd.read_csv(io.StringIO(out.out))
    saved = pd.read_csv(studies[kind] / ("bands.csv" if kind == "uncertainty" else "forecast.csv"))
    assert len(table) == len(saved) and list(table.columns) == list(saved.columns)
    assert main(["summary", str(studies[kind])]) == 0
    assert "error" not in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["uncertainty", "forecast"])
@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_report_reads_every_studys_folder(studies: dict[str, Path], kind: str, capsys) -> None:
    capsys.readouterr()
    assert main(["report", str(studies[kind])]) == 0
    page = (studies[kind] / "report" / "index.html").read_text(encoding="utf-8")
    assert f"{kind.capitalize()} study" in page
    main_table = "bands.csv" if kind == "uncertainty" else "forecast.csv"
    assert main_table in page and "data:image/png;base64," in page
    said = capsys.readouterr()
    drawn = page.count("data:image/png;base64,")
    assert f"{drawn} figures in " in said.out + said.err  # it said "0 figures in -" for a forecast's fan


def test_an_unfinished_study_says_how_to_finish_it(studies: dict[str, Path], tmp_path: Path, capsys) -> None:
    import json
    import shutil

    folder = tmp_path / "u"
    shutil.copytree(studies["uncertainty"], folder)
    (folder / "bands.csv").unlink()
    assert main(["summary", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "an uncertainty study that is not finished" in err
    command = json.loads((folder / "manifest.json").read_text())["command"]
    assert f"running its command again: {command[0]}" in err


def test_the_article_fits_the_word() -> None:
    from sim.store.catalog import with_article

    assert with_article("uncertainty") == "an uncertainty"
    assert with_article("optimise") == "an optimise"
    assert with_article("sweep") == "a sweep" and with_article("forecast") == "a forecast"
