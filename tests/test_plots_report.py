"""Plots and the HTML report: drawn from saved results only, reproducible, readable in a real browser.

The results are made once per session by the real commands (a short run and a short comparison of the
minimal scenario with a policy that has a scheduled closure, a ban, random stoppages and a daily cap, so
every kind of shading and line is drawn). Everything else reads them.
"""

from __future__ import annotations

import ast
import base64
import html
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.analysis.metrics import metric_info
from sim.cli import main
from tests.conftest import ROOT, SCENARIOS

MINIMAL = str(SCENARIOS / "lang_son_minimal.yaml")
SHORT = ["--set", "run.horizon=96", "--set", "run.warmup=24"]
POLICY = f"""extends: {MINIMAL}
name: busy_policy
gates:
  huu_nghi:
    import: {{stages: {{customs: {{servers: 14}}}}}}
    closures:
      - {{start: 2021-06-03, end: 2021-06-03, stages: [china_side], reason: a scheduled closure}}
      - {{start: 2021-06-02T06:00:00, end: 2021-06-02T12:00:00, when: {{perishable: true}}, reason: a ban}}
    random_closures:
      {{rate_per_day: 0.5, duration_h: {{dist: deterministic, value: 6}}, stages: [china_side]}}
  tan_thanh:
    export: {{stages: {{china_side: {{daily_cap: 90}}}}}}
"""
KINDS = ["headline", "clearance", "backlog", "throughput", "stages"]
FIGURES = {
    "forest",
    "headline_clearance",
    "clearance_ecdf",
    "clearance_hist",
    "clearance_box",
    "backlog",
    "daily_trucks",
    "daily_value",
    "stage_breakdown",
}


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A run folder (2 replications) and a comparison folder (2 scenarios x 2 replications)."""
    root = tmp_path_factory.mktemp("saved")
    (root / "busy_policy.yaml").write_text(POLICY)
    here = Path.cwd()
    os.chdir(root)  # compare writes its run folders under ./results
    try:
        assert main(["run", MINIMAL, *SHORT, "--replications", "2", "--jobs", "2", "--out", "run"]) == 0
        assert (
            main(["compare", MINIMAL, "busy_policy.yaml", *SHORT, "--replications", "2", "--jobs", "2"]) == 0
        )
    finally:
        os.chdir(here)
    yield {"run": root / "run", "compare": root / "results" / "compare-lang_son_minimal-busy_policy"}


@pytest.fixture(scope="session")
def report(saved: dict[str, Path]) -> Path:
    """The report of the comparison, written by the command line (which also draws every figure)."""
    assert main(["report", str(saved["compare"])]) == 0
    page = saved["compare"] / "report" / "index.html"
    assert page.is_file()
    return page


# --------------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_each_plot_kind_renders_a_png_of_the_expected_size(
    kind: str, saved: dict[str, Path], tmp_path: Path
) -> None:
    from sim.present.plots import plot

    written = plot(saved["run"], [kind], out=tmp_path)
    assert written
    for w in written:
        assert w.png.stat().st_size > 10_000 and w.svg is not None and w.svg.stat().st_size > 10_000
        with Image.open(w.png) as im:
            assert im.format == "PNG"
            assert im.size == (w.width_px, w.height_px) == (1200, w.height_px)
            assert 300 <= im.size[1] <= 2400
            assert len(np.unique(np.asarray(im.convert("L")))) > 10  # something is drawn, not a blank
    assert {p.name for p in tmp_path.iterdir()} == {f.name for w in written for f in w.files}


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_comparison_gives_every_figure_and_plotting_twice_the_same_files(
    saved: dict[str, Path], report: Path
) -> None:
    plots = saved["compare"] / "plots"
    first = {p.name: p.read_bytes() for p in sorted(plots.iterdir())}
    assert set(first) == {f"{n}.{ext}" for n in FIGURES for ext in ("png", "svg")}
    assert main(["plot", str(saved["compare"])]) == 0
    second = {p.name: p.read_bytes() for p in sorted(plots.iterdir())}
    assert list(second) == list(first)
    assert [n for n in first if first[n] != second[n]] == []  # byte for byte: no dates, fixed hash salt


def test_plot_mistakes_are_user_errors(saved: dict[str, Path], tmp_path: Path) -> None:
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert main(["plot", str(tmp_path)]) == 2  # a folder, but not a results folder
    assert main(["plot", str(saved["run"]), "--kind", "pie"]) == 2
    assert main(["report", str(tmp_path)]) == 2


@pytest.mark.slow  # seconds of subprocesses or a browser: run by .ci/run with -m slow
def test_plots_and_report_run_with_the_model_unavailable(saved: dict[str, Path], tmp_path: Path) -> None:
    """In a fresh interpreter where importing the engine (SimPy and the model's network, resources and
    arrivals) or the runner fails, every plot and the report of a run folder are still written: they read
    saved results and nothing else. (The record layout, ``sim.model.records``, may be read: it names the
    tables.)"""
    blocked = ["simpy", "sim.model.network", "sim.model.resources", "sim.model.arrivals", "sim.runner"]
    code = f"""
import sys
for name in {blocked!r}:
    sys.modules[name] = None
from sim.cli import main
assert main(["plot", {str(saved["run"])!r}, "--out", {str(tmp_path / "figs")!r}]) == 0
assert main(["report", {str(saved["run"])!r}]) == 0
assert all(sys.modules[name] is None for name in {blocked!r})
loaded = sorted(m for m in sys.modules if m.startswith(("simpy.", "sim.runner.")))
assert not loaded, loaded
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "figs").glob("*.png"))) == len(FIGURES) - 1  # a run has no forest plot
    page = (saved["run"] / "report" / "index.html").read_text(encoding="utf-8")
    summary = pd.read_csv(saved["run"] / "summary.csv")
    for row in summary.itertuples():
        if np.isfinite(row.mean):
            assert html.escape(metric_info(row.metric).format(row.mean)) in page


def test_plot_and_report_modules_do_not_import_the_model() -> None:
    """The same rule, read from the source: no import of sim.model or sim.runner anywhere in them."""
    files = [
        *(ROOT / "sim" / "present" / "plots").glob("*.py"),
        ROOT / "sim" / "present" / "report.py",
        ROOT / "sim" / "scenario" / "sources.py",
    ]
    assert len(files) > 5
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            bad = [n for n in names if n.startswith(("sim.model", "sim.runner"))]
            assert not bad, f"{f.name} imports {bad}"


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class StrictParser(HTMLParser):
    """Parses the page and checks what a browser would otherwise forgive: every element closed, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.refs: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.refs.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()


def test_the_report_is_valid_html_and_references_only_existing_files(report: Path) -> None:
    parser = StrictParser()
    parser.feed(report.read_text(encoding="utf-8"))
    parser.close()
    assert parser.doctype
    assert parser.errors == [] and parser.stack == []
    images = [a for t, a in parser.tags if t == "img"]
    maps = [a for a in images if a["src"].endswith(".gif")]  # the animated maps: base and policy
    assert len(maps) == 2 and all((report.parent / a["src"]).is_file() for a in maps)
    assert len(images) == len(FIGURES) + len(maps) and all(a.get("alt") for a in images)
    for ref in parser.refs:
        if ref.startswith("#"):
            continue
        if ref.startswith("data:"):
            assert ref.startswith("data:image/png;base64,")
            assert base64.b64decode(ref.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
            continue
        url = urlparse(ref)
        assert url.scheme in ("", "file"), f"the page must open offline, but links to {ref}"
        assert (report.parent / unquote(url.path)).resolve().is_file(), f"{ref} does not exist"


def test_the_report_shows_the_numbers_of_the_comparison_csv(saved: dict[str, Path], report: Path) -> None:
    page = html.unescape(report.read_text(encoding="utf-8"))
    comp = pd.read_csv(saved["compare"] / "comparison.csv")
    checked = 0
    for row in comp.itertuples():
        fmt = metric_info(row.metric).format
        if np.isfinite(row.mean):
            if not np.isfinite(row.half_width):
                text = fmt(row.mean)
            elif row.interval == "quasi-Poisson":  # a count of trucks: its own ends, never below 0
                text = f"{fmt(row.mean)} ({fmt(row.ci_low)} to {fmt(row.ci_high)})"
                if row.ci_low == row.ci_high:
                    text = f"{fmt(row.mean)} (every replication)"
            else:
                text = f"{fmt(row.mean)} ± {fmt(row.half_width)}"
            assert text in page, (row.scenario, row.gate, row.direction, row.metric, text)
            checked += 1
        if row.role == "policy" and np.isfinite(row.diff):
            if row.diff_half_width == 0:  # no spread: said in words, never a zero-width '± 0' interval
                same = "no change in any replication" if row.diff == 0 else f"{fmt(row.diff)} in every"
                assert same in page
            else:
                assert f"{fmt(row.diff)} ± {fmt(row.diff_half_width)}" in page
    assert checked > 100
    assert "Huu Nghi" in page and "Tan Thanh" in page  # gate names as users write them
    assert "busy_policy.yaml" in page
    assert "daily_cap" in page  # the policy's changes are listed


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "chromium is not installed (.ci/run installs it with apt-get): no browser to load the report"
        )
    return found


PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    imgs[i].setAttribute('data-natural-width', imgs[i].naturalWidth);
    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  }
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-loaded', ok);
  document.body.setAttribute('data-result-tables', document.querySelectorAll('table.results').length);
});
</script>
"""


def _headless(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_headless_browser_loads_the_report_from_disk(report: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    # the same page plus a script that writes, once everything has loaded, what the browser made of it
    probe = report.with_name("probe.html")
    probe.write_text(
        report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    try:
        dom = _headless(
            chromium, tmp_path / "p1", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()
        )
    finally:
        probe.unlink()
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = StrictParser()
    parser.feed(dom.stdout)
    body = next(a for t, a in parser.tags if t == "body")
    images = len(FIGURES) + 2  # the figures and the animated maps of the base and the policy
    assert body.get("data-images") == str(images)
    assert body.get("data-images-loaded") == str(images)
    widths = [int(a["data-natural-width"] or 0) for t, a in parser.tags if t == "img"]
    assert len(widths) == images and all(w > 0 for w in widths)
    assert int(body.get("data-result-tables") or 0) >= 1
    assert "mean clearance time" in dom.stdout and "Δ vs base" in html.unescape(dom.stdout)

    shot = tmp_path / "report.png"
    done = _headless(
        chromium, tmp_path / "p2", f"--screenshot={shot}", "--window-size=1300,2400", report.as_uri()
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1300, 2400)
        assert len(np.unique(np.asarray(im.convert("L")))) > 50  # the page rendered text and figures


ORDER_PROBE = """<script>
window.addEventListener('load', function () {
  var b = document.body, first = document.querySelector('main section');
  b.setAttribute('data-first-section', first ? first.id : '');
  b.setAttribute('data-first-heading', first ? first.querySelector('h2').textContent : '');
  b.setAttribute('data-first-figure', document.images.length ? document.images[0].closest('figure').id : '');
  b.setAttribute('data-sentences', document.querySelectorAll('#decision ul.decision li').length);
  b.setAttribute('data-ranking-rows', document.querySelectorAll('#decision table.ranking tbody tr').length);
  var forest = document.getElementById('fig-forest');
  b.setAttribute('data-forest-top', forest ? Math.round(forest.getBoundingClientRect().top) : -1);
  var tables = document.querySelector('table.results');
  b.setAttribute('data-tables-top', tables ? Math.round(tables.getBoundingClientRect().top) : -1);
});
</script>
"""


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_report_opens_with_the_decision_summary_and_the_forest_plot(report: Path, tmp_path: Path) -> None:
    """In a real browser: the first section is the decision summary (sentences and a ranking of both
    scenarios), the first figure is the forest plot, and both come before the result tables."""
    chromium = _chromium()
    probe = report.with_name("probe-order.html")
    probe.write_text(
        report.read_text(encoding="utf-8").replace("</body>", ORDER_PROBE + "</body>"), encoding="utf-8"
    )
    try:
        dom = _headless(
            chromium,
            tmp_path / "p",
            "--virtual-time-budget=10000",
            "--window-size=1300,2400",
            "--dump-dom",
            probe.as_uri(),
        )
    finally:
        probe.unlink()
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = StrictParser()
    parser.feed(dom.stdout)
    body = next(a for t, a in parser.tags if t == "body")
    assert body.get("data-first-section") == "decision"
    assert body.get("data-first-heading") == "Decision summary"
    assert body.get("data-first-figure") == "fig-forest"
    assert int(body.get("data-sentences") or 0) >= 2
    assert body.get("data-ranking-rows") == "2"  # the base and the policy
    assert 0 < int(body.get("data-forest-top") or -1) < int(body.get("data-tables-top") or -1)
    text = html.unescape(dom.stdout)
    assert "busy_policy" in text and "mean clearance time (all gates, both directions)" in text
