"""Hardening, round 3 (issue 24): no write outside its place, no overwrite without asking, no traceback
from a damaged folder, a full disk or a huge request.

Each test names the row of the issue's table it covers and checks exit 2 (or success where the row asks
for it), one clear message naming the file or option, no traceback, nothing written outside the intended
folder and no earlier result changed. Runs are tiny (an M/M/3 queue over a few hundred hours). The
faults of a real disk (a full or read-only file system) mount a small tmpfs where the machine allows it
(as root); elsewhere those tests are skipped with the reason.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import UserError
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS

MMC = str(SCENARIOS / "examples" / "mmc.yaml")
MINIMAL = str(SCENARIOS / "lang_son_minimal.yaml")
TINY = ["--set", "run.horizon=300", "--set", "run.warmup=20"]


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content's digest: to see that nothing changed."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def run_tiny(out: Path, *extra: str, reps: int = 2) -> int:
    return main(["run", MMC, *TINY, "--replications", str(reps), "--jobs", "1", "--out", str(out), *extra])


def one_error(err: str, *expected: str) -> None:
    """One clear message: an 'error:' line naming what is expected, no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], (text, lines[0])


def bordersim(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny run (2 replications), made once; tests copy it before changing anything."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert run_tiny(out) == 0
    return out


def copy_run(finished_run: Path, to: Path) -> Path:
    shutil.copytree(finished_run, to)
    return to


# --------------------------------------------------------------------------------------------------
# Row 1: a billion replications -> refused at once with the estimate
# --------------------------------------------------------------------------------------------------
def test_a_billion_replications_are_refused_at_once(in_tmp: Path, capsys) -> None:
    t0 = time.perf_counter()
    code = main(
        ["run", MMC, "--set", "run.horizon=24", "--set", "run.warmup=1", "--replications", "1000000000"]
    )
    assert code == 2 and time.perf_counter() - t0 < 10
    one_error(capsys.readouterr().err, "'--replications'", "1,000,000,000 replications")
    assert list(in_tmp.iterdir()) == []


def test_the_work_over_all_replications_is_limited_with_the_estimate() -> None:
    from sim.model.size import check_replications, estimate

    s = load_scenario(MMC).scenario
    each = estimate(s).trucks
    limit = 1000  # trucks a replication: the work over all replications may be 1,000 times that
    allowed = int(1000 * limit / each)
    check_replications(s, allowed, limit)
    with pytest.raises(UserError, match="--max-trucks") as caught:
        check_replications(s, allowed + 1, limit)
    assert f"about {each * (allowed + 1):,.0f} trucks over {allowed + 1:,} replications" in str(caught.value)


def test_a_scenario_asking_for_a_billion_replications_is_refused_by_run(in_tmp: Path, capsys) -> None:
    t0 = time.perf_counter()
    code = main(["run", MMC, *TINY, "--set", "run.replications=1000000000", "--jobs", "1"])
    assert code == 2 and time.perf_counter() - t0 < 10
    one_error(capsys.readouterr().err, "1,000,000,000 replications")
    assert list(in_tmp.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# Row 2: schema --out over an existing file -> refused without --force
# --------------------------------------------------------------------------------------------------
def test_schema_does_not_overwrite_a_file_without_force(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "base_2021.yaml"
    shutil.copy(SCENARIOS / "lang_son" / "base_2021.yaml", scenario)
    before = tree(tmp_path)
    assert main(["schema", "--out", str(scenario)]) == 2
    one_error(capsys.readouterr().err, str(scenario), "already exists", "--force")
    assert tree(tmp_path) == before
    assert main(["schema", "--out", str(tmp_path)]) == 2  # a folder is no file, with or without --force
    assert main(["schema", "--out", str(tmp_path), "--force"]) == 2
    assert tree(tmp_path) == before
    assert main(["schema", "--out", str(scenario), "--force"]) == 0
    assert json.loads(scenario.read_text())["title"]
    fresh = tmp_path / "new.json"
    assert main(["schema", "--out", str(fresh)]) == 0 and fresh.is_file()


# --------------------------------------------------------------------------------------------------
# Row 4: a damaged manifest -> list marks it and lists the rest; the others exit 2 naming the file
# --------------------------------------------------------------------------------------------------
DAMAGE = {
    "wrong type": lambda m: json.dumps({**m, "replications": "two"}),
    "a list": lambda m: json.dumps([m]),
    "not JSON": lambda m: json.dumps(m)[:-40],
}


def damage(folder: Path, how: str) -> None:
    path = folder / "manifest.json"
    path.write_text(DAMAGE[how](json.loads(path.read_text())))


@pytest.mark.parametrize("how", list(DAMAGE))
def test_list_marks_a_damaged_folder_and_lists_the_rest(
    finished_run: Path, tmp_path: Path, capsys, how: str
) -> None:
    root = tmp_path / "results"
    good = copy_run(finished_run, root / "mmc" / "good")
    bad = copy_run(finished_run, root / "mmc" / "bad")
    damage(bad, how)
    before = tree(root)
    assert main(["list", "--results-root", str(root), "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    table = pd.read_csv(pd.io.common.StringIO(out))
    states = dict(zip(table["folder"], table["state"], strict=True))
    assert states == {str(good): "complete", str(bad): "damaged"}
    assert str(bad / "manifest.json") in err and "damaged manifest" in err and "Traceback" not in err
    if how == "wrong type":
        assert "field 'replications'" in err
    assert tree(root) == before


@pytest.mark.parametrize("how", list(DAMAGE))
def test_summary_plot_and_resume_of_a_damaged_folder_exit_2_naming_the_file(
    finished_run: Path, tmp_path: Path, capsys, how: str
) -> None:
    bad = copy_run(finished_run, tmp_path / "bad")
    damage(bad, how)
    before = tree(bad)
    manifest = str(bad / "manifest.json")
    field = ["field 'replications'"] if how == "wrong type" else []
    for argv in (
        ["summary", str(bad)],
        ["plot", str(bad), "--kind", "headline"],
        ["report", str(bad)],
        ["run", MMC, *TINY, "--replications", "3", "--jobs", "1", "--out", str(bad), "--resume"],
    ):
        assert main(argv) == 2, argv
        one_error(capsys.readouterr().err, manifest, "damaged manifest", *field)
        assert tree(bad) == before, argv


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_damaged_list_works_through_the_command_line(finished_run: Path, tmp_path: Path) -> None:
    root = tmp_path / "results"
    copy_run(finished_run, root / "mmc" / "good")
    damage(copy_run(finished_run, root / "mmc" / "bad"), "a list")
    done = bordersim("list", "--results-root", str(root), cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "damaged" in done.stdout and "complete" in done.stdout


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_compare_does_not_reuse_a_damaged_folder(tmp_path: Path, capsys) -> None:
    """compare reuses its scenarios' replications: a damaged one is named (exit 2), never read on."""
    root = tmp_path / "results"
    policy = tmp_path / "faster.yaml"
    policy.write_text(f"extends: {MMC}\nname: faster\n")
    argv = [
        "compare",
        MMC,
        str(policy),
        *TINY,
        "--replications",
        "2",
        "--jobs",
        "1",
        "--results-root",
        str(root),
    ]
    assert main(argv) == 0
    capsys.readouterr()
    reused = sorted((root / "mmc").glob("crn-*"))
    assert len(reused) == 1
    damage(reused[0], "wrong type")
    before = tree(root)
    assert main(argv) == 2
    one_error(capsys.readouterr().err, str(reused[0] / "manifest.json"), "field 'replications'")
    assert tree(root) == before


def test_a_manifest_that_is_no_file_is_damaged_not_a_hang(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "results" / "mmc" / "fifo"
    folder.mkdir(parents=True)
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "manifest.json")
    else:
        (folder / "manifest.json").mkdir()
    assert main(["list", "--results-root", str(tmp_path / "results")]) == 0
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe binary",
        b"",
        b"gate,direction\nall,all\n",
        b"gate,direction,metric,mean,half_width\nall,all,arrived,lots,1\n",
    ],
    ids=["binary", "empty", "missing columns", "text for a number"],
)
def test_summary_of_a_folder_whose_table_is_damaged_names_the_file(
    finished_run: Path, tmp_path: Path, capsys, content: bytes
) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    (run / "summary.csv").write_bytes(content)
    before = tree(run)
    assert main(["summary", str(run)]) == 2
    one_error(capsys.readouterr().err, str(run / "summary.csv"), "damaged")
    assert tree(run) == before


# --------------------------------------------------------------------------------------------------
# Rows 5 and 6: the disk (full, read-only) and existing files -> exit 2 with the path and the reason
# --------------------------------------------------------------------------------------------------
@contextmanager
def mounted(where: Path, size: str = "1m", read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs at ``where`` (skip the test where mounting is not allowed)."""
    where.mkdir(parents=True, exist_ok=True)
    if not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root and mount(8)")
    options = f"size={size}" + (",ro" if read_only else "")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"mount is not allowed here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        for _ in range(50):  # the fork server of a finished run may hold it for a moment
            if subprocess.run(["umount", str(where)], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        else:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount_read_only(where: Path) -> None:
    done = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot remount read-only here")


class FullDisk:
    """The ``os`` module as the lock sees it on a full disk: writing refuses, the rest is as usual."""

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    @staticmethod
    def write(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_the_lock_on_a_full_disk_is_named(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sim.store.lock.os", FullDisk())
    out = tmp_path / "run"
    assert run_tiny(out) == 2
    one_error(capsys.readouterr().err, str(out / ".lock"), "No space left on device")
    assert not (out / "manifest.json").exists()


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_full_disk_before_the_run_is_named(tmp_path: Path) -> None:
    with mounted(tmp_path / "full", "64k") as disk:
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        with pytest.raises(OSError):
            while True:
                os.write(fd, b"x" * 4096)
        os.close(fd)
        done = bordersim(
            "run", MMC, *TINY, "--replications", "1", "--jobs", "1", "--results-root", str(disk), cwd=tmp_path
        )
        assert done.returncode == 2, done.stderr
        one_error(done.stderr, str(disk), "0 B free on this disk")  # refused before it ran (issue 27 row 2)


def test_an_os_error_anywhere_ends_in_exit_2_with_the_path(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last guard at the command boundary: an OSError no inner place turned into a message."""

    def refuse(args: object) -> int:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/some/where")

    monkeypatch.setattr("sim.commands.listing.cmd_list", refuse)
    assert main(["list"]) == 2
    one_error(capsys.readouterr().err, "/some/where", "Permission denied")


def test_plot_out_naming_an_existing_file_is_refused(finished_run: Path, tmp_path: Path, capsys) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    target = tmp_path / "figures.png"
    target.write_bytes(b"a picture of mine")
    before, run_before = tree(tmp_path / "run"), target.read_bytes()
    assert main(["plot", str(run), "--kind", "headline", "--out", str(target)]) == 2
    one_error(capsys.readouterr().err, str(target), "is a file, not a folder")
    assert target.read_bytes() == run_before and tree(tmp_path / "run") == before


def test_plot_and_report_of_a_read_only_folder_name_the_path(
    finished_run: Path, tmp_path: Path, capsys
) -> None:
    with mounted(tmp_path / "ro", "4m") as disk:
        run = copy_run(finished_run, disk / "run")
        remount_read_only(disk)
        before = tree(run)
        for argv in (["plot", str(run), "--kind", "headline"], ["report", str(run)]):
            assert main(argv) == 2
            one_error(capsys.readouterr().err, str(run), "Read-only file system")
        assert main(["plot", str(finished_run), "--kind", "headline", "--out", str(disk / "figs")]) == 2
        one_error(capsys.readouterr().err, str(disk / "figs"), "Read-only file system")
        assert tree(run) == before


@pytest.mark.slow
def test_a_disk_that_fills_during_a_run_ends_in_exit_2(finished_run: Path, tmp_path: Path) -> None:
    """The fault test: a 600 KB tmpfs cannot hold the replications' tables. Since issue 27 (row 2) the
    run is refused before it starts, from its disk estimate; a disk that fills while the tables are
    written is tried with a refusing fsync (tests/test_hardening.py)."""
    earlier = copy_run(finished_run, tmp_path / "earlier")
    before = tree(earlier)
    with mounted(tmp_path / "small", "600k") as disk:
        out = disk / "run"
        args = ["--set", "run.horizon=2400", "--set", "run.warmup=24", "--replications", "4", "--jobs", "2"]
        done = bordersim("run", MINIMAL, *args, "--out", str(out), cwd=tmp_path, timeout=300)
        assert done.returncode == 2, done.stderr[-2000:]
        one_error(done.stderr, str(out), "free on this disk")
        assert not list(out.rglob(".*.tmp"))  # no half-written file left beside the tables
    assert tree(earlier) == before


# --------------------------------------------------------------------------------------------------
# Row 7: a label too long for the file system once the command's prefix is added
# --------------------------------------------------------------------------------------------------
def test_a_label_too_long_with_its_prefix_is_refused(in_tmp: Path, capsys) -> None:
    from sim.store.layout import run_folder, study_folder, sweep_folder

    label = "x" * 255
    assert run_folder(Path("results"), "mmc", label).name == label  # a run's folder is the label itself
    for make in (
        lambda: sweep_folder(Path("results"), "mmc", label),
        lambda: study_folder(Path("results"), "mmc", "optimise", label),
        lambda: study_folder(Path("results"), "mmc", "sensitivity", "y" * 250),
    ):
        with pytest.raises(UserError, match="too long for a folder name"):
            make()
    argv = ["sweep", MMC, *TINY, "--grid", "run.seed=1,2", "--replications", "1", "--jobs", "1"]
    assert main([*argv, "--label", label]) == 2
    one_error(capsys.readouterr().err, "'--label'", "too long", "at most 249 characters")
    assert list(in_tmp.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# Row 8: formula injection in CSV files; Markdown cells escaped
# --------------------------------------------------------------------------------------------------
def test_text_cells_a_spreadsheet_would_run_are_neutralised_numbers_are_not() -> None:
    from sim.store.atomic import csv_text

    table = pd.DataFrame(
        {
            "source": ["=cmd|'/c calc'!A1", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", "-", "-4.5"],
            "value": [-1.5, -2.0, 3.0, -4.0, 5.0, 6.0, -7.25, 8.0, 9.0],
            "count": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    text = csv_text(table)
    back = pd.read_csv(pd.io.common.StringIO(text), keep_default_na=False)
    assert back["source"].tolist()[:5] == ["'" + s for s in table["source"][:5]]
    assert back["source"][5] == "'\nx"  # a bare carriage return would split the row: a quoted line feed
    assert back["source"].tolist()[6:] == ["plain", "-", "-4.5"]  # text that is no formula stays
    pd.testing.assert_series_equal(back["value"], table["value"])  # negative numbers stay numbers
    pd.testing.assert_series_equal(back["count"], table["count"])
    path = Path(tempfile.mkdtemp()) / "t.csv"
    path.write_text(text)
    from sim.store.tables import read_csv

    again = read_csv(path)  # the store's reader gives back the cells as they were (a CR as a line feed)
    assert again["source"].tolist() == [*table["source"][:5], "\nx", "plain", "-", "-4.5"]


def test_text_that_already_starts_with_a_quote_reads_back_the_same() -> None:
    from sim.store.atomic import safe_cell, unsafe_cell

    for cell in ["'=x", "''@y", "'plain", "=z", "'", "-", "-3", "+x", "it's"]:
        assert unsafe_cell(safe_cell(cell)) == cell
        assert not str(safe_cell(cell)).startswith(("=", "+x", "@"))


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_observed_csv_is_neutralised_and_the_markdown_table_escaped(tmp_path: Path, capsys) -> None:
    from sim.present.history_text import markdown_table

    observed = tmp_path / "observed.csv"
    observed.write_text(
        "date,gate,direction,value,source\n"
        "2021-06-10,huu_nghi,export,90,=cmd|'/c calc'!A1\n"
        "2021-06-11,all,all,0,@SUM(A1:A9)\n"
    )
    root = tmp_path / "results"
    argv = ["validate-history", MINIMAL, "--set", "run.horizon=336", "--observed", str(observed)]
    assert main([*argv, "--replications", "2", "--jobs", "1", "--results-root", str(root)]) == 0
    written = pd.read_csv(root / "history-lang_son_minimal" / "observed.csv")
    assert written["source"].tolist() == ["'=cmd|'/c calc'!A1", "'@SUM(A1:A9)"]
    assert written["observed"].tolist() == [90, 0] and written["observed"].dtype.kind in "if"
    from sim.store.catalog import saved_summary

    saved = saved_summary(root / "history-lang_son_minimal")  # the store reads back what was given
    assert saved.observed["source"].tolist() == ["=cmd|'/c calc'!A1", "@SUM(A1:A9)"]
    md = markdown_table(pd.DataFrame({"source": ["a|b", "two\nlines"], "value": [-1.0, 2.0]}))
    rows = md.splitlines()
    assert all(row.count("|") - row.count("\\|") == 3 for row in rows)  # every row keeps two cells
    assert "a\\|b" in md and "two lines" in md and "-1" in md


# --------------------------------------------------------------------------------------------------
# Row 9: two runs without a label in the same second each get their own folder
# --------------------------------------------------------------------------------------------------
def test_runs_without_a_label_in_the_same_second_get_their_own_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.store import layout

    root = tmp_path / "results"
    monkeypatch.setattr(layout, "timestamp", lambda: "20260101-120000")
    first = layout.run_folder(root, "mmc")
    second = layout.run_folder(root, "mmc")  # chosen before the first has made its folder
    assert (first.name, second.name) == ("20260101-120000", "20260101-120000-2")
    assert not first.exists() and not second.exists()  # nothing is written until a run starts
    monkeypatch.setattr(layout, "timestamp", lambda: "20260101-120001")
    base = ["run", MMC, *TINY, "--replications", "1", "--jobs", "1", "--results-root", str(root)]
    assert main(base) == 0 and main(base) == 0
    folders = sorted(p.name for p in (root / "mmc").iterdir())
    assert folders == ["20260101-120001", "20260101-120001-2"]
    assert not layout.reservation(root / "mmc" / "20260101-120001-2").exists()  # its marker went


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_concurrent_runs_without_a_label_both_finish(tmp_path: Path) -> None:
    root = tmp_path / "results"
    cmd = [sys.executable, "-m", "sim", "run", MMC, *TINY, "--replications", "1", "--jobs", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([*cmd, "--results-root", str(root)], cwd=tmp_path, env=env, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]  # type: ignore[union-attr]
    assert all(code == 0 for code, _ in results), results
    assert len([p for p in (root / "mmc").iterdir() if (p / "summary.csv").is_file()]) == 3


def test_a_folder_the_user_named_twice_is_still_refused(tmp_path: Path, capsys) -> None:
    root = ["--results-root", str(tmp_path / "results"), "--label", "mine"]
    assert main(["run", MMC, *TINY, "--replications", "1", "--jobs", "1", *root]) == 0
    before = tree(tmp_path)
    capsys.readouterr()
    assert main(["run", MMC, *TINY, "--replications", "1", "--jobs", "1", *root]) == 2
    one_error(capsys.readouterr().err, "already exists")
    assert tree(tmp_path) == before


# --------------------------------------------------------------------------------------------------
# Row 13: plot --kind forest of a run folder
# --------------------------------------------------------------------------------------------------
def test_forest_of_a_run_folder_says_it_needs_a_comparison(
    finished_run: Path, tmp_path: Path, capsys
) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    before = tree(run)
    assert main(["plot", str(run), "--kind", "forest"]) == 2
    one_error(capsys.readouterr().err, str(run), "'forest' needs a comparison folder")
    assert tree(run) == before and not (run / "plots").exists()


# --------------------------------------------------------------------------------------------------
# Row 14: the same key twice in a scenario
# --------------------------------------------------------------------------------------------------
def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "twice.yaml"
    scenario.write_text(f"extends: {MMC}\nrun:\n  horizon: 300\n  warmup: 20\n  horizon: 400\n")
    assert (
        main(["run", str(scenario), "--replications", "1", "--jobs", "1", "--results-root", str(tmp_path)])
        == 2
    )
    one_error(capsys.readouterr().err, str(scenario), "line 5", "'run.horizon'", "lines 3 and 5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twice.yaml"]
    merged = tmp_path / "merged.yaml"  # a YAML merge key is no repeated key
    merged.write_text(f"extends: {MMC}\nbase: &b {{horizon: 300, warmup: 20}}\nrun:\n  <<: *b\n  seed: 3\n")
    with pytest.raises(UserError, match="base"):  # refused for the unknown key 'base', not as a repeat
        load_scenario(merged)


# --------------------------------------------------------------------------------------------------
# Row 15: a pool that broke at start-up is never blamed on memory
# --------------------------------------------------------------------------------------------------
def test_the_message_of_a_broken_pool_blames_memory_only_after_start_up() -> None:
    from sim.runner.pool import _outcome

    broken: Future = Future()
    broken.set_exception(BrokenProcessPool("a child process terminated abruptly"))
    at_start = _outcome(broken, 0, started=False).error or ""
    assert "memory" not in at_start and "while starting" in at_start
    assert "out of memory" in (_outcome(broken, 0, started=True).error or "")


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_script_without_a_main_guard_is_not_told_it_ran_out_of_memory(tmp_path: Path) -> None:
    script = tmp_path / "noguard.py"
    script.write_text(
        "import sim\n"
        f"out = {str(tmp_path / 'r')!r}\n"
        f"result = sim.run({MMC!r}, overrides={TINY[1::2]!r}, replications=2, jobs=2, out=out)\n"
        "print('DONE', len(result.summary))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180, env=env
    )
    text = done.stdout + done.stderr
    assert "out of memory" not in text and "killed, or" not in text
    assert done.returncode == 0 or "while starting" in text, text[-2000:]


# --------------------------------------------------------------------------------------------------
# The progress count never falls
# --------------------------------------------------------------------------------------------------
def test_the_progress_count_never_falls_when_a_replication_finishes() -> None:
    """Two workers at 0.9 and 0.5 of their replications; the first finishes (advance, then the running
    progress without it): the count shown goes 1.4, 1.4 (not 2.4), 1.5, never down."""
    from sim.runner.progress import Bar, Tally

    tally = Tally([Bar("s", 4)])
    shown = [
        tally.set_running(0, 1.4),
        tally.advance(0),
        tally.set_running(0, 0.5),
        tally.set_running(0, 0.3),
    ]
    assert shown == [1.4, 1.4, 1.5, 1.5]
    shown += [
        tally.advance(0),
        tally.advance(0),
        tally.set_running(0, 0.9),
        tally.advance(0),
        tally.set_running(0, 0),
    ]
    assert shown == sorted(shown) and shown[-1] == 4


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_monitor_sees_a_count_that_never_falls_in_a_real_run(tmp_path: Path) -> None:
    from sim.runner.backends import Backend
    from sim.runner.experiment import NEW, Experiment, plan, run_experiments
    from sim.runner.progress import Bar, Tally

    loaded = load_scenario(MINIMAL, ["run.horizon=1200", "run.warmup=24"])
    exp = Experiment(loaded, tmp_path / "run", 1, 4)
    plan(exp, NEW)
    tally = Tally([Bar("s", 4)])
    shown: list[float] = []
    run_experiments(
        [exp],
        Backend(2),
        on_done=lambda i: shown.append(tally.advance(0)),
        on_running=lambda i, x: shown.append(tally.set_running(0, x)),
    )
    assert shown == sorted(shown) and shown[-1] == 4


def test_schema_never_replaces_a_device_even_with_force(tmp_path: Path, capsys) -> None:
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null")
    assert main(["schema", "--out", "/dev/null", "--force"]) == 2
    one_error(capsys.readouterr().err, "/dev/null", "not a regular file")
    assert Path("/dev/null").is_char_device()


def test_a_huge_manifest_is_damaged_not_read(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.store import manifest as manifests

    folder = tmp_path / "results" / "mmc" / "big"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"replications": 2, "pad": "x" * 2000}))
    monkeypatch.setattr(manifests, "MAX_MANIFEST_BYTES", 1000)
    assert main(["summary", str(folder)]) == 2
    one_error(capsys.readouterr().err, str(folder / "manifest.json"), "larger than 1,000 bytes")


# ---- rows 10 and 11: every printed resume command works as printed, and names only its own options ----
@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_summary_of_a_partial_run_prints_a_resume_command_that_finishes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shlex

    from sim.cli import main as cli_main

    out = tmp_path / "partial"
    made = [
        "run", str(SCENARIOS / "lang_son_minimal.yaml"), "--set", "run.horizon=72", "--set", "run.warmup=12",
        "--seed", "7", "--replications", "2", "--jobs", "2", "--out", str(out),
    ]  # fmt: skip
    assert cli_main(made) == 0
    # cut the run short: its second replication and the summary gone, as after a kill
    for f in out.glob("*/rep-0001.parquet"):
        f.unlink()
    (out / "summary.csv").unlink()
    capsys.readouterr()
    assert cli_main(["summary", str(out)]) == 2
    err = capsys.readouterr().err
    hint = err[err.index("bordersim run") :].split("\n")[0].rstrip(". )")
    words = shlex.split(hint)
    assert words.count("--set") == 2 and "--seed" in words and words[-1] == "--resume"
    assert cli_main(words[1:]) == 0, capsys.readouterr().err
    assert (out / "summary.csv").is_file()


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "optimise", "sensitivity"])
def test_the_lock_refusal_names_only_options_the_command_has(command: str) -> None:
    import argparse

    from sim.cli import build_parser
    from sim.store.lock import _busy

    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    options = {o for a in subs.choices[command]._actions for o in a.option_strings}
    named = {w.strip(".,;:()") for w in str(_busy(Path("x"))).split() if w.startswith("--")}
    assert named and named <= options, (command, named - options)
