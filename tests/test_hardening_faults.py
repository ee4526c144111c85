"""Faults: the parent `bordersim run` killed mid-run (SIGKILL, SIGTERM) must take its workers with it,
and a resumed run must give the tables an uninterrupted run gives.

These start the real command in a subprocess and look for its worker processes in /proc, so they run on
Linux only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.store.tables import TABLES, done_replications, read_table

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "lang_son_minimal.yaml"
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
# small enough for a quick test, long enough (a few seconds a replication) to be killed mid-run
ARGS = ["--set", "run.horizon=2400", "--set", "run.warmup=24", "--replications", "4", "--jobs", "2"]


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, of every live (not zombie) process."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] in "ZX":
            continue
        out.setdefault(int(fields[1]), []).append(int(entry.name))
    return out


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _start(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(SCENARIO), *ARGS, "--out", str(out)],
        cwd=out.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_workers(proc: subprocess.Popen, out: Path, timeout: float = 60.0) -> set[int]:
    """Wait until the run has its workers busy (and its folder written), return their pids."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _descendants(proc.pid)
        if len(pids) >= 3 and (out / "manifest.json").is_file():  # the fork server and two workers
            time.sleep(1.0)
            return _descendants(proc.pid)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the run never started its workers")


def _wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = {p for p in pids if _alive(p)}
        if not alive:
            return set()
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(folder, name) for name in (*TABLES, "metrics")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("ref") / "whole"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(SCENARIO), *ARGS, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=out.parent,
    )
    assert done.returncode == 0, done.stderr
    return _tables(out)


@pytest.mark.slow  # seconds of subprocesses or a browser: run by .ci/run with -m slow
def test_sigkill_of_the_parent_ends_its_workers_and_resume_gives_identical_tables(tmp_path, reference):
    out = tmp_path / "killed"
    proc = _start(out)
    workers = _wait_for_workers(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    survivors = _wait_gone(workers)
    for pid in survivors:  # do not leave them behind for the other tests
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"worker processes outlived their parent: {sorted(survivors)}"
    assert len(done_replications(out)) < 4, "the run finished before it was killed: make it longer"

    resumed = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(SCENARIO), *ARGS, "--out", str(out), "--resume"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr
    got = _tables(out)
    for name, df in reference.items():
        pd.testing.assert_frame_equal(got[name], df, check_exact=True, obj=name)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    out = tmp_path / "terminated"
    proc = _start(out)
    workers = _wait_for_workers(proc, out)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (130, 143), stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert not _wait_gone(workers)
    manifest = (out / "manifest.json").read_text()
    assert '"interrupted": true' in manifest
