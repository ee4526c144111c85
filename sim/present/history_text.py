"""Validation against history in words: the Markdown of ``history.md`` (the reported figures beside the
model's) and ``observed.md`` (the user's observations beside the simulated trucks waiting)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis.observed import hour_text

if TYPE_CHECKING:
    from sim.studies.history import ObservedResult


def markdown_cell(value: object) -> object:
    """A cell of a Markdown table as text that stays in its cell: ``|`` escaped, line breaks as spaces
    (the user's ``source`` column may hold either); numbers as they are."""
    if not isinstance(value, str):
        return value
    return re.sub(r"[\r\n]+", " ", value).replace("\\", "\\\\").replace("|", "\\|")


def markdown_table(table: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """``table`` as a GitHub Markdown table whose text cells cannot break it (:func:`markdown_cell`)."""
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    safe = table.assign(**{c: table[c].map(markdown_cell) for c in text}) if text else table
    return safe.to_markdown(index=False, tablefmt="github", floatfmt=floatfmt)


def observed_markdown(result: ObservedResult) -> str:
    """The comparison as GitHub Markdown: the rows, then the summary error."""
    assert result.table is not None and result.error is not None
    e = result.error
    lines = [
        f"**{result.title}**",
        "",
        markdown_table(result.table),
        "",
        f"- observations: {e.observations}; with a log ratio (both values above 0): {e.compared}",
        f"- root mean square of ln(simulated / observed): {e.rms_log_ratio:.4g}",
        f"- geometric mean ratio simulated / observed: {e.geometric_mean_ratio:.4g}",
        f"- observations inside the simulated 95% interval: {e.inside} of {e.observations}",
        f"- observations inside the 95% prediction interval of one day: {e.inside_prediction} of "
        f"{e.observations}",
        f"- daily value: trucks waiting (arrived at the gate area, not yet crossed, turned back or "
        f"diverted) at {hour_text(result.at_hour)} local time of the date, exact series",
    ]
    return "\n".join(lines) + "\n"
