"""The what-if page explains itself (issue 23), checked in Debian's chromium with Playwright: the purpose,
levers named as labelled in messages, whole numbers and percentages, groups that stay open, Save and
Download disabled while a lever is invalid, bad ``?job=`` and policy names refused with a message, Run
at phone width, caption contrast, the run-time estimate; and, with a run, time left, Cancel, figures'
alt text and the stale mark. Skipped, with the reason, without chromium or Playwright."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.decision import DEFAULT_OBJECTIVE
from sim.analysis.metrics import metric_info
from sim.app.guide import contrast
from tests.test_app_browser import BASE_ID, HN_CUSTOMS, _browser, _open_levers, _set, app  # noqa: F401

PREDECLARED = f".st-key-lv-{BASE_ID}-truck_classes-"


def _rgb_hex(css: str) -> str:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _no_traceback(page) -> None:
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and "OSError" not in text


@pytest.mark.slow
def test_the_page_explains_itself_and_refuses_bad_input_with_messages(app) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, _, results = app
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        expect(page.get_by_text("run it against the unchanged base")).to_be_visible(timeout=90_000)
        expect(page.get_by_text("trucks to simulate")).to_be_visible()
        # captions (base values, sources) at WCAG AA contrast
        caption = page.locator("[data-testid='stCaptionContainer']").first
        colour = _rgb_hex(caption.evaluate("e => getComputedStyle(e).color"))
        assert contrast(colour) >= 4.5, colour
        _open_levers(page, "Hữu Nghị: export")
        _set(page, HN_CUSTOMS, "8.5")
        column = page.locator("[data-testid='stColumn']").filter(has=page.locator(HN_CUSTOMS))
        message = column.get_by_text("must be a whole number (got 8.5)")
        expect(message).to_be_visible(timeout=30_000)
        expect(column.get_by_text("customs: servers", exact=False).first).to_be_visible()
        assert "gates.huu_nghi" not in column.inner_text()
        expect(page.get_by_role("button", name="Run")).to_be_disabled()
        expect(page.get_by_role("button", name="Save policy")).to_be_disabled()
        expect(page.get_by_role("button", name="Download policy YAML")).to_be_disabled()
        # the group stayed open through the edit
        expect(page.locator(HN_CUSTOMS + " input")).to_be_visible()
        _set(page, HN_CUSTOMS, "-2")
        expect(column.get_by_text("Hữu Nghị: export · customs: servers")).to_be_visible(timeout=30_000)
        _set(page, HN_CUSTOMS, "10")
        expect(page.get_by_role("button", name="Download policy YAML")).to_be_enabled(timeout=30_000)
        expect(page.locator(HN_CUSTOMS + " input")).to_be_visible()
        # a share as a percentage: 95 is accepted, 150 refused in percent
        page.get_by_text("Trucks", exact=True).first.click()
        share = page.locator(f"[class*='{PREDECLARED.removeprefix('.')}']").first
        expect(share.locator("input")).to_be_visible(timeout=30_000)
        expect(share.get_by_text("(% of trucks)")).to_be_visible()
        share.locator("input").fill("95")
        share.locator("input").press("Enter")
        expect(page.get_by_text("2 value(s) changed from the base")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Run")).to_be_enabled()
        share.locator("input").fill("150")
        share.locator("input").press("Enter")
        expect(page.get_by_text("a share of trucks is 0 to 100% (got 150%)")).to_be_visible(timeout=30_000)
        share.locator("input").fill("95")
        share.locator("input").press("Enter")
        # closures as a table of dates, not YAML to type
        _open_levers(page, "Hữu Nghị: gate")
        table = page.locator(f".st-key-lv-{BASE_ID}-gates-huu_nghi-closures")
        expect(table).to_be_visible(timeout=30_000)
        expect(table.locator("textarea")).to_have_count(0)
        assert "!!timestamp" not in page.locator("body").inner_text()
        # a policy name of 300 characters: a message, no traceback, nothing runs
        page.locator(".st-key-name input").fill("x" * 300)
        page.locator(".st-key-name input").press("Enter")
        expect(page.get_by_text("Policy name:").first).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Run")).to_be_disabled()
        _no_traceback(page)
        # odd and long ?job= values
        for job in ("..", "y" * 300, "whatif-nothing-here"):
            page.goto(f"{url}/?job={job}")
            expect(
                page.get_by_text(re.compile("not a run of this page|at most 150|no run named"))
            ).to_be_visible(timeout=60_000)
            _no_traceback(page)
        # a phone: Run is in the page, not only in the collapsed sidebar
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(url)
        run = phone.get_by_role("button", name="Run")
        expect(run).to_be_visible(timeout=90_000)
        run.scroll_into_view_if_needed()
        box = run.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        browser.close()
    assert not results.exists() or not any(results.iterdir())


@pytest.mark.slow
def test_a_run_shows_time_left_alt_text_and_goes_stale_and_another_is_cancelled(app) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, _, results = app
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        _open_levers(page, "Hữu Nghị: export")
        _set(page, ".st-key-reps", "2")
        _set(page, HN_CUSTOMS, "10")
        page.locator(".st-key-name input").fill("hn10")
        page.locator(".st-key-name input").press("Enter")
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text(re.compile(r"^Time left: about \d"))).to_be_visible(timeout=120_000)
        expect(page.get_by_text("Effect: Hữu Nghị, export")).to_be_visible(timeout=300_000)
        # the group's ECDF, the headline and backlog figures, the map of the border
        figures = page.locator("[data-testid='stImage'] img")
        expect(figures).to_have_count(4, timeout=120_000)
        for i in range(4):
            assert (figures.nth(i).get_attribute("alt") or "").strip()
        assert "Hữu Nghị, exports" in (figures.nth(0).get_attribute("alt") or "")  # follows the group picked
        expect(page.get_by_text("The border, day by day")).to_be_visible()
        assert "Map of the gates on" in (figures.nth(3).get_attribute("alt") or "")
        expect(page.get_by_role("button", name="Download summary and differences (.xlsx)")).to_be_visible()
        page.get_by_role("button", name="Write report").click()
        expect(page.get_by_text("report written:")).to_be_visible(timeout=180_000)
        expect(page.get_by_text("Saved runs (1)")).to_be_visible()
        expect(page.get_by_text("Stale:")).to_have_count(0)
        _set(page, HN_CUSTOMS, "11")
        expect(page.get_by_text("Stale:")).to_be_visible(timeout=30_000)
        # the measured speed now gives an estimate in time
        expect(page.get_by_text("Estimated run time: about")).to_be_visible(timeout=30_000)
        # a whole-period run (a year: minutes), cancelled
        page.locator(".st-key-window button[aria-label='Open']").click()
        page.get_by_role("option").filter(has_text="whole period").first.click()
        expect(page.locator(".st-key-window input")).to_have_value(re.compile("^whole period"))
        page.locator(".st-key-name input").fill("hn11")
        page.locator(".st-key-name input").press("Enter")
        expect(page.get_by_text("Stale:")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text(re.compile(r"^Time left: about \d"))).to_be_visible(timeout=120_000)
        page.get_by_role("button", name="Cancel").click(timeout=120_000)
        expect(page.get_by_text("cancelled from the page")).to_be_visible(timeout=120_000)
        browser.close()
    assert len(list(Path(results).glob("whatif-*"))) == 2


@pytest.mark.slow
def test_several_policies_at_once_are_ranked(app) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, _, results = app
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        _open_levers(page, "Hữu Nghị: export")
        _set(page, ".st-key-reps", "2")
        _set(page, HN_CUSTOMS, "10")
        page.locator(".st-key-others").click()
        page.get_by_role("option").filter(has_text="china_cap_90").first.click()
        page.keyboard.press("Escape")
        expect(page.get_by_text("and 1 saved policies")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Run").click()
        # the decision the terminal prints: the default objective (net cost to the province), its label
        ranking = f"Ranking on {metric_info(DEFAULT_OBJECTIVE).label}"
        expect(page.get_by_text(ranking).first).to_be_visible(timeout=300_000)
        sentence = re.compile(r"china_cap_90 (cuts|raises|lengthens|has no clear)")
        expect(page.get_by_text(sentence).first).to_be_visible()
        browser.close()
    folder = next(Path(results).glob("whatif-*"))
    names = set(pd.read_csv(folder / "comparison.csv")["scenario"])
    assert names == {"base_2021_calibrated", "what_if", "china_cap_90"}
