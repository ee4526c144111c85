"""The HTML report of a study whose answer is a table: uncertainty, forecast, optimise, sensitivity,
robust, assimilate, calibration and history folders. ``bordersim report`` draws what the study's figures
show (the band and its drivers, the forecast fan, each policy over the input worth learning, the
posterior) and writes ``report/index.html``: the answer in words where the study has them (robust: the
robust ranking, the boxes where each policy fails, the value of information), the figures, every saved
table of the folder (its own first) and its manifest. Runs, comparisons and sweeps have their own page
(:mod:`sim.present.report`).

Autoescaped like every page: a cell of a saved table is text, never HTML."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from sim.groups import ALL
from sim.present.assimilate_text import hindcast_lines
from sim.present.plots.assimilate import assimilate_figures
from sim.present.plots.forecast import plot_forecast
from sim.present.plots.style import Written
from sim.present.plots.uncertainty import uncertainty_figures
from sim.present.robust_text import caution_lines, robust_block, robust_figure, summary_lines
from sim.store.atomic import make_folder, write_bytes_atomic
from sim.store.catalog import STUDY_TABLES
from sim.store.layout import FIGURE_DIRS, HINDCAST_TABLE
from sim.store.manifest import read_manifest
from sim.store.reader import manifest_text
from sim.store.tables import read_csv
from sim.studies.robust_result import RobustResult, load_robust
from sim.version import __version__

TEMPLATE = "study.html.j2"
MAX_ROWS = 500  # rows of one table on the page; the CSV beside it has them all


def _figures(
    kind: str, folder: Path, manifest: dict[str, Any], robust: RobustResult | None
) -> list[Written | Path]:
    """The study's figures, drawn from its saved tables where a figure exists for its kind."""
    plots = folder / FIGURE_DIRS[0]
    if kind == "uncertainty":
        return list(uncertainty_figures(folder, make_folder(plots), str(folder)))
    if kind == "forecast":
        drawn = plot_forecast(folder, str(manifest.get("direction") or ALL))
        return [p for p in drawn if p.suffix == ".png"]
    if robust is not None:
        return [p for p in robust_figure(robust) if p.suffix == ".png"]
    if kind == "assimilate":
        return list(assimilate_figures(folder))
    return sorted({*folder.glob("*.png"), *plots.glob("*.png")})  # as the study drew them (the tornado)


def _figure(item: Written | Path, report_dir: Path) -> dict[str, Any]:
    png = item.png if isinstance(item, Written) else item
    return {
        "title": item.title if isinstance(item, Written) else png.stem.replace("_", " "),
        "caption": item.caption if isinstance(item, Written) else "",
        "src": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii"),
        "png": os.path.relpath(png, report_dir).replace(os.sep, "/"),
    }


def _lead(kind: str, folder: Path, robust: RobustResult | None) -> list[str]:
    """The study's answer in sentences, where it has them (the same words as the terminal's)."""
    if robust is not None:
        return summary_lines(robust) + [f"Note: {line.rstrip('.')}." for line in caution_lines(robust)]
    if kind == "assimilate" and (folder / HINDCAST_TABLE).is_file():
        return hindcast_lines(read_csv(folder / HINDCAST_TABLE))
    return []


def _answer_tables(robust: RobustResult | None) -> list[dict[str, Any]]:
    """The study's answer as the terminal prints it (robust: the regret table of each headline metric),
    formatted cells, before the raw saved tables."""
    if robust is None:
        return []
    table = robust.summary
    if table.empty:
        return []
    blocks = [robust_block(rows, robust.target) for _, rows in table.groupby("metric", sort=False)]
    return [{"title": b.title, "headers": b.headers, "rows": b.rows, "caption": b.caption} for b in blocks]


def _tables(folder: Path, kind: str) -> list[dict[str, Any]]:
    """Every saved table of the folder (its CSV files), the study's own first."""
    out = []
    own = STUDY_TABLES.get(kind)
    for path in sorted(folder.glob("*.csv"), key=lambda p: (p.name != own, p.name)):
        table = read_csv(path)
        shown = table.head(MAX_ROWS)
        out.append(
            {
                "name": path.name,
                "headers": [str(c) for c in table.columns],
                "rows": [
                    ["-" if pd.isna(v) else str(v) for v in row] for row in shown.itertuples(index=False)
                ],
                "more": max(len(table) - len(shown), 0),
            }
        )
    return out


def build_study_report(folder: Path, kind: str) -> tuple[Path, list[Written | Path]]:
    """Draw the study's figures and write ``folder/report/index.html``; returns its path and its figures
    (those drawn now, and the PNGs the study drew itself, such as the tornado)."""
    manifest = read_manifest(folder) or {}
    robust = load_robust(folder) if kind == "robust" else None  # read once for its words and figure
    figures = _figures(kind, folder, manifest, robust)
    report_dir = make_folder(folder / FIGURE_DIRS[1])  # report/
    scenario = manifest.get("scenario")
    name = scenario.get("scenario", "?") if isinstance(scenario, dict) else scenario or folder.parent.name
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.present", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    html = environment.get_template(TEMPLATE).render(
        title=f"{kind.capitalize()} study: {name}",
        folder=str(folder),
        command=" ".join(map(str, manifest.get("command") or [])),
        lead=_lead(kind, folder, robust),
        answer=_answer_tables(robust),
        figures=[_figure(f, report_dir) for f in figures],
        tables=_tables(folder, kind),
        manifest=manifest_text(manifest),
        version=__version__,
    )
    target = report_dir / "index.html"
    write_bytes_atomic(target, html.encode("utf-8"))
    return target, figures
