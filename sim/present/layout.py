"""Tables that fit the window: a table has several layouts, from the widest (a column per metric) to the
longest (a row per metric); the widest that fits is printed, so nothing is ever cut to '...'.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.present.cells import one_line
from sim.present.console import out_console, plain
from sim.store.atomic import csv_text


@dataclass
class Block:
    """One table of text cells. Columns not in ``text`` hold numbers: right-aligned and never wrapped (a
    number too long for the window folds onto the next line rather than losing digits). Rows listed in
    ``headings`` are group titles (only their first cell is filled)."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    text: set[int] = field(default_factory=lambda: {0})
    strong: set[tuple[int, int]] = field(default_factory=set)  # (row, column) cells to emphasise
    headings: set[int] = field(default_factory=set)

    def heading(self, text: str) -> None:
        """Start a group of rows under a title."""
        self.headings.add(len(self.rows))
        self.rows.append([text] + [""] * (len(self.headers) - 1))

    def table(self) -> Table:
        """The block as a rich table (every piece of text as written: never read as markup)."""
        table = Table(
            title=plain(self.title, "table.title") if self.title else None,
            caption=plain(self.caption, "table.caption") if self.caption else None,
        )
        for k, h in enumerate(self.headers):
            numeric = k not in self.text
            table.add_column(
                plain(h),
                justify="right" if numeric else "left",
                no_wrap=numeric,
                overflow="fold",
            )
        for r, row in enumerate(self.rows):
            if r in self.headings:
                if r:
                    table.add_section()
                table.add_row(*(plain(c, "bold") for c in row))
                continue
            table.add_row(*(plain(c, "bold" if (r, k) in self.strong else "") for k, c in enumerate(row)))
        return table

    def markdown(self) -> str:
        """The block as a GitHub Markdown table with its title and caption."""
        from tabulate import tabulate

        align = ["left" if k in self.text else "right" for k in range(len(self.headers))]
        body = tabulate(
            [[_md_cell(c) for c in row] for row in self.rows],
            headers=[_md_cell(one_line(h)) for h in self.headers],
            tablefmt="github",
            colalign=align,
            disable_numparse=True,
        )
        parts = [f"**{self.title}**", "", body] if self.title else [body]
        return "\n".join([*parts, *(["", self.caption] if self.caption else [])])


Layout = list[Block]


def _md_cell(text: str) -> str:
    """A Markdown table cell as written: a '|' in user text (a policy file's name, a state's commodity)
    would end the cell and shift every column after it, and a line break would end the row."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def width_needed(layout: Layout, console: Console) -> int:
    """Columns the layout takes without wrapping anything."""
    unlimited = console.options.update_width(100_000)  # measure the natural width, not the window's
    return max(console.measure(b.table(), options=unlimited).maximum for b in layout)


def choose(layouts: Sequence[Layout], console: Console) -> Layout:
    """The widest layout that fits the console; the last (longest, narrowest) when none does."""
    for layout in layouts:
        if width_needed(layout, console) <= console.width:
            return layout
    return layouts[-1]


def emit(
    data: pd.DataFrame, layouts: Sequence[Layout], fmt: str = "table", console: Console | None = None
) -> None:
    """Print a result: its tidy data (csv, json), its widest layout (markdown) or the layout that fits."""
    console = console or out_console
    if fmt == "csv":
        sys.stdout.write(csv_text(data))
    elif fmt == "json":
        sys.stdout.write(data.to_json(orient="records", indent=2, date_format="iso") + "\n")
    elif fmt == "markdown":
        sys.stdout.write("\n\n".join(b.markdown() for b in layouts[0]) + "\n")
    else:
        for k, block in enumerate(choose(layouts, console)):
            if k:
                console.print()
            console.print(block.table())
