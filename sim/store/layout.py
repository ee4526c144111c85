"""Where results go: the folder names under the results root (``results/`` unless told otherwise).

::

    <root>/<scenario>/<label or timestamp>/          a run (bordersim run)
    <root>/<scenario>/crn-seed<S>-<hash>-<code>/     a scenario's replications made by compare (reused)
    <root>/<scenario>/sweep-<label or timestamp>/    a sweep, with points/point-NNNN/ run folders
    <root>/<scenario>/optimise-<label or timestamp>/ an optimisation, points/point-NNNN/ as a sweep
    <root>/<scenario>/sensitivity-<label or ...>/    a sensitivity study, likewise
    <root>/<scenario>/calibrate-<timestamp>/         a fit of free parameters to reported figures
    <root>/<scenario>/uncertainty-<label or ...>/    input sets drawn over the scenario's uncertain ranges
    <root>/<scenario>/forecast-<label or ...>/       a forecast from an observed starting state
    <root>/compare-<names>/                          a comparison
    <root>/history-<scenario>/                       a check against reported history

Nothing else in the package builds these paths, and none of them leaves the root: every part comes
from a scenario name (validated by the schema as a safe identifier) or a ``--label`` checked here the
same way. ``--out`` is the user's own choice of folder and is used as given, unless it lies inside
another results folder (:func:`check_out`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from sim.analysis.daily_series import DAILY_TABLE
from sim.errors import UserError
from sim.store import manifest as manifests
from sim.store.atomic import store_errors
from sim.store.tables import TABLES, done_replications

DEFAULT_ROOT = Path("results")
SCENARIO_FILE = "scenario.yaml"
SUMMARY = "summary.csv"
COMPARISON = "comparison.csv"
SWEEP_TABLE = "sweep.csv"
SWEEP_PARQUET = "sweep.parquet"
FIGURE_DIRS = ("plots", "report")  # drawn from a folder's tables by `plot` and `report`

# The files of study folders, by the names studies ask the store for (sim.store.outputs.StudyFolder).
HISTORY_TABLE = "history.csv"
HISTORY_MARKDOWN = "history.md"
OBSERVED_TABLE = "observed.csv"
OBSERVED_MARKDOWN = "observed.md"
FIT_TABLE = "fit.csv"
FIT_MARKDOWN = "fit.md"
EVALUATIONS = "evaluations.csv"
JACOBIAN = "jacobian.csv"
SENSITIVITY_TABLE = "sensitivity.csv"
SWEEP_SUMMARY = "sweep_summary.csv"
COMPARISON_MARKDOWN = "comparison.md"
SWING_TABLE = "swing.csv"  # compare --swing: each policy with one of its own assumptions at an end
UNCERTAINTY_SAMPLES = "samples.csv"
UNCERTAINTY_BANDS = "bands.csv"
UNCERTAINTY_SERIES = "bands_daily.csv"
UNCERTAINTY_DRIVERS = "drivers.csv"
FORECAST_TABLE = "forecast.csv"
FORECAST_DAILY = "forecast_daily.csv"
STATE_FILE = "state.csv"
ROBUST_TABLE = "robust.csv"  # the robust study (issue 31): per metric and policy
ROBUST_SETS = "robust_sets.csv"  # each input set's inputs and every policy's metrics
ROBUST_BOXES = "boxes.csv"  # where a policy fails, as boxes of inputs
ROBUST_VOI = "voi.csv"  # the value of knowing each input
POSTERIOR_TABLE = "posterior.csv"  # assimilate: each uncertain input's prior and posterior
ASSIMILATE_DAILY = "assimilate_daily.csv"  # assimilate: the filtered daily series and the forecast fan
ESS_TABLE = "ess.csv"  # assimilate: the effective sample size at each step
ASSIMILATE_POLICIES = "assimilate_policies.csv"  # assimilate POLICY: variants over the posterior particles
HINDCAST_TABLE = "hindcast.csv"  # assimilate --hindcast: scores by horizon band
HINDCAST_ROWS = "hindcast_rows.csv"  # assimilate --hindcast: each forecast row's scores
PARTICLES_TABLE = "particles.csv"  # assimilate: the final particles (weight, each input's u and value)
TORNADO = "tornado"  # the tornado chart's stem (.png and .svg)
STUDY_FILES = frozenset(
    {
        SUMMARY,
        COMPARISON,
        SWEEP_TABLE,
        SWEEP_PARQUET,
        SCENARIO_FILE,
        HISTORY_TABLE,
        HISTORY_MARKDOWN,
        OBSERVED_TABLE,
        OBSERVED_MARKDOWN,
        FIT_TABLE,
        FIT_MARKDOWN,
        EVALUATIONS,
        JACOBIAN,
        SENSITIVITY_TABLE,
        SWEEP_SUMMARY,
        COMPARISON_MARKDOWN,
        SWING_TABLE,
        UNCERTAINTY_SAMPLES,
        UNCERTAINTY_BANDS,
        UNCERTAINTY_SERIES,
        UNCERTAINTY_DRIVERS,
        FORECAST_TABLE,
        FORECAST_DAILY,
        STATE_FILE,
        ROBUST_TABLE,
        ROBUST_SETS,
        ROBUST_BOXES,
        ROBUST_VOI,
        POSTERIOR_TABLE,
        ASSIMILATE_DAILY,
        ESS_TABLE,
        ASSIMILATE_POLICIES,
        HINDCAST_TABLE,
        HINDCAST_ROWS,
        PARTICLES_TABLE,
        f"{TORNADO}.png",
        f"{TORNADO}.svg",
    }
)


def timestamp() -> str:
    """A folder label from the current time, e.g. 20260128-143005."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


MAX_SUFFIX = 1000


def reservation(folder: Path) -> Path:
    """The marker that keeps ``folder``'s name for the command that chose it (see :func:`unique`): in
    the temporary folder, never in the results, so that a command refused later has written nothing."""
    folder = Path(folder).absolute()
    key = hashlib.sha256(str(folder.parent).encode()).hexdigest()[:16]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"bordersim-{uid}-names" / f"{key}-{folder.name}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _take(marker: Path) -> bool:
    """Create ``marker`` holding this process's id; False if a live process holds it already."""
    for _ in range(2):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = int(marker.read_text(encoding="ascii").strip() or 0)
            except (OSError, ValueError):
                holder = 0
            if holder and _alive(holder):
                return False
            marker.unlink(missing_ok=True)  # left by a command that ended before making its folder
            continue
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        return True
    return False


def _prune(markers: Path, older_than_s: float = 3600.0) -> None:
    """Forget names chosen long ago by commands that were refused before making their folder."""
    limit = time.time() - older_than_s
    for marker in markers.iterdir():
        with suppress(OSError):
            if marker.stat().st_mtime < limit:
                marker.unlink()


def unique(parent: Path, base: str) -> str:
    """A folder name under ``parent`` from the time-stamp ``base`` that no folder has and no running
    command has chosen: ``base``, else ``base-2``, ``base-3``... Two commands started within the same
    second each get their own folder, though neither has created it yet (it is made once the workers are
    up): the name is kept by a marker made with O_EXCL (:func:`reservation`), removed by the folder's
    lock once the folder exists (:func:`sim.store.lock.folder_lock`). Only names the user gave are ever
    refused as taken."""
    parent = Path(parent)
    for n in range(1, MAX_SUFFIX + 1):
        name = base if n == 1 else f"{base}-{n}"
        if (parent / name).exists():
            continue
        marker = reservation(parent / name)
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            if n == 1:
                _prune(marker.parent)
            if not _take(marker):
                continue
            if (parent / name).exists():  # made (and its marker removed) since the check above
                marker.unlink(missing_ok=True)
                continue
        except OSError:  # no temporary folder to keep names in: the folder's own creation still guards
            pass
        return name
    raise UserError.single(str(parent), "", f"more than {MAX_SUFFIX} folders named {base}: give a --label")


_SAFE_PART = re.compile(r"[A-Za-z0-9_.-]+")
NAME_MAX = 255  # bytes in one folder name on Linux, macOS and Windows file systems alike


def _part(text: str, option: str, prefix: str = "") -> str:
    """``prefix + text`` as a folder name, ``text`` made from user input: letters, digits, '_', '-',
    '.', not '.' or '..' (so it cannot name a parent, an absolute path or nothing), and short enough for
    the file system with the prefix; else a UserError naming the option."""
    if not _SAFE_PART.fullmatch(text) or text in (".", ".."):
        raise UserError.single(
            None, option, f"{text[:80]!r} is not a usable folder name: use letters, digits, '_', '-' or '.'"
        )
    name = prefix + text
    if len(name.encode()) > NAME_MAX:
        with_prefix = f" with the '{prefix}' the folder's name starts with" if prefix else ""
        raise UserError.single(
            None,
            option,
            f"{text[:40]!r}... is {len(text)} characters: too long for a folder name{with_prefix} (at most "
            f"{NAME_MAX - len(prefix)} characters{' here' if prefix else ''}); choose a shorter one",
        )
    return name


def _inside(root: Path, *parts: str) -> Path:
    """``root / parts``, checked to stay inside ``root`` (a last guard; the parts are checked names)."""
    path = Path(root).joinpath(*parts)
    if not path.resolve().is_relative_to(Path(root).resolve()):
        raise UserError.single(None, "name", f"'{path}' would be outside the results root '{root}'")
    return path


def enclosing_results_folder(path: Path) -> Path | None:
    """The results folder (a folder with a manifest) that ``path`` lies inside, or None. ``path`` itself
    is not counted: a run resumed into its own folder is welcome."""
    for parent in Path(path).absolute().parents:
        if (parent / manifests.MANIFEST).is_file():
            return parent
    return None


def check_out(out: Path, option: str = "--out") -> Path:
    """``out`` if no results folder holds it: a study written inside another folder (``--out
    results/x/run/trucks/sub``) puts its manifest and tables among that folder's tables, and the
    folder's tables no longer read back (a Parquet dataset with a manifest in it)."""
    holder = enclosing_results_folder(out)
    if holder is not None:
        raise UserError.single(
            str(out),
            option,
            f"is inside the results folder '{holder}': no study writes inside another folder; choose a "
            "folder outside it (e.g. beside it)",
        )
    return Path(out)


# a folder's own per-replication parts
REPLICATION_DIRS = frozenset({*TABLES, DAILY_TABLE, "metrics", "errors", "points"})


def check_figures_out(out: Path, option: str = "--out") -> Path:
    """``out`` for figures or an animation (``plot``, ``animate``) unless it lies among a results folder's
    tables: a PNG in ``trucks/`` makes that table unreadable as a Parquet dataset. A results folder's
    ``plots/`` (the default) or a folder beside it are welcome."""
    holder = enclosing_results_folder(out)
    inside = Path(out).absolute().relative_to(holder).parts if holder is not None else ()
    if inside and inside[0] in REPLICATION_DIRS:
        raise UserError.single(
            str(out),
            option,
            f"is inside the tables of the results folder '{holder}' ({inside[0]}/): figures there would "
            "break its tables; choose its plots/ folder or a folder outside it",
        )
    return Path(out)


def run_folder(root: Path, scenario: str, label: str | None = None) -> Path:
    """The folder of a run of ``scenario``: its label, or the current time."""
    if label:
        return _inside(root, _part(scenario, "name"), _part(label, "--label"))
    parent = _inside(root, _part(scenario, "name"))
    return parent / unique(parent, timestamp())


def crn_folder(root: Path, scenario: str, seed: int, digest: str) -> Path:
    """The folder of a scenario's replications made for comparisons: named by seed, scenario and model
    code, so that a model change gives a new folder and code versions never mix."""
    return Path(root) / scenario / f"crn-seed{seed}-{digest[:10]}-{manifests.model_digest()[:6]}"


def compare_folder(root: Path, names: Sequence[str]) -> Path:
    """The folder of a comparison of the named scenarios (base first)."""
    return _inside(root, _part("-".join(names), "name", "compare-"))


def sweep_folder(root: Path, scenario: str, label: str | None = None) -> Path:
    """The folder of a sweep of ``scenario``."""
    parent = _inside(root, _part(scenario, "name"))
    return parent / (_part(label, "--label", "sweep-") if label else unique(parent, f"sweep-{timestamp()}"))


def sweep_point_folder(sweep: Path, point: int) -> Path:
    """The run folder of one grid point of a sweep."""
    return Path(sweep) / "points" / f"point-{point:04d}"


def study_folder(root: Path, scenario: str, kind: str, label: str | None = None) -> Path:
    """The folder of an optimisation or sensitivity study of ``scenario`` (``<kind>-<label or time>``),
    with its evaluated points under ``points/point-NNNN`` like a sweep's. The label is checked like a
    run's, so no study folder leaves the root."""
    parent = _inside(root, _part(scenario, "name"))
    return parent / (
        _part(label, "--label", f"{kind}-") if label else unique(parent, f"{kind}-{timestamp()}")
    )


def history_folder(root: Path, scenario: str) -> Path:
    """The folder of a comparison of ``scenario`` with reported history."""
    return _inside(root, _part(scenario, "name", "history-"))


def remove_figures(folder: Path) -> None:
    """Delete the figures and report drawn from a folder's previous tables: a folder whose tables are
    rewritten must not keep pictures of the old ones beside them."""
    for name in FIGURE_DIRS:
        path = Path(folder) / name
        if path.is_dir():
            with store_errors(path, "cannot remove the old figures"):
                shutil.rmtree(path)


def finished_run(root: Path, scenario: str, digest: str, seed: int, replications: int) -> Path | None:
    """A run folder of this very scenario (fingerprint), seed and model code with replications
    0..R-1 done, or None: a comparison reuses it instead of running them again."""
    parent = Path(root) / scenario
    if not parent.is_dir():
        return None
    for folder in sorted(parent.iterdir()):
        try:
            manifest = manifests.read_manifest(folder)
        except UserError:  # a damaged folder is never reused (reading it itself names the damage)
            continue
        if (
            manifest
            and manifest.get("scenario_sha256") == digest
            and manifest.get("model_sha256") == manifests.model_digest()
            and manifest.get("root_seed") == seed
            and set(range(replications)) <= done_replications(folder)
        ):
            return folder
    return None


def whatif_folder(root: Path, policy: str) -> Path:
    """A new folder for a what-if from the web page: a comparison folder that also holds the policy file
    and the page's job state, named by time and policy (a suffix if two start in the same second)."""
    base = Path(root) / f"whatif-{timestamp()}-{policy}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def comparison_folders(root: Path) -> list[Path]:
    """The comparison folders directly under the results root (what-ifs included), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [f for f in root.iterdir() if f.is_dir() and (f / COMPARISON).is_file()]
    return sorted(found, key=lambda f: (f / COMPARISON).stat().st_mtime, reverse=True)


def whatif_folders(root: Path) -> list[Path]:
    """The what-if folders under the results root, finished or not, newest first."""
    root = Path(root)
    return sorted(root.glob("whatif-*"), reverse=True) if root.is_dir() else []
