"""Where results go: the folder names under the results root (``results/`` unless told otherwise).

::

    <root>/<scenario>/<label or timestamp>/          a run (bordersim run)
    <root>/<scenario>/crn-seed<S>-<hash>-<code>/     a scenario's replications made by compare (reused)
    <root>/<scenario>/sweep-<label or timestamp>/    a sweep, with points/point-NNNN/ run folders
    <root>/compare-<names>/                          a comparison
    <root>/history-<scenario>/                       a check against reported history

Nothing else in the package builds these paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sim.store import manifest as manifests
from sim.store.tables import done_replications

DEFAULT_ROOT = Path("results")
SCENARIO_FILE = "scenario.yaml"
SUMMARY = "summary.csv"
COMPARISON = "comparison.csv"
SWEEP_TABLE = "sweep.csv"


def timestamp() -> str:
    """A folder label from the current time, e.g. 20260128-143005."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def run_folder(root: Path, scenario: str, label: str | None = None) -> Path:
    """The folder of a run of ``scenario``: its label, or the current time."""
    return Path(root) / scenario / (label or timestamp())


def crn_folder(root: Path, scenario: str, seed: int, digest: str) -> Path:
    """The folder of a scenario's replications made for comparisons: named by seed, scenario and model
    code, so that a model change gives a new folder and code versions never mix."""
    return Path(root) / scenario / f"crn-seed{seed}-{digest[:10]}-{manifests.model_digest()[:6]}"


def compare_folder(root: Path, names: Sequence[str]) -> Path:
    """The folder of a comparison of the named scenarios (base first)."""
    return Path(root) / f"compare-{'-'.join(names)}"


def sweep_folder(root: Path, scenario: str, label: str | None = None) -> Path:
    """The folder of a sweep of ``scenario``."""
    return Path(root) / scenario / f"sweep-{label or timestamp()}"


def sweep_point_folder(sweep: Path, point: int) -> Path:
    """The run folder of one grid point of a sweep."""
    return Path(sweep) / "points" / f"point-{point:04d}"


def history_folder(root: Path, scenario: str) -> Path:
    """The folder of a comparison of ``scenario`` with reported history."""
    return Path(root) / f"history-{scenario}"


def finished_run(root: Path, scenario: str, digest: str, seed: int, replications: int) -> Path | None:
    """A run folder of this very scenario (fingerprint), seed and model code with replications
    0..R-1 done, or None: a comparison reuses it instead of running them again."""
    parent = Path(root) / scenario
    if not parent.is_dir():
        return None
    for folder in sorted(parent.iterdir()):
        manifest = manifests.read_manifest(folder)
        if (
            manifest
            and manifest.get("scenario_sha256") == digest
            and manifest.get("model_sha256") == manifests.model_digest()
            and manifest.get("root_seed") == seed
            and set(range(replications)) <= done_replications(folder)
        ):
            return folder
    return None
