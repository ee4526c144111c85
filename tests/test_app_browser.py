"""The what-if page in a real browser: ``bordersim app`` on a free localhost port, driven by Playwright on
Debian's chromium (Playwright's own browser download is not used).

The fast test (default suite) types a bad value and checks that the command line's message appears next
to the field and that Run is refused. The slow test changes customs servers at Huu Nghi, runs a month
with 2 replications, reads the summary and the figures, saves the policy, and reruns the saved file from
the command line to get the page's numbers. ``BORDERSIM_SCREENSHOTS=docs python -m pytest -m slow
tests/test_app_browser.py`` redraws the screenshots in docs/.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BASE_ID = "lang_son_base_2021_calibrated"
HN_CUSTOMS = f".st-key-lv-{BASE_ID}-gates-huu_nghi-export-stages-customs-servers"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """The page on a free port, with a copy of the scenarios (Save policy writes there) and an empty
    results folder; yields its address, the scenarios copy and the results folder."""
    pytest.importorskip("streamlit", reason="the page needs the 'app' extra: pip install -e '.[app]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no {CHROMIUM} (.ci/run installs Debian's chromium with apt-get): no browser to drive")
    pytest.importorskip("playwright", reason="the browser test needs the 'app-test' extra")
    scenarios = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, scenarios)
    results = tmp_path / "results"
    port = _free_port()
    log = open(tmp_path / "app.log", "wb")  # noqa: SIM115  (closed after the server stops)
    cmd = [sys.executable, "-m", "sim", "app", "--port", str(port), "--results-root", str(results),
           "--scenarios", str(scenarios)]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "app.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the page server did not answer within 90 s"
            time.sleep(0.3)
        yield url, scenarios, results
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def _browser(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)


def _open_levers(page, group: str) -> None:
    page.get_by_text("Levers", exact=True).wait_for(timeout=90_000)
    page.get_by_text(group, exact=False).first.click()


def _set(page, selector: str, value: str) -> None:
    box = page.locator(f"{selector} input")
    box.fill(value)
    box.press("Enter")


@pytest.mark.slow  # seconds of subprocesses or a browser: run by .ci/run with -m slow
def test_a_bad_value_is_reported_next_to_its_field_and_blocks_run(app) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _, results = app
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        _open_levers(page, "Hữu Nghị: export")
        expect(page.locator(HN_CUSTOMS + " input")).to_have_value("8")  # the base value
        _set(page, HN_CUSTOMS, "-2")
        # the loader's message, as `bordersim validate` prints it, in the field's own column
        message = "must be a whole number of servers, at least 1, or 'unlimited' (got -2)"
        column = page.locator("[data-testid='stColumn']").filter(has=page.locator(HN_CUSTOMS))
        expect(column.get_by_text(message)).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Run")).to_be_disabled()
        _set(page, HN_CUSTOMS, "10")
        expect(column.get_by_text(message)).to_have_count(0, timeout=30_000)
        expect(page.get_by_role("button", name="Run")).to_be_enabled()
        expect(page.get_by_text("1 value(s) changed from the base")).to_be_visible()
        browser.close()
    assert not results.exists()  # nothing ran, nothing was written


@pytest.mark.slow
def test_change_customs_servers_run_save_and_rerun_from_the_command_line(app, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, scenarios, results = app
    shots = os.environ.get("BORDERSIM_SCREENSHOTS")
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        _open_levers(page, "Hữu Nghị: export")
        _set(page, ".st-key-reps", "2")
        _set(page, HN_CUSTOMS, "10")
        page.locator(".st-key-name input").fill("hn_customs_10")
        page.locator(".st-key-name input").press("Enter")
        expect(page.get_by_text("1 value(s) changed from the base")).to_be_visible(timeout=30_000)
        if shots:
            page.screenshot(path=str(Path(shots) / "app_levers.png"))
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("replications ·")).to_be_visible(timeout=60_000)
        page.reload()  # the run goes on and the page finds it again (its folder is in the address)
        expect(page.get_by_text("Effect: Hữu Nghị, export")).to_be_visible(timeout=240_000)
        # the group's ECDF, the headline and backlog figures, the map of the border
        figures = page.locator("[data-testid='stImage'] img")
        expect(figures).to_have_count(4, timeout=60_000)
        for i in range(4):  # loaded once scrolled to (images below the fold load lazily)
            figures.nth(i).scroll_into_view_if_needed()
            loaded = "img => img.complete && img.naturalWidth > 0"
            deadline = time.monotonic() + 30
            while not figures.nth(i).evaluate(loaded) and time.monotonic() < deadline:
                time.sleep(0.3)
            assert figures.nth(i).evaluate(loaded)
        expect(page.get_by_text("mean clearance time (h)").first).to_be_visible()
        # the decision summary's sentence on the policy, as compare prints it
        sentence = re.compile(r"hn_customs_10 (cuts|raises|changes|has no clear effect|leaves)")
        expect(page.get_by_text(sentence).first).to_be_visible()
        if shots:
            page.screenshot(path=str(Path(shots) / "app_results.png"))
            page.get_by_text("Clearance times and backlog").scroll_into_view_if_needed()
            page.screenshot(path=str(Path(shots) / "app_figures.png"))
        page.get_by_role("button", name="Save policy").click()
        expect(page.get_by_text(re.compile(r"^saved /"))).to_be_visible(timeout=30_000)
        browser.close()

    saved = scenarios / "lang_son" / "hn_customs_10.yaml"
    loaded = load_scenario(saved)  # it validates, extends the base and has the edit
    assert loaded.files[1] == (scenarios / "lang_son" / "base_2021_calibrated.yaml").resolve()
    assert loaded.scenario.gates["huu_nghi"].export.stages["customs"].servers == 10
    folder = next(results.glob("whatif-*-hn_customs_10"))
    page_numbers = pd.read_csv(folder / "comparison.csv")
    manifest_cmd = next(
        ln for ln in saved.read_text(encoding="utf-8").splitlines() if ln.startswith("# Rerun:")
    )
    args = manifest_cmd.removeprefix("# Rerun: bordersim ").split()
    out = tmp_path / "cli"
    assert main([*args, "--results-root", str(out), "--out", str(out / "c")]) == 0
    cli_numbers = pd.read_csv(out / "c" / "comparison.csv")
    pd.testing.assert_frame_equal(page_numbers, cli_numbers)
    hn = cli_numbers[(cli_numbers.gate == "huu_nghi") & (cli_numbers.direction == "export")]
    paired = hn[(hn.role == "policy") & hn.modelled.astype(bool)]  # a metric not modelled has no pairs
    assert len(paired) > 10 and (paired.n_pairs == 2).all()
