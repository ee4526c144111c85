"""Manifests: what produced a results folder, so that any number in it can be traced and reproduced.

Every folder the tool writes (a run, a comparison, a sweep, a history check) has a ``manifest.json`` built
here and nowhere else: the scenario files and overrides, fingerprints of the resolved scenario and of the
model code, the root seed and every replication's seed, package versions, the commands that wrote it, and
how complete it is.

Manifests are read back by one function, :func:`read_manifest`, which validates the fields the package
relies on (a pydantic model, :class:`ManifestFields`): a manifest edited by hand, cut short by a copy or
replaced by something else is named with the file and the field (a :class:`~sim.errors.UserError`), never
a ``ValueError`` deep in whichever reader met it first.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import platform
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import Problem, UserError
from sim.model.random_streams import replication_seed
from sim.scenario import LoadedScenario, Scenario
from sim.store.atomic import write_json_atomic
from sim.version import __version__, build, compiled_files

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 256 * 2**20  # 100,000 replications' seeds and timings take about 30 MB
MODEL_SOURCES = ("model", "scenario")  # folders of sim/ whose code turns a scenario and a seed into records


def now() -> str:
    """The current local time, ISO 8601 with its UTC offset (manifests' time stamps)."""
    return datetime.now().astimezone().isoformat()


def versions() -> dict[str, str]:
    """Versions of this package and of the libraries that shape its numbers."""
    import numpy
    import pandas
    import pyarrow
    import pydantic
    import simpy

    return {
        "bordersim": __version__,
        "build": build(),  # interpreted, or the core compiled with mypyc (issue 32)
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "pydantic": pydantic.__version__,
    }


@functools.cache
def model_digest() -> str:
    """A fingerprint of the code that turns a scenario and a seed into records.

    Saved results are reused only when both the scenario and this fingerprint match: after a change to
    the model, old replications would otherwise be mixed with new ones, numbers that look right but are not.
    """
    root = Path(__file__).resolve().parents[1]  # the sim package
    h = hashlib.sha256()
    for name in MODEL_SOURCES:
        for f in sorted((root / name).rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    for compiled in sorted(compiled_files()):  # a compiled core: a stale .so cannot hide behind its sources
        h.update(Path(compiled).name.encode())
        h.update(Path(compiled).read_bytes())
    return h.hexdigest()


def scenario_digest(scenario: Scenario) -> str:
    """A fingerprint of the resolved scenario: equal digests, equal scenarios."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seed_record(root_seed: int, replication: int) -> dict[str, object]:
    """Replication ``replication``'s SeedSequence as data (entropy and spawn key) for a manifest."""
    seq = replication_seed(root_seed, replication)
    return {"replication": replication, "entropy": seq.entropy, "spawn_key": list(seq.spawn_key)}


@functools.lru_cache(maxsize=16)
def _seed_records(root_seed: int, replications: int) -> tuple[dict[str, object], ...]:
    children = np.random.SeedSequence(root_seed).spawn(replications)  # once: the same as replication_seed
    return tuple(
        {"replication": r, "entropy": seq.entropy, "spawn_key": list(seq.spawn_key)}
        for r, seq in enumerate(children)
    )


def seed_records(root_seed: int, replications: int) -> list[dict[str, object]]:
    """The seed records of replications 0..R-1, spawned once per experiment and remembered: a manifest
    is rewritten after every replication, and rebuilding each seed by spawning its predecessors made
    every rewrite quadratic in R (31 s at R = 3000)."""
    return list(_seed_records(root_seed, replications))


def seed_text(root_seed: int, replication: int) -> str:
    """Replication ``replication``'s SeedSequence as Python text (to rebuild it by hand)."""
    seq = replication_seed(root_seed, replication)
    return f"SeedSequence(entropy={seq.entropy}, spawn_key={tuple(seq.spawn_key)})"


def scenario_entry(loaded: LoadedScenario) -> dict[str, Any]:
    """Where a scenario came from: its files (the extends chain), overrides and fingerprint."""
    return {
        "scenario": loaded.scenario.name,
        "scenario_files": [str(f) for f in loaded.files],
        "overrides": list(loaded.overrides),
        "scenario_sha256": scenario_digest(loaded.scenario),
    }


class _Open(BaseModel):
    """A part of a manifest: the fields named are checked, any others are kept as they are."""

    model_config = ConfigDict(extra="allow")


COUNT = Field(default=None, ge=0, le=10**9)  # replications: more than any run ever had is damage
SEED = Field(default=None, ge=0, lt=2**128)  # numpy's SeedSequence takes non-negative integers


class _Point(_Open):
    replications: int | None = COUNT
    root_seed: int | None = SEED
    overrides: list[str] | None = None


class _ComparedScenario(_Open):
    name: str
    run_folder: str | None = None
    files: list[str] | None = None
    overrides: list[str] | None = None


class _ScenarioEntry(_Open):
    scenario: str | None = None
    scenario_files: list[str] | None = None
    overrides: list[str] | None = None


class ManifestFields(_Open):
    """The fields of a manifest (of any kind of folder) that bordersim reads back, with their types;
    every field is optional, since each kind writes its own."""

    kind: str | None = None
    schema_: int | None = Field(default=None, alias="schema")
    scenario: str | _ScenarioEntry | None = None
    scenario_files: list[str] | None = None
    overrides: list[str] | None = None
    scenario_sha256: str | None = None
    model_sha256: str | None = None
    root_seed: int | None = SEED
    replications: int | None = COUNT
    final_replications: int | None = COUNT
    complete: bool | None = None
    done: list[Annotated[int, Field(ge=0, le=10**9)]] | None = None
    missing: list[Annotated[int, Field(ge=0, le=10**9)]] | None = None
    failed: list[dict[str, Any]] | None = None
    keep_tables: bool | None = None
    tables: list[str] | None = None
    command: list[str] | None = None
    started: str | None = None
    finished: str | None = None
    created: str | None = None
    runs: list[dict[str, Any]] | None = None
    replication_info: dict[str, dict[str, Any] | None] | None = None
    grid: dict[str, Any] | None = None  # a sweep: key -> values; a sweep point: key -> its value
    points: list[_Point | str] | int | None = None  # a sweep's points; uncertainty: folder names
    base: str | None = None
    policies: list[str] | None = None
    scenarios: list[_ComparedScenario] | None = None
    observed: dict[str, Any] | None = None
    fit: dict[str, Any] | None = None
    confidence: float | None = None


def _damaged(path: Path, field: str, what: str) -> UserError:
    return UserError.single(
        str(path), field, f"damaged manifest: {what}; delete this folder, or run the study into a new one"
    )


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else f"{text[:60]}..."


def _field_path(raw: Any, loc: tuple[Any, ...]) -> str:
    """An error's location as the manifest's dotted field path: the parts pydantic adds to name the
    member of a union it tried (``str``, ``list[_Point]``) are not in the file, so they are left out."""
    parts, value = [], raw
    for part in loc:
        in_dict = isinstance(value, dict) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_dict or in_list):
            continue
        value = value[part]
        parts.append(str(part))
    return ".".join(parts)


def validate_manifest(raw: Any, path: Path) -> dict[str, Any]:
    """``raw`` (a manifest as parsed JSON) checked against :class:`ManifestFields`: the manifest as a
    dict, or a UserError naming ``path`` and every wrong field."""
    if not isinstance(raw, dict):
        raise _damaged(path, "", f"a JSON object was expected, not {type(raw).__name__}")
    try:
        checked = ManifestFields.model_validate(raw)
    except ValidationError as exc:
        found: dict[str, list[str]] = {}
        got: dict[str, str] = {}
        for err in exc.errors(include_url=False):
            loc = _field_path(raw, err["loc"])
            found.setdefault(loc, []).append(err["msg"].lower())
            got.setdefault(loc, f" (got {_shown(err['input'])})" if "input" in err else "")
        problems = [
            Problem(
                str(path),
                loc,
                f"damaged manifest: {msgs[0] if len(msgs) == 1 else 'not of the type bordersim writes'}"
                f"{got[loc]}; delete this folder, or run the study into a new one",
            )
            for loc, msgs in list(found.items())[:5]
            if not any(other.startswith(f"{loc}.") for other in found)  # the deeper error says more
        ]
        raise UserError(problems) from None
    return checked.model_dump(by_alias=True, exclude_unset=True)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a results folder, validated; None if it has none. A manifest that cannot be read
    or is damaged (not JSON, not an object, a field of the wrong type) is a UserError naming the file and
    the field: reading on would give wrong numbers or a traceback further on."""
    path = Path(folder) / MANIFEST
    if not path.exists() and not path.is_symlink():
        return None
    if not path.is_file():
        raise _damaged(path, "", "not a regular file")
    with contextlib.suppress(OSError):
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise _damaged(path, "", f"larger than {MAX_MANIFEST_BYTES:,} bytes, more than any manifest")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _damaged(path, "", "not UTF-8 text") from None
    except OSError as exc:
        raise UserError.single(str(path), "", f"cannot read the manifest: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise _damaged(path, "", f"not JSON{where}") from None
    return validate_manifest(raw, path)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write (or rewrite) a folder's manifest atomically."""
    write_json_atomic(Path(folder) / MANIFEST, manifest)


def run_manifest(
    loaded: LoadedScenario,
    *,
    root_seed: int,
    replications: int,
    done: set[int],
    failed: list[dict[str, Any]],
    keep_tables: bool,
    tables: list[str],
    info: dict[int, dict[str, Any]],
    run: dict[str, Any],
    previous: dict[str, Any] | None,
    about: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of a run folder: what produced it, every replication's seed and state, and the
    history of the commands that wrote it (a resumed run keeps the earlier ones)."""
    s = loaded.scenario
    previous = previous or {}
    reps = range(replications)
    return {
        "kind": "run",
        **scenario_entry(loaded),
        "model_sha256": model_digest(),
        **about,
        "root_seed": root_seed,
        "replications": replications,
        "complete": all(r in done for r in reps),
        "done": sorted(done),
        "missing": [r for r in reps if r not in done],
        "failed": failed,
        "keep_tables": keep_tables,
        "tables": tables,
        "seeds": seed_records(root_seed, replications),
        "versions": versions(),
        "command": run["command"],
        "started": previous.get("started", run["started"]),
        "finished": now(),
        "runs": [*previous.get("runs", []), run],
        "replication_seconds": [(info.get(r) or {}).get("seconds") for r in reps],
        "trucks_simulated": sum((info.get(r) or {}).get("trucks") or 0 for r in reps),
        "counts": [{"replication": r, **info[r].get("counts", {})} for r in reps if r in info],
        "replication_info": {str(r): v for r, v in info.items()},
        "time_unit": s.run.time_unit,
        "calendar_start": s.run.start.isoformat(),
    }


def comparison_manifest(
    names: list[str],
    loaded: list[LoadedScenario],
    run_folders: list[Path],
    *,
    root_seed: int,
    replications: int,
    argv: list[str],
    confidence: float = 0.95,
) -> dict[str, Any]:
    """The manifest of a comparison folder: the base, the policies and the run folder of each."""
    return {
        "kind": "comparison",
        "base": names[0],
        "policies": names[1:],
        "root_seed": root_seed,
        "replications": replications,
        "confidence": confidence,
        "scenarios": [
            {
                "name": name,
                "files": [str(f) for f in ld.files],
                "overrides": list(ld.overrides),
                "scenario_sha256": scenario_digest(ld.scenario),
                "run_folder": str(folder),
            }
            for name, ld, folder in zip(names, loaded, run_folders, strict=True)
        ],
        "command": argv,
        "created": now(),
        "versions": versions(),
    }


def sweep_manifest(
    base: LoadedScenario,
    overrides: list[str],
    grid: dict[str, list[Any]],
    points: list[dict[str, Any]],
    *,
    keep_tables: bool,
    complete: bool,
    argv: list[str],
    started: str,
) -> dict[str, Any]:
    """The manifest of a sweep folder: the grid, every point's overrides, seed and replications."""
    return {
        "kind": "sweep",
        "scenario": base.scenario.name,
        "scenario_files": [str(f) for f in base.files],
        "overrides": overrides,
        "grid": grid,
        "points": points,
        "keep_tables": keep_tables,
        "complete": complete,
        "command": argv,
        "started": started,
        "finished": now() if complete else None,
        "versions": versions(),
    }


def history_manifest(
    loaded: LoadedScenario, reported: Path, *, root_seed: int, replications: int, argv: list[str]
) -> dict[str, Any]:
    """The manifest of a history check: the scenario, the reported figures' file and every seed."""
    return {
        "kind": "history",
        **scenario_entry(loaded),
        "model_sha256": model_digest(),
        "reported": str(reported),
        "root_seed": root_seed,
        "replications": replications,
        "seeds": seed_records(root_seed, replications),
        "command": argv,
        "created": now(),
        "versions": versions(),
    }


def calibration_manifest(
    loaded: LoadedScenario,
    reported: Path,
    *,
    root_seed: int,
    replications: int,
    final_replications: int,
    argv: list[str],
    fit: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of a calibration: the scenario, the reported figures' file, the seeds of the fit's
    evaluations (replications 0..R-1, common to all) and of its table, and what the fit did."""
    return {
        **scenario_entry(loaded),
        "kind": "calibration",
        "model_sha256": model_digest(),
        "reported": str(reported),
        "root_seed": root_seed,
        "replications": replications,
        "final_replications": final_replications,
        "seeds": seed_records(root_seed, max(replications, final_replications)),
        "fit": fit,
        "command": argv,
        "created": now(),
        "versions": versions(),
    }
