"""``validate-history --observed``: the user's observations of trucks waiting beside the model's.

The observations here are synthetic, made from the simulation itself: the expected simulated value of
each row is rebuilt independently of the exact backlog series, from the per-truck table of the same
replications (a truck is waiting at time t if it arrived at or before t and left, crossed, turned back
or diverted, after t), and the expected interval from scipy's t quantile. Observations equal to those
means must give ratio 1, log ratio 0 and an RMS error of exactly 0; observations perturbed by known
factors must give those factors back. The repository ships no real backlog observations.

Every bad input is refused with the file, the line and the column named, exit 2, no traceback and
nothing written.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from scipy import stats

from sim.analysis.observed import parse_hour, read_observed
from sim.cli import main
from sim.errors import UserError
from sim.present import terminal
from sim.present.plots.backlog import _observed_points, _replication_changes, _series
from sim.scenario import load_scenario
from sim.store.reader import load_run
from tests.conftest import run, t_interval

SCENARIO = """
name: observed_check
run: {start: 2022-01-10T00:00:00, horizon: 96, seed: 7, replications: 4}
truck_classes:
  truck: {commodity: generic}
gates:
  a:
    name: Gate A
    yard: {capacity: 8}
    export:
      enters_yard_at: yard_stage
      stages:
        desk: {servers: 2, service: {dist: exponential, mean: 0.2}}
        yard_stage: {servers: 1, service: {dist: exponential, mean: 0.35}, hours: "07:00-18:00"}
    import:
      stages:
        first: {servers: 1, service: {dist: exponential, mean: 0.4}, hours: "08:00-17:00"}
  b:
    yard: {capacity: 5}
    export:
      stages:
        only: {servers: 1, service: {dist: exponential, mean: 0.4}, hours: "08:00-16:00"}
arrivals:
  exports: {gate: a, direction: export, truck_class: truck, rate: 3}
  imports: {gate: a, direction: import, truck_class: truck, rate: 1}
  b_exports: {gate: b, direction: export, truck_class: truck, rate: 0.9}
"""
REPS = 4  # means of whole numbers over 4 replications are exact in binary: ratios of exactly 1
SEED = 7
START = datetime(2022, 1, 10)
ROWS = [  # date, gate, direction
    ("2022-01-10", "a", "export"),
    ("2022-01-11", "a", "export"),
    ("2022-01-11", "a", "import"),
    ("2022-01-12", "b", "export"),
    ("2022-01-12", "all", "export"),
    ("2022-01-13", "all", "all"),
    ("2022-01-13", "a", "all"),
]


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("observed") / "observed_check.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results root the checks share, so the replications run once (each check still writes its own
    comparison, read right after it)."""
    return tmp_path_factory.mktemp("shared") / "results"


@pytest.fixture(scope="module")
def trucks(scenario_file: Path) -> list[pd.DataFrame]:
    """The per-truck tables of the replications the command runs (same root seed, same spawned seeds)."""
    s = load_scenario(scenario_file).scenario
    return [run(s, SEED, r).trucks for r in range(REPS)]


def waiting_by_truck_table(trucks: pd.DataFrame, gate: str, direction: str, when: datetime) -> int:
    """Trucks waiting at ``when``: arrived at or before it, not yet gone (from the truck table alone)."""
    t = (when - START).total_seconds() / 3600.0
    mine = trucks
    if gate != "all":
        mine = mine[mine["gate"] == gate]
    if direction != "all":
        mine = mine[mine["direction"] == direction]
    gone = mine["exit"].fillna(np.inf)
    return int(((mine["arrival"] <= t) & (t < gone)).sum())


def expected(trucks: list[pd.DataFrame], at_hour: float = 12.0) -> np.ndarray:
    """Replications x rows of the independent count."""
    return np.array(
        [
            [
                waiting_by_truck_table(tr, g, d, datetime.fromisoformat(day) + timedelta(hours=at_hour))
                for day, g, d in ROWS
            ]
            for tr in trucks
        ],
        dtype=float,
    )


def write_observations(path: Path, values: np.ndarray, rows=ROWS, extra: str = "") -> Path:
    lines = ["date,gate,direction,value" + extra]
    lines += [
        f"{day},{g},{d},{float(v)!r}" + ("," if extra else "")
        for (day, g, d), v in zip(rows, values, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def validate(scenario_file: Path, observed: Path, root: Path, *more: str) -> int:
    return main(
        [
            "validate-history",
            str(scenario_file),
            "--observed",
            str(observed),
            "--replications",
            str(REPS),
            "--jobs",
            "2",
            "--results-root",
            str(root),
            *more,
        ]
    )


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_observations_equal_to_the_simulated_means_give_ratio_one_and_no_error(
    scenario_file: Path,
    trucks: list[pd.DataFrame],
    shared_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    per_rep = expected(trucks)
    means = per_rep.mean(axis=0)
    assert (means > 0).all() and len(set(means)) > 3  # the rows are not all alike, nor empty
    observed = write_observations(tmp_path / "synthetic.csv", means)
    root = shared_root
    assert validate(scenario_file, observed, root, "--format", "json") == 0
    out = capsys.readouterr()
    rows = json.loads(out.out)
    assert [r["simulated"] for r in rows] == list(means)
    assert all(r["ratio"] == 1.0 and r["log_ratio"] == 0.0 and r["inside"] for r in rows)
    for r, x in zip(rows, per_rep.T, strict=True):
        _, half = t_interval(x, 0.95)
        assert r["ci95_half_width"] == pytest.approx(half, rel=1e-9)  # JSON keeps 10 digits
    assert "RMS of ln(simulated / observed) 0.000 over 7 observations; 7 of 7 inside" in out.err
    # written beside the manifest's record of what was compared, and the figure with the observed points
    folder = root / "history-observed_check"
    saved = pd.read_csv(folder / "observed.csv")
    assert saved["ratio"].eq(1.0).all() and len(saved) == len(ROWS)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["observed"]
    assert entry["error"]["rms_log_ratio"] == 0.0 and entry["error"]["inside"] == len(ROWS)
    assert entry["at_hour"] == 12.0 and entry["replications"] == REPS and entry["root_seed"] == SEED
    assert (
        "RMS" in (folder / "observed.md").read_text()
        or "root mean square" in (folder / "observed.md").read_text()
    )
    assert (folder / "plots" / "backlog.png").stat().st_size > 10_000
    # the figure's trucks-waiting line, drawn day by day at the reading hour, passes through the same values
    run_data = load_run(Path(entry["run_folder"]))
    run_data.replications = list(range(REPS))
    for (day, gate, direction), want in zip(ROWS, means, strict=True):
        x, values = _series(run_data, _replication_changes(run_data), gate, "waiting", direction, True, 12.0)
        k = list(x).index(np.datetime64(f"{day}T12:00"))
        assert values[:, k].mean() == want


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_perturbed_observations_give_back_the_known_error(
    scenario_file: Path,
    trucks: list[pd.DataFrame],
    shared_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    per_rep = expected(trucks)
    means = per_rep.mean(axis=0)
    shifts = np.array([0.5, -0.5, 1.0, 0.0, -1.0, 2.0, 0.1])  # observed = simulated x exp(shift)
    observed = write_observations(tmp_path / "perturbed.csv", means * np.exp(shifts))
    root = shared_root
    assert validate(scenario_file, observed, root, "--format", "csv") == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    np.testing.assert_allclose(table["log_ratio"], -shifts, atol=1e-12)
    np.testing.assert_allclose(table["ratio"], np.exp(-shifts), rtol=1e-12)
    manifest = json.loads((root / "history-observed_check" / "manifest.json").read_text())
    error = manifest["observed"]["error"]
    assert error["rms_log_ratio"] == pytest.approx(math.sqrt(np.mean(shifts**2)), rel=1e-12)
    assert error["geometric_mean_ratio"] == pytest.approx(math.exp(-shifts.mean()), rel=1e-12)
    inside = predicted = 0
    for x, obs in zip(per_rep.T, means * np.exp(shifts), strict=True):
        mean, half = t_interval(x, 0.95)
        inside += mean - half <= obs <= mean + half
        # one new day's value: mean +- t x sd x sqrt(1 + 1/n), the prediction interval
        spread = stats.t.ppf(0.975, REPS - 1) * x.std(ddof=1) * math.sqrt(1 + 1 / REPS)
        predicted += mean - spread <= obs <= mean + spread
    assert error["inside"] == inside and 0 < inside < len(ROWS)  # some in, some out: the count bites
    assert error["inside_prediction"] == predicted and inside < predicted < len(ROWS)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_hour_of_reading_and_a_gate_by_its_name(
    scenario_file: Path,
    trucks: list[pd.DataFrame],
    shared_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    per_rep = expected(trucks, at_hour=17.5)
    rows = [(day, "Gate A" if g == "a" else g, d) for day, g, d in ROWS]
    observed = write_observations(tmp_path / "evening.csv", per_rep.mean(axis=0), rows)
    assert validate(scenario_file, observed, shared_root, "--at", "17:30", "--format", "json") == 0
    got = json.loads(capsys.readouterr().out)
    assert [r["simulated"] for r in got] == list(per_rep.mean(axis=0))
    assert {r["gate"] for r in got} == {"a", "b", "all"}  # names read as the gate's key


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_second_check_reuses_the_replications(
    scenario_file: Path, trucks: list[pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    observed = write_observations(tmp_path / "o.csv", expected(trucks).mean(axis=0))
    root = tmp_path / "results"
    assert validate(scenario_file, observed, root) == 0
    runs = list((root / "observed_check").iterdir())
    stamp = {p: p.stat().st_mtime_ns for p in runs[0].glob("trucks/*")}
    assert validate(scenario_file, observed, root, "--format", "markdown") == 0
    assert list((root / "observed_check").iterdir()) == runs
    assert {p: p.stat().st_mtime_ns for p in runs[0].glob("trucks/*")} == stamp
    text = capsys.readouterr().out
    assert "RMS of ln(simulated / observed)" in text and "7 of 7" in text
    # the saved check is listed as complete and its summary prints again from its files
    assert main(["summary", str(root / "history-observed_check"), "--format", "csv"]) == 0
    again = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"source": str})
    saved = pd.read_csv(root / "history-observed_check" / "observed.csv", dtype={"source": str})
    pd.testing.assert_frame_equal(again, saved)
    assert main(["list", "--results-root", str(root), "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert {(e["kind"], e["state"]) for e in entries} == {("history", "complete"), ("run", "complete")}


def test_reading_accepts_blank_lines_a_bom_a_source_column_and_any_case(
    scenario_file: Path, tmp_path: Path
) -> None:
    s = load_scenario(scenario_file).scenario
    path = tmp_path / "o.csv"
    text = (
        "\ufeffDate, Gate ,direction,value,source\n\n"
        "2022-01-11,gate a,EXPORT,12,a count\n2022-01-12,b,export,0,\n"
    )
    path.write_text(text, encoding="utf-8")
    table = read_observed(path, s)
    assert list(table["gate"]) == ["a", "b"]
    assert list(table["direction"]) == ["export", "export"]
    assert list(table["value"]) == [12.0, 0.0]
    assert list(table["line"]) == [3, 4]
    assert list(table["date"]) == [date(2022, 1, 11), date(2022, 1, 12)]
    assert list(table["source"]) == ["a count", ""]


def test_observed_points_are_drawn_at_the_reading_time() -> None:
    observed = pd.DataFrame(
        {
            "date": [date(2022, 1, 11), date(2022, 1, 12)],
            "gate": ["a", "a"],
            "direction": ["export", "all"],
            "value": [5.0, 6.0],
        }
    )
    x, y = _observed_points(observed, "a", "export", 17.5)
    assert list(y) == [5.0] and x[0] == np.datetime64("2022-01-11T17:30")
    x, y = _observed_points(observed, "a", "all")
    assert list(y) == [6.0] and x[0] == np.datetime64("2022-01-12T12:00")


@pytest.mark.parametrize(
    ("content", "line", "column", "words"),
    [
        ("", None, "", "empty file"),
        ("\n\n", None, "", "empty file"),
        ("date,gate,direction,value\n", 1, "", "no observations"),
        ("date,gate,value\n2022-01-11,a,3\n", 1, "direction", "missing column"),
        ("date,gate,direction,value\n2022-01-11,c,export,3\n", 2, "gate", "unknown gate 'c'"),
        ("date,gate,direction,value\n2022-01-11,a,both,3\n", 2, "direction", "'both' is not export"),
        ("date,gate,direction,value\n2022-01-11,b,import,3\n", 2, "direction", "gate b has no import"),
        ("date,gate,direction,value\n2022-01-20,a,export,3\n", 2, "date", "outside the run"),
        ("date,gate,direction,value\n2022-01-09,a,export,3\n", 2, "date", "outside the run"),
        ("date,gate,direction,value\n\n11/01/2022,a,export,3\n", 3, "date", "not a date"),
        ("date,gate,direction,value\n2022-02-30,a,export,3\n", 2, "date", "not a date"),
        ("date,gate,direction,value\n2022-01-11,a,export,-3\n", 2, "value", "at least 0"),
        ("date,gate,direction,value\n2022-01-11,a,export,many\n", 2, "value", "'many' is not a number"),
        ("date,gate,direction,value\n2022-01-11,a,export,1 200\n", 2, "value", "not a number"),
        ("date,gate,direction,value\n2022-01-11,a,export,nan\n", 2, "value", "at least 0"),
        ("date,gate,direction,value\n2022-01-11,a,export,inf\n", 2, "value", "at least 0"),
        ("date,gate,direction,value\n2022-01-11,a,export\n", 2, "", "has 3 cells"),
        ("date,gate,direction,value,value\n2022-01-11,a,export,3,4\n", 1, "value", "twice"),
    ],
)
def test_bad_observations_are_refused_naming_file_line_and_column(
    scenario_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    line: int | None,
    column: str,
    words: str,
) -> None:
    path = tmp_path / "observations.csv"
    path.write_text(content)
    root = tmp_path / "results"
    assert validate(scenario_file, path, root) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and words in err
    first = err.splitlines()[0]
    assert str(path) in first
    if line is not None:
        assert f"line {line}:" in first
    if column:
        assert f"field '{column}'" in first
    assert not root.exists()  # nothing run, nothing written


def test_every_bad_row_is_listed_at_once(scenario_file: Path, tmp_path: Path) -> None:
    s = load_scenario(scenario_file).scenario
    path = tmp_path / "o.csv"
    path.write_text("date,gate,direction,value\n2022-01-11,c,export,3\n2022-01-11,a,export,-1\n")
    with pytest.raises(UserError) as info:
        read_observed(path, s)
    assert [(p.line, p.path) for p in info.value.problems] == [(2, "gate"), (3, "value")]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--winter", "x.yaml"], "--winter"),
        (["--reported", "x.yaml"], "--reported"),
        (["--at", "25:00"], "--at"),
        (["--at", "noon"], "--at"),
        (["--replications", "1"], "--replications"),
    ],
)
def test_bad_options_with_observed(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], option: str
) -> None:
    path = write_observations(tmp_path / "o.csv", np.ones(len(ROWS)))
    root = tmp_path / "results"
    code = main(
        ["validate-history", str(scenario_file), "--observed", str(path), "--results-root", str(root), *args]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"field '{option}'" in err and "Traceback" not in err
    assert not root.exists()


def test_missing_and_special_files(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "results"
    assert validate(scenario_file, tmp_path / "nowhere.csv", root) == 2
    assert "nowhere.csv: file not found" in capsys.readouterr().err
    assert validate(scenario_file, tmp_path, root) == 2
    assert "a folder, not a file" in capsys.readouterr().err
    (tmp_path / "latin1.csv").write_bytes(
        "date,gate,direction,value\n2022-01-11,a,export,3 \xe9\n".encode("latin-1")
    )
    assert validate(scenario_file, tmp_path / "latin1.csv", root) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert not root.exists()


def test_parse_hour() -> None:
    assert parse_hour("12:00") == 12.0 and parse_hour("7") == 7.0 and parse_hour("17:30") == 17.5
    for bad in ("24:00", "12:60", "noon", "", "-1"):
        with pytest.raises(UserError):
            parse_hour(bad)


def test_the_table_fits_80_columns_with_every_number_whole() -> None:
    table = pd.DataFrame(
        {
            "date": ["2021-06-07", "2021-06-14"],
            "gate": ["huu_nghi", "all"],
            "direction": ["export", "all"],
            "observed": [60.0, 1234.0],
            "simulated": [17.25, 1175.5],
            "ci95_half_width": [9.129, 22.44],
            "ratio": [0.2875, 0.9526],
            "inside": [False, False],
            "inside_prediction": [False, True],
        }
    )
    error = {
        "observations": 2,
        "compared": 2,
        "rms_log_ratio": 0.8829,
        "geometric_mean_ratio": 0.5233,
        "inside": 0,
        "inside_prediction": 1,
        "replications": 4,
    }
    console = Console(width=80, record=True, file=io.StringIO())
    terminal.print_observed(table, error, "lang_son_minimal: trucks waiting at 12:00", console=console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for number in ("17.25 ± 9.129", "1,176 ± 22.44", "1,234", "0.29", "0.95", "0.883", "0.523", "1 of 2"):
        assert number in text


VALID = 8  # valid cells are drawn about 8 times as often as each kind of mistake
ROW = st.tuples(
    st.sampled_from(["2022-01-10", "2022-01-11", "2022-01-13"] * VALID + ["2022-01-14", "11/01/2022", ""]),
    st.sampled_from(["a", "all", "Gate A", " a "] * VALID + ["b", "c", ""]),
    st.sampled_from(["export", "all", "EXPORT"] * VALID + ["import", "both", ""]),
    st.one_of(
        *[st.sampled_from(["0", "3.5", "12", "1e3"] * VALID + ["-1", "nan", "-inf", "1e400", "x", ""])] * 4,
        st.text(max_size=5),
    ),
).map(",".join)
LINES = st.lists(st.one_of(*[ROW] * VALID, st.text(max_size=20)), max_size=6)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.sampled_from(
        ["date,gate,direction,value", "date,gate,value", "", "value,direction,gate,date,x"]
    ),
    lines=LINES,
)
def test_any_text_is_read_or_refused_with_a_message(header: str, lines: list[str]) -> None:
    """Whatever the file holds, reading it ends in checked observations or a UserError, never another
    exception; accepted rows obey every rule."""
    import tempfile

    s = load_scenario_text()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "o.csv"
        path.write_text("\n".join([header, *lines]), encoding="utf-8")
        try:
            table = read_observed(path, s)
        except UserError as exc:
            assert exc.problems and all(p.file == str(path) for p in exc.problems)
            return
    assert len(table) > 0
    assert set(table["gate"]) <= {"a", "b", "all"} and set(table["direction"]) <= {"export", "import", "all"}
    assert (table["value"] >= 0).all() and np.isfinite(table["value"]).all()
    assert all(date(2022, 1, 10) <= d <= date(2022, 1, 13) for d in table["date"])


_LOADED: list = []


def load_scenario_text():
    """The test scenario, loaded once (Hypothesis cannot take function-scoped fixtures)."""
    if not _LOADED:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "observed_check.yaml"
            path.write_text(SCENARIO)
            _LOADED.append(load_scenario(path).scenario)
    return _LOADED[0]


YEAR = """
name: tiny_year
run: {start: 2021-01-01T00:00:00, horizon: 8760, seed: 3, replications: 2}
truck_classes:
  truck: {commodity: generic, value_usd: {dist: deterministic, value: 10000}}
gates:
  huu_nghi:
    yard: {capacity: 3}
    export:
      stages:
        only: {servers: 1, service: {dist: exponential, mean: 0.5}, hours: "07:00-18:00"}
arrivals:
  exports: {gate: huu_nghi, direction: export, truck_class: truck, rate: 0.02}
"""


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_reported_and_observed_checks_share_the_history_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Either check run after the other keeps the other's table and its record in the manifest."""
    scenario = tmp_path / "tiny_year.yaml"
    scenario.write_text(YEAR)
    observed = tmp_path / "o.csv"
    observed.write_text("date,gate,direction,value\n2021-03-01,huu_nghi,export,1\n")
    root = tmp_path / "results"
    common = ["--replications", "2", "--jobs", "2", "--results-root", str(root)]
    folder = root / "history-tiny_year"
    assert main(["validate-history", str(scenario), "--observed", str(observed), *common]) == 0
    assert main(["validate-history", str(scenario), *common]) == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "reported" in manifest and manifest["observed"]["observed_file"] == str(observed)
    assert (folder / "history.csv").is_file() and (folder / "observed.csv").is_file()
    assert main(["validate-history", str(scenario), "--observed", str(observed), *common]) == 0
    again = json.loads((folder / "manifest.json").read_text())
    assert again["reported"] == manifest["reported"] and again["created"] == manifest["created"]
    capsys.readouterr()
    assert main(["summary", str(folder), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert "reported vs simulated" in text and "observed vs simulated" in text
