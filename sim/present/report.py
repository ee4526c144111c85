"""The policy report (``bordersim report``): one HTML page a planner opens in a browser, no server.

It puts together what the other commands saved: the figures (drawn by :mod:`sim.present.plots`, embedded in
the page as PNG data, with links to the SVG files beside it), the comparison tables with their confidence
intervals (read from ``comparison.csv``, or ``summary.csv`` for a single run), each scenario's key
parameters with the source cited beside them in the scenario files, what each policy changes, and the
manifests. Like the plots it reads results only: it never runs the model.

The page is rendered from the Jinja2 template ``sim/present/templates/report.html.j2`` (autoescaped),
written to ``<folder>/report/index.html``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import yaml

from sim.analysis.decision import decide, settings
from sim.analysis.metrics import metric_info, summarize_metrics
from sim.analysis.stability import INSIDE_SHARE_LIMIT, SHARE, unstable_flows
from sim.errors import UserError
from sim.groups import ALL
from sim.present.animate import animate_run
from sim.present.cells import interval_text, ref_group
from sim.present.comparison_text import wide
from sim.present.decision_text import decision_sentences, ranking_rows, threshold_text
from sim.present.plots import PLOTS_DIR, plot_study
from sim.present.plots.style import Written
from sim.present.study_report import build_study_report
from sim.scenario import Scenario
from sim.scenario.schema import DIRECTIONS, Hours, Stage
from sim.scenario.sources import Key, header_comment, source_of
from sim.store.atomic import make_folder, write_bytes_atomic
from sim.store.catalog import STUDY_TABLES, kind_of
from sim.store.layout import SUMMARY, SWING_TABLE
from sim.store.reader import RunData, Study, load_study, manifest_text
from sim.store.tables import read_csv
from sim.version import __version__

REPORT_DIR = "report"
TEMPLATE = "report.html.j2"
MAX_CHANGES = 80  # rows of "what the policy changes" shown before the rest is summarised
SKIP_IN_CHANGES = {("name",), ("description",)}


@dataclass
class Table:
    """A table as the template draws it: headers, rows of cells and which cells are significant."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    marks: list[list[bool]]
    open: bool = False


# --------------------------------------------------------------------------------------------------
# tables of results
# --------------------------------------------------------------------------------------------------
def _comparison_frame(study: Study) -> pd.DataFrame:
    """The comparison as saved (comparison.csv), or a single run's summary.csv in the same shape."""
    if study.comparison is not None:
        return study.comparison
    if study.summary is None:
        raise UserError.single(str(study.folder), SUMMARY, "missing: the run is not complete yet")
    return study.summary.assign(scenario=study.names[0], role="base")


def stability_warnings(study: Study) -> list[str]:
    """A sentence per scenario with flows where many trucks were still inside at the horizon (or still held
    upstream, where holding is modelled: :mod:`sim.analysis.stability` counts them as not through)."""
    comp = _comparison_frame(study).astype({"gate": str, "direction": str})
    out = []
    for name, rows in comp.groupby("scenario", sort=False):
        flagged = unstable_flows(rows)
        flagged = flagged[(flagged["gate"] != ALL) & (flagged["direction"] != ALL)]
        if not flagged.empty:
            where = ", ".join(
                f"{study.gate_label(g)} {d} ({s:.0%})"
                for g, d, s in zip(flagged["gate"], flagged["direction"], flagged[SHARE], strict=True)
            )
            out.append(
                f"{name}: more than {INSIDE_SHARE_LIMIT:.0%} of the trucks were still inside at the horizon "
                f"(or still held upstream) at {where}. Either the horizon is short next to the clearance "
                "times, or arrivals exceed what these gates clear and the backlog grows without bound; "
                "clearance times describe the trucks that cleared only and depend on the horizon."
            )
    return out


def _group_title(study: Study, gate: str, direction: str) -> str:
    where = "All gates" if gate == ALL else study.gate_label(gate)
    how = "both directions" if direction == ALL else direction
    return f"{where}, {how}"


SWEEP_METRICS = (
    "mean_clearance_h",
    "p95_clearance_h",
    "cleared_per_day",
    "cleared_value_usd",
    "peak_backlog",
)


def sweep_tables(study: Study) -> list[Table]:
    """A sweep: one row per grid point, its values and the province's headline metrics with intervals."""
    sweep = study.sweep
    table = sweep.table
    part = table[(table["gate"] == ALL) & (table["direction"] == ALL)]
    summary = summarize_metrics(part, by=["point", *sweep.axes, "metric"])
    points = summary.drop_duplicates("point").sort_values("point")
    metrics = [m for m in SWEEP_METRICS if m in set(summary["metric"])]
    headers = ["point", *sweep.axes, *(f"{metric_info(m).label} ({metric_info(m).unit})" for m in metrics)]
    rows, marks = [], []
    for _, pt in points.iterrows():
        cells = [str(pt["point"]), *(str(pt[a]) for a in sweep.axes)]
        for m in metrics:
            hit = summary[(summary["point"] == pt["point"]) & (summary["metric"] == m)]
            if hit.empty:
                cells.append("-")
                continue
            r = hit.iloc[0]
            if pd.isna(r["mean"]):  # the scenario does not model it: never a 0 that looks measured
                cells.append("not modelled")
                continue
            cells.append(interval_text(r, metric_info(m).format))
        rows.append(cells)
        marks.append([False] * len(cells))
    return [Table("Every grid point: all gates, both directions", headers, rows, marks, open=True)]


def result_tables(study: Study) -> list[Table]:
    """The comparison tables of the report: the province first, then each gate and direction."""
    if study.kind == "sweep":
        return sweep_tables(study)
    comp = _comparison_frame(study)
    comp = comp.astype({"gate": str, "direction": str})
    groups = list(dict.fromkeys(zip(comp["gate"], comp["direction"], strict=True)))
    gate_order = [*study.gates(), ALL]
    direction_order = [ALL, "export", "import"]

    def order(g: tuple[str, str]) -> tuple:
        """The province first, then each gate in the scenario's order (both directions, export,
        import), then all gates per direction."""
        gate, direction = g
        where = gate_order.index(gate) if gate in gate_order else len(gate_order)
        how = direction_order.index(direction) if direction in direction_order else 9
        return (g != (ALL, ALL), where, how, g)

    groups.sort(key=order)
    tables = []
    for gate, direction in groups:
        headers, rows, marks = wide(comp, study.names, gate, direction)
        # each Δ column stands right of its policy's column: "Δ vs base" says all, and keeps the table narrow
        headers = [h if not h.startswith("Δ ") else "Δ vs base" for h in headers]
        tables.append(Table(_group_title(study, gate, direction), headers, rows, marks, open=not tables))
    return tables


# --------------------------------------------------------------------------------------------------
# scenario parameters and their sources
# --------------------------------------------------------------------------------------------------
def _files(run: RunData, study: Study) -> list[Path]:
    for entry in study.manifest.get("scenarios") or []:
        if entry.get("name") == run.name:
            return [Path(f) for f in entry.get("files") or []]
    return [Path(f) for f in run.manifest.get("scenario_files") or []]


def _overrides(run: RunData, study: Study) -> list[str]:
    for entry in study.manifest.get("scenarios") or []:
        if entry.get("name") == run.name:
            return list(entry.get("overrides") or [])
    return list(run.manifest.get("overrides") or [])


def _hours_text(hours: Hours | None) -> str:
    if hours is None:
        return "always open"
    text = ", ".join(hours.windows) or "closed"
    if len(hours.days) < 7:
        text += " " + "/".join(d.capitalize() for d in hours.days)
    if hours.closed:
        text += f"; {len(hours.closed)} closed period{'s' if len(hours.closed) > 1 else ''}"
    return text


def _conditions(when: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in when.items())


def _src(files: list[Path], *key: str) -> str:
    found = source_of(files, tuple(key))
    return str(found) if found else ""


def key_parameters(run: RunData, files: list[Path]) -> Table:
    """Per gate: yard, shared pools and each stage's servers, hours, cap and service, with sources."""
    unit = {"hours": "h", "minutes": "min", "days": "d"}[run.scenario.run.time_unit]
    rows = []
    for g, spec in run.gates.items():
        label = run.gate_label(g)
        cap = spec.yard.capacity
        yard = f"{cap} trucks" if cap else "unlimited"
        rows.append([label, "", "yard", yard, "", "", "", _src(files, "gates", g, "yard", "capacity")])
        for d in DIRECTIONS:  # a direction's own yard or zone (not shared)
            own = spec.flow(d).yard if spec.flow(d) is not None else None  # type: ignore[union-attr]
            if own is not None:
                text = f"{own.capacity} trucks" if own.capacity else "unlimited"
                rows.append(
                    [label, d, "own yard", text, "", "", "", _src(files, "gates", g, d, "yard", "capacity")]
                )
        for rname, pool in spec.resources.items():
            rows.append(
                [
                    label,
                    "both",
                    f"{rname} (shared pool)",
                    str(pool.servers),
                    _hours_text(pool.hours),
                    str(pool.daily_cap or ""),
                    "",
                    _src(files, "gates", g, "resources", rname, "servers"),
                ]
            )
        for d in DIRECTIONS:
            flow = spec.flow(d)
            for sname, st in (flow.stages if flow is not None else {}).items():
                rows.append(_stage_row(files, label, g, d, sname, st, unit))
    headers = ["gate", "direction", "stage / pool", "servers", "hours", "daily cap", "service time", "source"]
    return Table("Key parameters", headers, rows, [[False] * len(headers) for _ in rows])


def _stage_row(files: list[Path], label: str, g: str, d: str, sname: str, st: Stage, unit: str) -> list[str]:
    servers: object = st.servers
    if st.resource:
        servers = f"pool: {st.resource}"
    elif servers == "unlimited":
        servers = "unlimited (a delay)"
    if st.green_lane is not None:
        servers = f"{servers} + green lane {st.green_lane.servers}"
    extra = []
    if st.applies_to:
        extra.append("only " + _conditions(st.applies_to))
    if st.priority:
        extra.append("priority: " + "; ".join(_conditions(p.when) for p in st.priority))
    if st.service_when:
        extra.append(f"+{len(st.service_when)} service rule(s)")
    service = st.service.describe(unit) + (f" ({'; '.join(extra)})" if extra else "")
    key = ("servers",) if st.servers is not None and not st.resource else ("service",)
    return [
        label,
        d,
        sname.replace("_", " "),
        str(servers),
        _hours_text(st.hours) if not st.resource else "pool's hours",
        str(st.daily_cap or ""),
        service,
        _src(files, "gates", g, d, "stages", sname, *key),
    ]


def _flatten(data: Any, prefix: Key = ()) -> dict[Key, Any]:
    if isinstance(data, dict) and data:
        out: dict[Key, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, (*prefix, str(k))))
        return out
    return {prefix: data}


def _value_text(v: Any) -> str:
    """A scenario value as its YAML reads: '07:00-18:00', '[]', '{when: {perishable: true}}'."""
    if v is None:
        return "—"
    if isinstance(v, list) and all(isinstance(x, str | int | float) for x in v):
        return ", ".join(map(str, v)) if v else "[]"
    if isinstance(v, list | dict):
        return yaml.safe_dump(v, default_flow_style=True, sort_keys=False, width=10_000).strip()
    return str(v)


def changes(base: RunData, run: RunData, files: list[Path]) -> tuple[list[list[str]], int]:
    """What a policy changes from the base: key, base value, policy value, source (at most MAX_CHANGES)."""
    a, b = _flatten(_as_data(base.scenario)), _flatten(_as_data(run.scenario))
    keys = [k for k in dict.fromkeys([*a, *b]) if k not in SKIP_IN_CHANGES and a.get(k) != b.get(k)]
    rows = []
    for k in keys[:MAX_CHANGES]:
        rows.append([".".join(k), _value_text(a.get(k)), _value_text(b.get(k)), _src(files, *k)])
    return rows, max(0, len(keys) - MAX_CHANGES)


def _as_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario as its resolved YAML reads (keys as written, defaults filled)."""
    return scenario.model_dump(mode="json", by_alias=True)


def _derived_arrivals(run: RunData) -> list[list[str]]:
    """Arrival rates the scenario derives from trade value (trucks/day in the peak month)."""
    return [[name, f"{arr.rate:.3f}"] for name, arr in run.scenario.derived_arrivals.items()]


def scenario_context(study: Study) -> list[dict[str, Any]]:
    """What the report says about each scenario: its files, key parameters and their sources."""
    out = []
    for k, run in study.iter_runs():
        files = _files(run, study)
        policy_rows, more = changes(study.base, run, files) if k > 0 else ([], 0)
        out.append(
            {
                "name": run.name,
                "role": "base" if k == 0 else "policy",
                "description": run.scenario.description.strip(),
                "files": [
                    {"path": str(f), "exists": f.is_file(), "header": header_comment(f)} for f in files
                ],
                "overrides": _overrides(run, study),
                "folder": str(run.folder),
                "replications": len(run.replications),
                "window": _window(run),
                "parameters": key_parameters(run, files) if k == 0 else None,
                "arrivals": _derived_arrivals(run) if k == 0 else [],
                "changes": policy_rows,
                "more_changes": more,
                "manifest": manifest_text(run.manifest),
            }
        )
    return out


def _window(run: RunData) -> str:
    end = run.start + timedelta(hours=run.horizon * run.unit_hours)
    warm = run.warmup * run.unit_hours
    text = f"{run.start:%d %b %Y %H:%M} to {end:%d %b %Y %H:%M} ({run.days:g} days)"
    if warm:
        text += f"; the first {warm:g} h are a warm-up, left out of the statistics"
    return text


# --------------------------------------------------------------------------------------------------
# figures and page
# --------------------------------------------------------------------------------------------------
def _figure(w: Written, report_dir: Path) -> dict[str, Any]:
    data = base64.b64encode(w.png.read_bytes()).decode("ascii")
    svg = os.path.relpath(w.svg, report_dir) if w.svg is not None else None
    png = os.path.relpath(w.png, report_dir)
    return {
        "name": w.name,
        "title": w.title,
        "caption": w.caption,
        "src": f"data:image/png;base64,{data}",
        "png": png.replace(os.sep, "/"),
        "svg": svg.replace(os.sep, "/") if svg else None,
        "width": w.width_px,
        "height": w.height_px,
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sim.present", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _title(study: Study) -> str:
    if study.kind == "sweep":
        return f"Sweep: {', '.join(study.sweep.axes)}"
    if study.kind == "comparison":
        return f"Policy comparison: {study.names[0]} (base) vs {', '.join(study.names[1:])}"
    return f"Run report: {study.names[0]}"


def decision_context(study: Study) -> dict[str, Any] | None:
    """The decision summary of a comparison (sentences and ranking), as saved settings asked for it."""
    if study.kind != "comparison" or study.comparison is None:
        return None
    objective, thresholds = settings(study.manifest)
    swing_file = Path(study.folder) / SWING_TABLE  # compare --swing's runs, when it was asked for
    swings = read_csv(swing_file) if swing_file.is_file() else None
    rate = study.base.scenario.exchange_rate  # the base's: VND beside USD where it states one
    decision = decide(study.comparison, objective, thresholds, swings=swings, rate=rate)
    headers, rows = ranking_rows(decision)
    return {
        "sentences": decision_sentences(decision),
        "headers": headers,
        "rows": rows,
        "objective": f"{decision.objective.label} ({ref_group(decision.objective)})",
        "thresholds": [f"{metric_info(k).label}: {threshold_text(t, k)}" for k, t in thresholds.items()],
    }


def maps(study: Study, out: Path, report_dir: Path) -> list[dict[str, Any]]:
    """The animated maps of the border (:mod:`sim.present.animate`), day by day: the base's, and for a
    comparison the first policy's beside it. Written beside the page and linked, not inlined: a year is
    a few megabytes of GIF. A run saved without its backlog series has no map, and says nothing."""
    if study.kind not in ("run", "comparison"):
        return []
    out_maps = []
    for run in study.runs[:2]:
        try:
            done = animate_run(run, out / f"map_{run.name}.gif")
        except UserError:
            continue
        out_maps.append(
            {
                "name": run.name,
                "src": os.path.relpath(done.path, report_dir).replace(os.sep, "/"),
                "alt": f"Animated map of the Lang Son gates for {run.name}: trucks waiting outside and in "
                f"each gate's yard per direction, day by day ({done.frames} days), with closures",
                "frames": done.frames,
            }
        )
    return out_maps


def render(
    study: Study, figures: Iterable[Written], report_dir: Path, animated: list[dict[str, Any]] | None = None
) -> str:
    """The report page as HTML: figures, animated maps, tables, scenarios and manifests."""
    m = study.manifest
    reps = sorted({len(r.replications) for r in study.runs})
    context = {
        "title": _title(study),
        "kind": study.kind,
        "folder": str(study.folder),
        "names": study.names,
        "replications": "/".join(map(str, reps)),
        "root_seed": m.get("root_seed"),
        "window": _window(study.base),
        "command": " ".join(map(str, m.get("command") or [])),
        "figures": [_figure(w, report_dir) for w in figures],
        "tables": result_tables(study),
        "warnings": stability_warnings(study) if study.kind != "sweep" else [],
        "scenarios": scenario_context(study) if study.kind != "sweep" else [],
        "manifest": manifest_text(m),
        "version": __version__,
        "confidence": f"{100 * float(m.get('confidence') or 0.95):g}%",
        "decision": decision_context(study),
        "fewest_replications": min((len(r.replications) for r in study.runs), default=0),
        "maps": animated or [],
    }
    return _environment().get_template(TEMPLATE).render(**context)


def build_report(folder: str | Path) -> tuple[Path, list[Written | Path]]:
    """Draw the figures into ``folder/plots`` and write ``folder/report/index.html``; returns its path."""

    folder = Path(folder)
    kind = kind_of(folder) if folder.is_dir() else None
    if kind in ("calibration", "history", *STUDY_TABLES) and not (folder / "scenario.yaml").is_file():
        return build_study_report(folder, str(kind))
    study = load_study(folder)
    figures = plot_study(study, folder / PLOTS_DIR)
    report_dir = folder / REPORT_DIR
    make_folder(report_dir)
    html = render(study, figures, report_dir, maps(study, report_dir, report_dir))
    target = report_dir / "index.html"
    write_bytes_atomic(target, html.encode("utf-8"))
    return target, figures
