"""What is in the results store: every run, comparison, sweep and history check, with its state.

Read from the manifests and the files each kind of folder ends with (see :mod:`sim.store.layout`); nothing
here opens a table, so listing a store of many gigabytes takes a moment. A folder is ``complete`` when
every replication finished (or the comparison, sweep or check wrote its table), ``failed`` when a
replication failed and the run was not finished since, and ``partial`` otherwise (interrupted, or still
running). A folder whose manifest is damaged is listed as ``damaged`` with the reason, and the others
are listed as usual: one bad folder never hides the rest.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.store.layout import (
    COMPARISON,
    EVALUATIONS,
    FIT_TABLE,
    FORECAST_TABLE,
    HISTORY_MARKDOWN,
    HISTORY_TABLE,
    OBSERVED_TABLE,
    POSTERIOR_TABLE,
    ROBUST_TABLE,
    SENSITIVITY_TABLE,
    SUMMARY,
    SWEEP_SUMMARY,
    SWEEP_TABLE,
    UNCERTAINTY_BANDS,
    UNCERTAINTY_DRIVERS,
)
from sim.store.manifest import read_manifest

COMPLETE, PARTIAL, FAILED, DAMAGED = "complete", "partial", "failed", "damaged"
STUDY_TABLES = {  # kind -> its table
    "optimise": EVALUATIONS,
    "sensitivity": SENSITIVITY_TABLE,
    "forecast": FORECAST_TABLE,
    "uncertainty": UNCERTAINTY_BANDS,
    "robust": ROBUST_TABLE,
    "assimilate": POSTERIOR_TABLE,
}
COMPANION_TABLES = {"uncertainty": {"drivers": UNCERTAINTY_DRIVERS}}  # kind -> tables printed beside its own


@dataclass(frozen=True)
class Entry:
    """One results folder: what it is, how complete, of which scenario, how many replications, when."""

    kind: str  # run, comparison, sweep, history, calibration, or a study of STUDY_TABLES
    folder: str
    state: str  # complete, partial or failed
    scenario: str
    replications: int | None
    date: str  # local time it last changed, 'YYYY-MM-DD HH:MM'
    sort_key: float
    problem: str = ""  # why a damaged folder is damaged (the file and the field)

    def row(self) -> dict[str, Any]:
        """The entry as a table row (without the sort key and the problem)."""
        out = asdict(self)
        out.pop("sort_key")
        out.pop("problem")
        return out


def _when(folder: Path, manifest: dict[str, Any]) -> tuple[str, float]:
    for key in ("finished", "created", "started"):
        text = manifest.get(key)
        if text:
            try:
                stamp = datetime.fromisoformat(str(text))
                return stamp.strftime("%Y-%m-%d %H:%M"), stamp.timestamp()
            except ValueError:
                continue
    mtime = folder.stat().st_mtime
    return datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M"), mtime


def _entry(kind: str, folder: Path, manifest: dict[str, Any], state: str, scenario: str, reps: Any) -> Entry:
    date, key = _when(folder, manifest)
    return Entry(kind, str(folder), state, scenario, None if reps is None else int(reps), date, key)


def _run_state(manifest: dict[str, Any]) -> str:
    if manifest.get("complete"):
        return COMPLETE
    return FAILED if manifest.get("failed") else PARTIAL


def _comparison(folder: Path) -> Entry:
    m = read_manifest(folder) or {}
    names = [m.get("base", "?"), *m.get("policies", [])]
    state = COMPLETE if (folder / COMPARISON).is_file() and m else PARTIAL
    return _entry("comparison", folder, m, state, " vs ".join(map(str, names)), m.get("replications"))


def _history(folder: Path) -> Entry:
    m = read_manifest(folder) or {}
    done = (folder / HISTORY_TABLE).is_file() or (folder / OBSERVED_TABLE).is_file()
    state = COMPLETE if done else PARTIAL
    return _entry("history", folder, m, state, str(m.get("scenario", folder.name)), m.get("replications"))


def _sweep(folder: Path, m: dict[str, Any]) -> Entry:
    points = m.get("points") if isinstance(m.get("points"), list) else []
    state = COMPLETE if m.get("complete") and (folder / SWEEP_TABLE).is_file() else PARTIAL
    if state == PARTIAL:
        for p in sorted((folder / "points").glob("point-*")):
            if (read_manifest(p) or {}).get("failed"):
                state = FAILED
                break
    reps = sum(int(p.get("replications") or 0) for p in points if isinstance(p, dict)) or None
    return _entry("sweep", folder, m, state, str(m.get("scenario", "?")), reps)


def _damaged(folder: Path, exc: UserError) -> Entry:
    try:
        mtime = folder.stat().st_mtime
    except OSError:
        mtime = 0.0
    date = datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M")
    return Entry("?", str(folder), DAMAGED, "?", None, date, mtime, str(exc))


def _top_entry(top: Path) -> Entry | None:
    if top.name.startswith("compare-"):
        return _comparison(top)
    if read_manifest(top) is not None or kind_of(top) == "history":
        return _history(top)  # (a folder holding only a committed history.md is not a run)
    return None


def _folder_entry(folder: Path) -> Entry | None:
    """The entry of ``<root>/<scenario>/<folder>``, or None if it is not a results folder."""
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        return None
    if manifest.get("kind") in STUDY_TABLES:  # optimise, sensitivity: finished when they say so
        state = COMPLETE if manifest.get("finished") else PARTIAL
        scenario = _scenario_name(manifest.get("scenario"))
        return _entry(str(manifest["kind"]), folder, manifest, state, scenario, manifest.get("replications"))
    if manifest.get("kind") == "calibration":
        state = COMPLETE if (folder / FIT_TABLE).is_file() else PARTIAL
        reps = manifest.get("final_replications")
        return _entry("calibration", folder, manifest, state, str(manifest.get("scenario")), reps)
    if "grid" in manifest:
        return _sweep(folder, manifest)
    if "replications" in manifest:
        reps = manifest.get("replications")
        return _entry("run", folder, manifest, _run_state(manifest), str(manifest.get("scenario")), reps)
    return None


def catalog(root: Path) -> list[Entry]:
    """Every results folder under ``root``, newest first; a damaged one as such, with the reason."""
    root = Path(root)
    entries: list[Entry] = []
    if not root.is_dir():
        return entries

    def add(folder: Path, read: Callable[[Path], Entry | None]) -> None:
        try:
            entry = read(folder)
        except UserError as exc:
            entry = _damaged(folder, exc)
        if entry is not None:
            entries.append(entry)

    for top in root.iterdir():
        if not top.is_dir():
            continue
        if top.name.startswith(("compare-", "history-")):
            add(top, _top_entry)
            continue
        try:
            folders = sorted(top.iterdir())  # <root>/<scenario>/<run or sweep>
        except OSError as exc:  # a folder that cannot be read is listed as such, not the end of the list
            entries.append(
                _damaged(top, UserError.single(str(top), "", f"cannot read: {exc.strerror or exc}"))
            )
            continue
        for folder in folders:
            add(folder, _folder_entry)
    return sorted(entries, key=lambda e: -e.sort_key)


def _scenario_name(recorded: Any) -> str:
    """The scenario's name from a manifest, which records it as a name or as a block with its files."""
    return str(recorded.get("scenario", "?")) if isinstance(recorded, dict) else str(recorded)


def kind_of(folder: Path) -> str | None:
    """What a results folder holds: 'run', 'comparison', 'sweep', 'history', 'calibration', or None."""
    folder = Path(folder)
    m = read_manifest(folder) or {}
    if m.get("kind") in ("calibration", *STUDY_TABLES):
        return str(m["kind"])
    if (folder / COMPARISON).is_file() or "policies" in m:
        return "comparison"
    if "grid" in m or (folder / SWEEP_SUMMARY).is_file():
        return "sweep"
    if (folder / HISTORY_TABLE).is_file() or (folder / OBSERVED_TABLE).is_file() or "reported" in m:
        return "history"
    if "replications" in m:
        return "run"
    return None


@dataclass
class SavedSummary:
    """A finished study's summary as saved: the table the command printed when it finished, and what its
    title needs (scenario names with the base first, replications, root seed, a sweep's grid keys)."""

    kind: str
    folder: Path
    table: Any  # pandas.DataFrame
    names: list[str]
    replications: list[int]
    root_seed: int | None = None
    keys: list[str] | None = None
    observed: Any = None  # a history folder's observed comparison (pandas.DataFrame), if it has one
    observed_error: dict[str, Any] | None = None  # its summary error, from the manifest
    observed_title: str = ""
    table_file: Path | None = None  # the file ``table`` was read from
    manifest: dict[str, Any] = field(default_factory=dict)
    companions: dict[str, Any] = field(default_factory=dict)  # name -> a table printed beside it, if saved


def _not_finished(folder: Path, why: str) -> UserError:
    return UserError.single(str(folder), "", why)


def saved_summary(folder: Path) -> SavedSummary:
    """The summary of a finished run, comparison, sweep or history check, read from its files."""
    from sim.store.tables import read_csv  # (not at the top: listing the store opens no table)

    def summary_table(path: Path, *first: str) -> Any:
        cells = ("gate", "direction", "metric", "mean", "half_width")
        return read_csv(path, required=(*first, *cells), numeric=("mean", "half_width"))

    folder = Path(folder)
    if not folder.is_dir():
        raise _not_finished(folder, "no such results folder")
    kind = kind_of(folder)
    m = read_manifest(folder) or {}
    if kind == "comparison":
        names = [str(m.get("base")), *map(str, m.get("policies", []))]
        reps = int(m.get("replications") or 0)
        return SavedSummary(
            kind, folder, summary_table(folder / COMPARISON, "scenario"), names, [reps], m.get("root_seed")
        )
    if kind == "sweep":
        if not (folder / SWEEP_SUMMARY).is_file():
            raise _not_finished(
                folder, "the sweep is not finished: finish it with the same command plus --resume"
            )
        points = m.get("points") if isinstance(m.get("points"), list) else []
        reps = [int(p.get("replications") or 0) for p in points if isinstance(p, dict)] or [0]
        table = read_csv(folder / SWEEP_SUMMARY)
        return SavedSummary(kind, folder, table, [str(m.get("scenario"))], reps, keys=list(m.get("grid", {})))
    if kind == "history":
        reported = (folder / HISTORY_TABLE).is_file()
        table = read_csv(folder / HISTORY_TABLE) if reported else None
        names = list(dict.fromkeys(table["scenario"].astype(str))) if reported and "scenario" in table else []
        saved = SavedSummary(
            kind, folder, table, names, [int(m.get("replications") or 0)], m.get("root_seed")
        )
        seen = m.get("observed") or {}
        if (folder / OBSERVED_TABLE).is_file() and isinstance(seen.get("error"), dict):
            saved.observed = read_csv(folder / OBSERVED_TABLE, dtype={"date": str, "source": str})
            saved.observed_error = seen["error"]
            saved.observed_title = str(seen.get("title", "observed vs simulated"))
        if table is None and saved.observed is None:
            raise _not_finished(folder, "the history check is not finished: run it again")
        return saved
    if kind in ("calibration", *STUDY_TABLES):
        table_file = folder / (FIT_TABLE if kind == "calibration" else STUDY_TABLES[kind])
        finished = table_file.is_file() and (kind == "calibration" or bool(m.get("finished")))
        if not finished:
            why = "is missing" if not table_file.is_file() else "is from a study that did not finish"
            raise _not_finished(
                folder,
                f"{with_article(kind)} study that is not finished (its table {table_file.name} {why}): "
                f"{_again(m)}",
            )
        reps = m.get("final_replications") if kind == "calibration" else m.get("replications")
        return SavedSummary(
            kind,
            folder,
            read_csv(table_file),
            [_scenario_name(m.get("scenario"))],
            [int(reps or 0)],
            m.get("root_seed"),
            table_file=table_file,
            manifest=m,
            companions={
                name: read_csv(folder / file)
                for name, file in COMPANION_TABLES.get(kind, {}).items()
                if (folder / file).is_file()
            },
        )
    if kind is None and (folder / HISTORY_MARKDOWN).is_file():
        raise _not_finished(
            folder,
            "holds only history.md, the reported-vs-simulated table kept with the repository (read it as "
            "it is); bordersim validate-history SCENARIO checks a scenario again and writes its files here",
        )
    if kind == "run":
        if not (folder / SUMMARY).is_file():
            done = len(m.get("done", []))
            raise _not_finished(
                folder,
                f"the run is not finished ({done} of {m.get('replications')} replications): finish it "
                f"with {resume_command(folder, m)}",
            )
        reps = int(m.get("replications") or 0)
        return SavedSummary(
            kind,
            folder,
            summary_table(folder / SUMMARY),
            [str(m.get("scenario"))],
            [reps],
            m.get("root_seed"),
        )
    raise _not_finished(
        folder,
        "not a results folder: expected a folder written by bordersim (a run, comparison, sweep, history, "
        "calibration, optimise, sensitivity, uncertainty, forecast, robust or assimilate study)",
    )


def with_article(word: str) -> str:
    """'a sweep', 'an uncertainty', 'an optimise': the article a word takes (by its first letter)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _again(m: dict[str, Any]) -> str:
    """How to finish a study cut short: its command again, as its manifest recorded it."""
    command = m.get("command")
    if isinstance(command, list) and command:
        return f"finish it by running its command again: {shlex.join(map(str, command))}"
    return "finish it by running its command again"


def resume_command(folder: Path, m: dict[str, Any]) -> str:
    """The command that finishes a run cut short, from its manifest: the scenario file, every --set the
    run was made with, its seed and replications, then ``--out FOLDER --resume`` (leaving out a --set
    would be refused: the resumed scenario must be the same)."""
    words = ["bordersim", "run", str((m.get("scenario_files") or ["SCENARIO"])[0])]
    for assignment in m.get("overrides") or []:
        words += ["--set", str(assignment)]
    if m.get("root_seed") is not None:
        words += ["--seed", str(m["root_seed"])]
    if m.get("replications") is not None:
        words += ["--replications", str(m["replications"])]
    return shlex.join([*words, "--out", str(folder), "--resume"])
