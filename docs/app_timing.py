"""How long the what-if page takes from "Run" to results on screen (the README's numbers come from here).

    python docs/app_timing.py --window "month January 2021" --replications 4
    python docs/app_timing.py --window "whole period" --replications 4

Starts ``bordersim app`` on a free localhost port with an empty results folder (so the base runs too:
nothing is reused), drives Debian's chromium with Playwright (the 'app-test' extra), changes customs
servers at Huu Nghi (exports) from 8 to 10, clicks Run and waits for the summary, the figures (the
picked group's clearance time, the headline and backlog figures) and the map of the border. Prints the
seconds from the click to the summary and to all of them, and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
CUSTOMS = ".st-key-lv-lang_son_base_2021_calibrated-gates-huu_nghi-export-stages-customs-servers input"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--window", default="month January 2021", help="the start of the window's label")
    p.add_argument("--replications", type=int, default=4)
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the results")
    p.add_argument("--screenshot", type=Path, help="a PNG of the page once everything is shown")
    args = p.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = Path(tempfile.mkdtemp(prefix="bordersim-timing-"))
    server = subprocess.Popen(
        [sys.executable, "-m", "sim", "app", "--port", str(port), "--results-root", str(results)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_text("Levers", exact=True).wait_for(timeout=90_000)
            page.get_by_text("Levers", exact=True).wait_for(timeout=90_000)
            page.locator(".st-key-window button[aria-label='Open']").click()
            page.get_by_role("option").filter(has_text=args.window).first.click()
            expect(page.locator(".st-key-window input")).to_have_value(
                re.compile("^" + re.escape(args.window))
            )
            page.locator(".st-key-reps input").fill(str(args.replications))
            page.locator(".st-key-reps input").press("Enter")
            page.get_by_text("Huu Nghi: export").first.click()
            page.locator(CUSTOMS).fill("10")
            page.locator(CUSTOMS).press("Enter")
            expect(page.get_by_text("1 value(s) changed from the base")).to_be_visible(timeout=30_000)
            t0 = time.perf_counter()
            page.get_by_role("button", name="Run").click()
            table = page.get_by_text("Paired differences with 95% intervals")
            expect(table).to_be_visible(timeout=args.timeout * 1000)
            summary = time.perf_counter() - t0
            # the group's ECDF, the headline and backlog figures, and the map of the border
            expect(page.locator("[data-testid='stImage'] img")).to_have_count(4, timeout=300_000)
            seconds = time.perf_counter() - t0
            if args.screenshot:
                page.get_by_text("Effect:", exact=False).first.scroll_into_view_if_needed()
                page.screenshot(path=str(args.screenshot))
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    load = os.getloadavg()
    print(
        f"{args.window}, {args.replications} replications (base and policy): summary shown {summary:.1f} s "
        f"and every figure and the map {seconds:.1f} s after Run; load average {load[0]:.1f} on "
        f"{os.cpu_count()} cores; results in {results}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
