"""The one writer of a calibrated scenario file: a small YAML that extends the scenario it was fitted on.

Both calibrations (the arrival scale alone, and the fit of free parameters) write through
:func:`calibrated_scenario_text`, so the two kinds of file read alike: a header saying how the file was
made, ``extends`` and ``name``, the command line's ``--set`` values (part of what was calibrated), the
run's seed and replications, then every value the calibration set, each marked as fitted. Values are
rounded to 8 significant digits and emitted with ``yaml.safe_dump``, so they load back exactly as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.documents import apply_override, set_dotted
from sim.scenario.loader import LoadedScenario

FITTED = "# fitted by bordersim calibrate (see the header)"
FROM_SET = "# --set when calibrated"

Key = tuple[str | int, ...]


def relative_extends(base: Path, out: Path) -> str:
    """``base`` as the calibrated file at ``out`` names it: relative to the file's folder when it can."""
    base = Path(base).resolve()
    try:
        return base.relative_to(Path(out).resolve().parent).as_posix()
    except ValueError:
        return base.as_posix()


def rounded(value: Any) -> Any:
    """Floats to 8 significant digits (lists and mappings too): enough for a fitted value, and stable."""
    if isinstance(value, float):
        return float(f"{value:.8g}")
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(rounded(value), default_flow_style=True, sort_keys=False, width=10_000)
    return text.strip().removesuffix("\n...").strip()


def _emit(node: dict[str, Any], marks: dict[Key, str], path: Key = ()) -> list[str]:
    out = []
    pad = "  " * len(path)
    for key, value in node.items():
        here = (*path, key)
        if isinstance(value, dict):
            out.append(f"{pad}{key}:")
            out += _emit(value, marks, here)
        else:
            mark = marks.get(here)
            out.append(f"{pad}{key}: {_scalar(value)}" + (f"    {mark}" if mark else ""))
    return out


def calibrated_scenario_text(
    loaded: LoadedScenario,
    out: Path,
    header: Sequence[str],
    fitted: Sequence[tuple[Key, Any]],
    *,
    seed: int,
    replications: int,
) -> str:
    """The calibrated file's text: it extends ``loaded``'s file and sets the ``fitted`` values."""
    body: dict[str, Any] = {}
    marks: dict[Key, str] = {}
    for assignment in loaded.overrides:
        apply_override(body, assignment, create=True)
        key = tuple(p for p in assignment.partition("=")[0].strip().split(".") if p)
        marks[key] = FROM_SET
    run = body.setdefault("run", {})
    run.update({"seed": seed, "replications": replications})
    for key, value in fitted:
        set_dotted(body, [str(p) for p in key], rounded(value), create=True)
        marks[tuple(str(p) for p in key)] = FITTED
    lines = ["# " + h if h else "#" for h in header]
    lines += [f"extends: {relative_extends(loaded.path, out)}", f"name: {loaded.scenario.name}_calibrated"]
    lines += _emit(body, marks)
    return "\n".join(lines) + "\n"
