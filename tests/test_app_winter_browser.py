"""The page's winter flow in Debian's chromium (issue 29, 'Done means'): the winter replay chosen as the
base offers a valid default window that starts from the replay's own state, the four winter policies run
beside it, and the first result the planner sees is the decision table: one row per policy on the net
cost to the province, in USD, each with its interval.

It runs the page's shortest window of the replay (a month; November is the replay's warm-up, so December
is the first month measured) with two replications: minutes on two cores, a slow check."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.decision import DEFAULT_OBJECTIVE
from sim.analysis.metrics import metric_info
from tests.test_app_browser import _browser, app  # noqa: F401  (the page-on-a-port fixture)

WINTER_BASE = "winter_2021_22"
POLICIES = ("call_forward_slots", "hold_upstream_jan", "rail_fruit", "route_by_wait")


def _pick(page, key: str, text: str) -> None:
    """Choose the option containing ``text`` in the multiselect of key ``key`` (typed first: the list of
    scenario files is longer than the drop-down shows)."""
    page.locator(f".st-key-{key}").click()
    page.locator(f".st-key-{key} input").fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()
    page.keyboard.press("Escape")


def _top(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


@pytest.mark.slow  # a browser and minutes of winter runs: run by .ci/run with -m slow
def test_the_winter_replay_runs_from_its_own_state_and_the_decision_table_comes_first(app) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, _, results = app
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url)
        page.get_by_text("Levers", exact=True).wait_for(timeout=90_000)
        page.locator(".st-key-base button[aria-label='Open']").click()
        page.get_by_role("option").filter(has_text=WINTER_BASE).first.click()
        expect(page.locator(".st-key-base input")).to_have_value(re.compile(WINTER_BASE), timeout=60_000)

        # a valid default window: a month the replay measures, run from the replay's start for its state
        window = page.locator(".st-key-window input")
        expect(window).to_have_value(re.compile(r"^month .+ \(runs from 1 Nov for its starting state\)$"))
        expect(page.get_by_text(re.compile("must be shorter than horizon"))).to_have_count(0)

        page.locator(".st-key-reps input").fill("2")
        page.locator(".st-key-reps input").press("Enter")
        for name in POLICIES:
            _pick(page, "others", name)
        expect(page.get_by_text("and 4 saved policies")).to_be_visible(timeout=30_000)
        run = page.get_by_role("button", name="Run")
        expect(run).to_be_enabled(timeout=30_000)  # no lever changed: the saved policies are the run
        run.click()

        title = page.get_by_text(f"Ranking on {metric_info(DEFAULT_OBJECTIVE).label}").first
        expect(title).to_be_visible(timeout=1_500_000)
        # the decision table is the first result: above every other table, tile and figure of the run
        tables = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']")
        expect(tables.first).to_be_visible(timeout=60_000)
        decision_top = _top(tables.first)
        assert decision_top > _top(title)  # the table under its title
        later = [
            *(tables.nth(i) for i in range(1, tables.count())),
            *(page.locator("[data-testid='stMain'] [data-testid='stMetric']").all()),
            *(page.locator("[data-testid='stMain'] [data-testid='stImage']").all()),
        ]
        assert later  # the tiles and the paired differences follow
        assert all(_top(other) > decision_top for other in later if other.is_visible())
        # its rows: the base and the four policies, net cost in USD with an interval each
        grid = tables.first.evaluate("el => el.textContent")  # the grid's cells (drawn on a canvas)
        assert "USD" in grid and "±" in grid, grid
        for name in POLICIES:
            assert name in grid, (name, grid)
        browser.close()

    (folder,) = Path(results).glob("whatif-*")
    assert set(pd.read_csv(folder / "comparison.csv")["scenario"]) == {WINTER_BASE, *POLICIES}
