"""The one observations reader takes counts of any quantity (issue 30): what, a date with a time, an
error; bad rows are refused naming the file, line and column, and the studies that compare trucks
waiting refuse the other quantities instead of reading them as trucks waiting."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from sim.analysis.observed import WHATS, read_observed
from sim.errors import UserError
from sim.scenario import load_scenario
from tests.conftest import ROOT

TWIN = ROOT / "data" / "twins" / "mm1_twin.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(TWIN).scenario


def write(tmp_path, text: str):
    path = tmp_path / "obs.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_committed_example_reads_every_kind_of_row(scenario) -> None:
    rows = read_observed(ROOT / "data" / "twins" / "mm1_observed.csv", scenario, whats=WHATS)
    assert set(rows["what"]) == {"crossed", "waiting"}
    timed = rows[rows["date"].astype(str) == "2021-12-02"]
    assert datetime(2021, 12, 2, 8, 0) in set(timed["when"])  # the time in the date cell is its reading time
    assert datetime(2021, 12, 3, 0, 0) in set(timed["when"])  # a day count is known at the day's end
    relative = rows[rows["rel_error"].notna()]
    assert list(relative["rel_error"]) == [0.10]
    absolute = rows[rows["abs_error"].notna()]
    assert list(absolute["abs_error"]) == [2.0] and math.isnan(absolute["rel_error"].iloc[0])


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("2021-12-02,gate,export,arrived,5,", "what", "is not one of"),
        ("2021-12-02,gate,export,crossed,5,ten", "error", "is not an error"),
        ("2021-12-02,gate,export,crossed,5,-3%", "error", "is not an error"),
        ("2021-12-02T08:00,gate,export,crossed,5,", "date", "without a time"),
        ("2021-12-11,gate,export,crossed,5,", "date", "not a whole day inside the run"),
        ("2021-12-02T25:00,gate,export,waiting,5,", "date", "is not a date"),
        ("2021-12-02,gate,export,waiting,-1,", "value", "at least 0"),
    ],
)
def test_a_bad_row_is_refused_with_file_line_and_column(tmp_path, scenario, row, column, words) -> None:
    header = "date,gate,direction,what,value,error\n2021-12-01,gate,export,crossed,3,\n"
    path = write(tmp_path, f"{header}{row}\n")
    with pytest.raises(UserError) as err:
        read_observed(path, scenario, whats=WHATS)
    problem = err.value.problems[0]
    assert (problem.file, problem.path, problem.line) == (str(path), column, 3)
    assert words in problem.message


def test_studies_of_trucks_waiting_refuse_other_quantities(tmp_path, scenario) -> None:
    path = write(tmp_path, "date,gate,direction,what,value\n2021-12-02,gate,export,crossed,5\n")
    with pytest.raises(UserError, match="is not one of waiting"):
        read_observed(path, scenario)  # the default: trucks waiting only (validate-history, backlog)
    old = write(tmp_path, "date,gate,direction,value\n2021-12-02,gate,export,5\n")
    assert list(read_observed(old, scenario)["what"]) == ["waiting"]  # files without the column still read
