"""What-if runs in the background: a job is a folder, and its state lives in files, not in the page.

Pressing "Run" writes the policy file and ``whatif.json`` (what to run) into a new what-if folder under the
results root and starts ``python -m sim.app.background FOLDER`` as its own process (session), which runs
the comparison through the studies and the runner's process pool and keeps ``whatif-state.json`` up to
date (status, replications done, any problems). The page only reads these files, so a reload, a second
browser tab or a restarted page server finds the run where it is; the folder is an ordinary comparison
folder once done (``bordersim report`` reads it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.studies.folders import whatif_folders, write_json_atomic
from sim.studies.options import Bar, Tally

SPEC = "whatif.json"
STATE = "whatif-state.json"
LOG = "whatif.log"
PLOTS = "plots"
FIGURE_LIST = "whatif-figures.json"
CANCELLED = "whatif-cancelled"
FIGURES = ("headline", "backlog")  # the clearance-time distributions and the backlog over time

QUEUED, RUNNING, FIGURES_STEP, DONE, FAILED = "queued", "running", "drawing figures", "done", "failed"


@dataclass
class JobSpec:
    """What a what-if job runs: the base and policy files, the window's overrides, replications, seed,
    and whether each policy's swing over its own assumptions is run. Fields added later have defaults,
    so that the job folders of an older page still load."""

    base_file: str
    policy_file: str  # "" when no lever changed: the saved policies (others) only, against the base
    name: str
    window: str
    overrides: list[str]
    replications: int
    seed: int
    results_root: str
    rerun: str  # the command line that gives the same numbers
    expected_trucks: float = 0.0  # trucks the job was expected to simulate (the size estimate)
    others: list[str] = field(default_factory=list)  # saved policy files compared beside the what-if
    swing: bool = False  # each policy also at the ends of its own assumptions' ranges (compare --swing)
    plausible: int = 0  # input sets of the robust study run after the comparison (0: none; issue 31)


@dataclass
class JobState:
    """Where a job is: its status, its progress (replications done of how many) and what went wrong."""

    status: str = QUEUED
    pid: int | None = None
    total: int = 0
    done: int = 0
    running: float = 0.0  # replications' worth of work done by the replications still running
    bars: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float | None = None
    reused: int = 0  # replications already in the folders when the job began (not run by it)
    trucks: float = 0.0  # trucks this job simulated, counted by the run (0 until done): the page's speed

    def record_trucks(self, simulated: float) -> None:
        """Keep the trucks the job's replications held (the run's own count, not the estimate), less the
        reused replications' share: the page's speed is measured on what was simulated in its seconds."""
        ran = max(self.total - self.reused, 0)
        self.trucks = float(simulated) * ran / self.total if self.total else 0.0

    @property
    def fraction(self) -> float:
        """Share of the job done, counting replications still running by their progress."""
        if self.status == DONE:
            return 1.0
        return min(1.0, (self.done + self.running) / self.total) if self.total else 0.0

    @property
    def active(self) -> bool:
        """Whether the job is still queued, running or drawing its figures."""
        return self.status in (QUEUED, RUNNING, FIGURES_STEP)

    @property
    def seconds(self) -> float:
        """Seconds since the job started (until it finished, once it has)."""
        return (self.finished or time.time()) - self.started if self.started else 0.0


def policy_data(spec: JobSpec) -> dict[str, Any]:
    """The what-if's policy file as data ({} when it changed no lever and none was written); OSError or
    yaml.YAMLError when the file is gone or broken."""
    import yaml

    if not spec.policy_file:
        return {}
    return yaml.safe_load(Path(spec.policy_file).read_text(encoding="utf-8")) or {}


def policies(spec: JobSpec) -> list[str]:
    """The policy files the job compares with the base: the what-if's (when it changed a lever), then
    the saved policies picked beside it."""
    return [*([spec.policy_file] if spec.policy_file else []), *spec.others]


def write_spec(folder: Path, spec: JobSpec) -> None:
    """Save what the job runs (base, policy, window, replications, seed) in its folder."""
    write_json_atomic(Path(folder) / SPEC, asdict(spec))


def read_spec(folder: Path) -> JobSpec | None:
    """What the job in this folder runs, or None when the folder holds no readable job."""
    try:
        return JobSpec(**json.loads((Path(folder) / SPEC).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_state(folder: Path, state: JobState) -> None:
    """Save the job's state atomically, so the page never reads half a file."""
    write_json_atomic(Path(folder) / STATE, asdict(state))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child of this process that nobody waited for is a zombie: not running
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def cancel(folder: Path) -> bool:
    """Stop a running job (its whole process group: the job and its replications' workers), and mark
    it cancelled; False when it was not running."""
    state = read_state(folder)
    if state is None or not state.active or not state.pid:
        return False
    (Path(folder) / CANCELLED).write_text(f"{time.time():.0f}\n", encoding="utf-8")
    try:
        os.killpg(state.pid, signal.SIGTERM)  # started in its own session: the group is the job's
    except (ProcessLookupError, PermissionError):
        return False
    return True


def read_state(folder: Path) -> JobState | None:
    """The job's state; a job whose process is gone without saying so is reported failed (cancelled,
    when the page cancelled it)."""
    try:
        raw = json.loads((Path(folder) / STATE).read_text(encoding="utf-8"))
        state = JobState(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if (Path(folder) / CANCELLED).is_file() and state.status != DONE:
        if not (state.active and state.pid and _alive(state.pid)):
            state.status, state.problems = FAILED, ["cancelled from the page"]
        return state
    if state.active and state.pid and not _alive(state.pid):
        state.status = FAILED
        state.problems = state.problems or [f"the run stopped unexpectedly; see {Path(folder) / LOG}"]
    return state


class StateMonitor:
    """The runner's progress, written to the job's state file (the page reads it); the count the page
    shows (done plus running) never falls (:class:`sim.studies.options.Tally`).

    A job may run in phases (the comparison, then each policy's swing runs): ``later`` replications of
    the phases to come are counted in the total from the start, so that the bar does not fill and then
    fall back; a phase's bars stay listed, done, when the next begins (a ``begin`` with the same bars
    again is the same phase, e.g. more replications)."""

    def __init__(self, folder: Path, state: JobState, later: int = 0) -> None:
        self.folder, self.state = Path(folder), state
        self.tally = Tally([])
        self.later = later
        self.earlier: list[dict[str, Any]] = []  # the bars of the phases already done
        self.earlier_reused = 0
        self.titles: list[str] = []

    def begin(self, bars: list[Bar]) -> None:
        """The runner's progress bars are known: record their totals and what is already done."""
        titles = [b.title for b in bars]
        if self.titles and titles != self.titles:  # a new phase: the one before is done
            self.earlier, self.earlier_reused, self.later = list(self.state.bars), self.state.reused, 0
        self.titles = titles
        self.tally = Tally(bars)
        self.state.bars = [*self.earlier, *(asdict(b) for b in bars)]
        self.state.total = sum(int(b["total"]) for b in self.state.bars) + self.later
        self.state.done = sum(int(b["done"]) for b in self.state.bars)
        self.state.reused = self.earlier_reused + sum(b.done for b in bars)
        write_state(self.folder, self.state)

    def advance(self, bar: int) -> None:
        """One replication of this bar finished."""
        self.tally.advance(bar)
        self.state.bars[len(self.earlier) + bar]["done"] += 1
        self.state.done += 1
        self._sum_running()

    def running(self, bar: int, replications: float) -> None:
        """Progress within the running replications (the runner reports it about every half second)."""
        self.tally.set_running(bar, replications)
        self._sum_running()

    def _sum_running(self) -> None:
        for k, b in enumerate(self.state.bars[len(self.earlier) :]):
            b["running"] = max(0.0, self.tally.shown[k] - self.tally.done[k])
        self.state.running = sum(float(b.get("running", 0.0)) for b in self.state.bars)
        write_state(self.folder, self.state)


def start(folder: Path, spec: JobSpec) -> JobState:
    """Start the job in its own process and session (it outlives the page and its server)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_spec(folder, spec)
    state = JobState(status=QUEUED, started=time.time())
    write_state(folder, state)
    with open(folder / LOG, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.app.background", str(folder.resolve())],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    state.pid = proc.pid  # the job writes its own state (with its pid) as soon as it starts
    return state


def jobs(root: Path) -> list[tuple[Path, JobSpec, JobState]]:
    """Every what-if under the results root, newest first, with what it ran and where it is."""
    out = []
    for folder in whatif_folders(root):
        spec, state = read_spec(folder), read_state(folder)
        if spec is not None and state is not None:
            out.append((folder, spec, state))
    return out


def figures(folder: Path) -> list[dict[str, str]]:
    """The figures drawn for a results folder: each PNG's path, title and caption (none yet: [])."""
    try:
        listed = json.loads((Path(folder) / PLOTS / FIGURE_LIST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out = []
    for item in listed:
        png = Path(folder) / PLOTS / str(item.get("png", ""))
        if png.is_file():
            out.append(
                {
                    "png": str(png),
                    "title": str(item.get("title", "")),
                    "caption": str(item.get("caption", "")),
                }
            )
    return out
