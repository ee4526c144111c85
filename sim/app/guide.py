"""What the what-if page tells a planner, kept apart from Streamlit so it can be tested as plain Python:
the purpose, help in a planner's words with units, lever names in messages, which ``?job=`` values are
acceptable, the expected run time from the run's size and this machine's measured speed, time left,
whether shown results are stale, and the contrast of text colours (WCAG).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.app.levers import OPTIONAL_COUNT, SHARE, Lever, comparable
from sim.present.page_words import word

PURPOSE = word("purpose")  # the page's words: sim.present.page_words (English and Vietnamese)
CAPTION_COLOUR = "#4a4a4a"  # 8.9:1 on white (WCAG AA asks 4.5:1 for text)
MAX_JOB_CHARS = 150
JOB = re.compile(r"^(whatif|compare)-[A-Za-z0-9_.-]+$")

# the field's last name -> what it means, in a planner's words, with its unit
FIELD_HELP = {
    "servers": "How many trucks this step handles at the same time (officers, lanes or bays). A whole "
    "number, at least 1.",
    "hours": "When this step works, local time: windows as HH:MM-HH:MM, several separated by commas "
    "(07:00-11:30, 13:00-17:00); 'always' for round the clock.",
    "daily_cap": "The most trucks this step lets through in a day (trucks/day); empty for no limit.",
    "priority": "Who is served first when trucks queue here: first come first served, or perishable "
    "cargo (fruit) first.",
    "closures": "Days when this gate (or some of its steps) serves no one: one row per closure, from its "
    "first to its last day.",
    "predeclared": "Share of these trucks declared in advance on the digital border-gate platform (% of "
    "trucks, 0-100).",
}


def help_for(lever: Lever) -> str:
    """The (?) text of a lever: what it means and its unit, then its base value and source."""
    what = FIELD_HELP.get(lever.key[-1], lever.help)
    return f"{what} Where: {lever.group}."


def lever_message(lever: Lever | None, message: str, dotted: str | None = None) -> str:
    """A problem as the page words it: the lever's name as labelled on the page, never its internal path
    (``gates.huu_nghi.export.stages.customs.servers``)."""
    if lever is None:
        return message if not dotted else f"{dotted}: {message}"
    return f"{lever.group} · {lever.label}: {message}"


def job_problem(job: str) -> str | None:
    """Why a ``?job=`` value is not a results folder of this page (None when it may be one): too long,
    not a what-if or comparison name, or a path ('..', '/')."""
    if len(job) > MAX_JOB_CHARS:
        return f"the address names a run of {len(job)} characters; run names have at most {MAX_JOB_CHARS}"
    if not JOB.match(job) or ".." in job:
        return (
            f"the address names '{job[:60]}', which is not a run of this page (whatif-... or compare-...); "
            "pick one under Reopen results"
        )
    return None


# --------------------------------------------------------------------------------------------------
# values as the page shows them
# --------------------------------------------------------------------------------------------------
class Unreadable(ValueError):
    """What was typed cannot be read as a value of this kind (the message says why)."""


def count_value(raw: Any, optional: bool) -> int | None:
    """A whole-number field (servers, a daily cap): 8.5 is refused, not rounded to 8."""
    if raw is None or raw == "":
        if optional:
            return None
        raise Unreadable("a whole number is needed")
    number = float(raw)
    if not number.is_integer():
        raise Unreadable(f"must be a whole number (got {number:g})")
    return int(number)


def share_shown(value: Any) -> float | None:
    """A share (0-1 in the scenario) as the page shows it: a percentage."""
    return None if value is None else round(float(value) * 100.0, 6)


def share_value(raw: Any) -> float:
    """A percentage typed on the page as the scenario's share (95 -> 0.95); 0-100 only."""
    number = float(raw)
    if not 0.0 <= number <= 100.0:
        raise Unreadable(f"a share of trucks is 0 to 100% (got {number:g}%)")
    return number / 100.0


# --------------------------------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Speed:
    """Trucks simulated per second of wall time on this machine, from the page's finished runs."""

    trucks_per_second: float
    runs: int


def measured_speed(finished: Iterable[tuple[float, float]]) -> Speed | None:
    """The speed of this machine from finished jobs' (expected trucks, seconds); None before any."""
    done = [(t, s) for t, s in finished if t > 0 and s > 0]
    if not done:
        return None
    return Speed(sum(t for t, _ in done) / sum(s for _, s in done), len(done))


def expected_trucks(sizes: Sequence[float], replications: int) -> float:
    """Trucks a job simulates: each scenario's expected trucks a replication, times the replications."""
    return sum(sizes) * replications


def duration_text(seconds: float) -> str:
    """Seconds as a planner reads a wait: '40 s', '3 min', '1.2 h'."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def time_left(fraction: float, seconds: float) -> float | None:
    """Seconds left of a job ``fraction`` done after ``seconds`` (None before there is progress)."""
    if fraction <= 0.02 or seconds <= 0:
        return None
    return seconds * (1.0 - fraction) / fraction


# --------------------------------------------------------------------------------------------------
# stale results, contrast
# --------------------------------------------------------------------------------------------------
def form_key(base: str, window: str, replications: int, seed: int, policy: dict[str, Any]) -> str:
    """What the form asks for, as one comparable string (results are stale when it differs from what
    they ran)."""
    import json

    edits = {k: comparable(v) for k, v in policy.items()}
    return json.dumps([base, window, int(replications), int(seed), edits], sort_keys=True, default=str)


def _luminance(colour: str) -> float:
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(foreground: str, background: str = "#ffffff") -> float:
    """The WCAG contrast ratio of two '#rrggbb' colours (1 to 21)."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


KINDS_WITH_UNITS = {OPTIONAL_COUNT: "trucks/day", SHARE: "% of trucks"}  # units beside a lever's label
