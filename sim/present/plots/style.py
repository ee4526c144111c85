"""How every figure looks and is saved: one place for sizes, colours, fonts and reproducible files.

Figures are read by planners, not by the authors of the code, so each has a title, axis labels with
units and a legend; the same scenario has the same colour in every figure. Files are reproducible: fixed
size and resolution (no tight bounding box, which would make the size depend on the text), a fixed SVG
hash salt and no dates in the metadata, so plotting the same results twice gives identical bytes.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; set before pyplot is imported

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.ticker import Locator
from matplotlib.transforms import ScaledTranslation

from sim.analysis.decision import RELIABLE_REPLICATIONS, SUGGESTED_REPLICATIONS
from sim.analysis.stats import half_width
from sim.store.atomic import make_folder, write_atomic
from sim.version import __version__

DPI = 100
WIDTH_IN = 12.0  # every figure is 1200 px wide: readable on a laptop and in the HTML report
FORMATS = ("png", "svg")
# the base in near-black, policies in distinct colours that survive greyscale printing reasonably
SCENARIO_COLOURS = ["#222222", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
RC = {
    "svg.hashsalt": "bordersim",
    "svg.fonttype": "path",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "figure.titlesize": 14,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Written:
    """A figure written to disk: its name (file stem), its files, its size in pixels and its caption."""

    name: str
    files: tuple[Path, ...]
    width_px: int
    height_px: int
    title: str
    caption: str

    @property
    def png(self) -> Path:
        """The PNG file of the figure."""
        return next(f for f in self.files if f.suffix == ".png")

    @property
    def svg(self) -> Path | None:
        """The SVG file of the figure, if one was written."""
        return next((f for f in self.files if f.suffix == ".svg"), None)


LINE_STYLES = ["-", (0, (5, 2)), (0, (6, 2, 1, 2)), (0, (1.5, 1.5)), (0, (8, 2, 1, 2, 1, 2))]


def colour(index: int) -> str:
    """The colour of the scenario at ``index`` (the base first), the same in every figure."""
    return SCENARIO_COLOURS[index % len(SCENARIO_COLOURS)]


def series_line(index: int) -> dict[str, object]:
    """Line properties of a scenario's time series: the base thick and underneath, policies thin on top,
    so that where a policy changes nothing the base still shows as a dark edge around it."""
    return {
        "color": colour(index),
        "lw": 2.4 if index == 0 else 1.1,
        "zorder": 2 if index == 0 else 3 + index,
    }


def band(index: int) -> dict[str, object]:
    """Fill properties of a scenario's 95% band: light enough that several overlap readably."""
    return {"color": colour(index), "alpha": 0.2 if index == 0 else 0.13, "lw": 0}


def line_style(index: int) -> str | tuple:
    """Solid for the base, a distinct dash pattern for each policy (readable in greyscale too)."""
    return LINE_STYLES[index % len(LINE_STYLES)]


def figure(rows: int, cols: int, row_height_in: float, **kwargs) -> tuple[Figure, np.ndarray]:
    """A figure WIDTH_IN wide with a grid of axes (always a 2-D array); constrained layout."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            rows,
            cols,
            figsize=(WIDTH_IN, max(3.0, rows * row_height_in + 1.0)),
            dpi=DPI,
            squeeze=False,
            layout="constrained",
            **kwargs,
        )
    return fig, axes


def suptitle(fig: Figure, text: str, width: int = 105) -> None:
    """The figure's title, wrapped so that a long list of scenarios stays inside the figure."""
    fig.suptitle(textwrap.fill(text, width, break_on_hyphens=False))


def save(fig: Figure, out: Path, name: str, title: str, caption: str, source: str) -> Written:
    """Write the figure as PNG and SVG; the metadata names the results it was drawn from, no date."""
    make_folder(out)  # a file in its place, or a read-only disk: a UserError naming the path
    files = []
    with plt.rc_context(RC):
        for fmt in FORMATS:
            path = out / f"{name}.{fmt}"
            made_by = f"bordersim {__version__}"
            if fmt == "png":
                meta = {"Title": title, "Software": made_by, "Source": source}
            else:
                meta = {"Title": title, "Creator": made_by, "Source": source, "Date": None}
            write_atomic(
                path, lambda tmp, fmt=fmt, meta=meta: fig.savefig(tmp, format=fmt, dpi=DPI, metadata=meta)
            )
            files.append(path)
    width, height = (round(v * DPI) for v in fig.get_size_inches())
    plt.close(fig)
    return Written(name, tuple(files), width, height, title, caption)


LEGEND_MIN_CHARS = 24  # a legend entry is never wrapped narrower than this: fewer columns instead
LEGEND_EDGE_PX = 4  # the legend keeps this far from the figure's edges


def _wrap(text: str, width: int) -> str:
    """Each line of ``text`` wrapped at ``width`` characters, at spaces only (a name is never cut)."""
    return "\n".join(
        textwrap.fill(line, width, break_on_hyphens=False, break_long_words=False) or line
        for line in text.splitlines()
    )


def figure_legend(fig: Figure, handles: Sequence[Artist], max_cols: int = 3, **kwargs: object) -> Legend:
    """The figure's legend below its panels, whole and inside the figure whatever the scenarios are called.

    Long policy names, closures 'only in' a list of policies and interval notes in three columns once ran
    past both edges of the figure ('..._2021_22', 'only route_by_wa'). The legend is measured as it will
    be drawn: the most columns (up to ``max_cols``) whose entries fit the figure's width, each entry
    wrapped at word boundaries (never cut) where one column cannot hold it."""
    labels = [str(h.get_label()) for h in handles]
    room = fig.bbox.width - 2 * LEGEND_EDGE_PX
    renderer = fig.canvas.get_renderer()
    legend = None
    for ncols in range(min(max_cols, max(len(handles), 1)), 0, -1):
        width = max((len(line) for t in labels for line in t.splitlines()), default=0)
        while True:
            if legend is not None:
                legend.remove()
            wrapped = [_wrap(t, width) for t in labels]
            legend = fig.legend(
                handles=list(handles), labels=wrapped, loc="outside lower center", ncols=ncols, **kwargs
            )
            if legend.get_window_extent(renderer).width <= room or width <= LEGEND_MIN_CHARS:
                break
            width = max(LEGEND_MIN_CHARS, int(width * 0.85))
        if legend.get_window_extent(renderer).width <= room:
            break
    return legend


PANEL_LEGEND_GAP_PT = 4.0  # a legend under a panel keeps this far below the panel's x-axis label


def legend_below(ax: Axes, **kwargs: object) -> Legend | None:
    """The panel's legend under its x axis (below the tick labels and the axis label), out of the data.

    Inside the axes, the values of six scenarios (p50 · p95 · not cleared) covered the curves and the
    very p50 and p95 marks they describe (issue 29, row 8). Placed outside, constrained layout makes room
    for it. Call after the x label is set: the offset is the height the x axis takes under the panel."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    under = ax.bbox.y0 - ax.xaxis.get_tightbbox(fig.canvas.get_renderer()).y0  # pixels, ticks and label
    offset = ScaledTranslation(0, -(under / fig.dpi + PANEL_LEGEND_GAP_PT / 72), fig.dpi_scale_trans)
    return ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + offset,
        framealpha=1.0,
        **kwargs,  # type: ignore[arg-type]
    )


def keep_axes_height(fig: Figure, min_height_in: float, rounds: int = 4) -> None:
    """Grow the figure until its shortest panel is at least ``min_height_in`` tall.

    Legends of named and described scenarios take lines that constrained layout takes from the panels:
    six scenarios squashed an ECDF into a strip (issue 29, row 8), or collapsed its panels altogether
    (the layout then gives up and the legend lies over the curves). Laid out, the figure grows by what its
    shortest panel misses; where the layout collapsed, by the height of its legends first (a few rounds:
    titles and legends keep their size, so the layout settles)."""
    for _ in range(rounds):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.draw_without_rendering()
        if any("collapsed" in str(w.message) for w in caught):  # no layout: the positions mean nothing
            renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
            taken = sum(legend.get_window_extent(renderer).height for legend in fig.legends) / fig.dpi
            fig.set_figheight(fig.get_figheight() + max(taken, min_height_in))  # what the legends take
            continue
        boxes = [ax.get_position() for ax in fig.axes if ax.get_visible()]
        heights = [b.height * fig.get_figheight() for b in boxes]
        if not heights or min(heights) >= min_height_in - 0.01:
            return
        rows = len({round(b.y0, 3) for b in boxes})  # each row of panels shares the height added
        fig.set_figheight(fig.get_figheight() + 1.05 * rows * (min_height_in - min(heights)))


def t_band(
    values: np.ndarray,
    confidence: float = 0.95,
    lower: float | None = None,
    upper: float | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over replications (rows) per column, and the low and high ends of its Student-t interval,
    clipped to what is possible (``lower``, ``upper``: no fewer than 0 trucks, no more than a yard holds).
    With two replications the t-interval rests on one degree of freedom and can reach far past both.

    With one replication the band is the line itself: there is no spread to show, and the legend says
    how many replications the band rests on."""
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        return mean, mean, mean
    half = half_width(values.std(axis=0, ddof=1), n, confidence)
    low, high = mean - half, mean + half
    if lower is not None or upper is not None:
        low, high = np.clip(low, lower, upper), np.clip(high, lower, upper)
    return mean, low, high


def unreliable(n: int) -> bool:
    """Whether an interval over ``n`` replications is too unsure to read (2 to 4 replications)."""
    return 2 <= n < RELIABLE_REPLICATIONS


def unreliable_text(n: int) -> str:
    """What to say beside an interval over ``n`` replications when it is too unsure ('' otherwise)."""
    if not unreliable(n):
        return ""
    return (
        f"with only {n} replications the 95% interval is unreliable; "
        f"run at least {SUGGESTED_REPLICATIONS} (--replications {SUGGESTED_REPLICATIONS})"
    )


def band_label(n: int, clipped: str = "") -> str:
    """The legend text of an interval band over ``n`` replications (``clipped``: to what, e.g.
    '0 and the yard capacity')."""
    if n < 2:
        return "one replication: no interval"
    text = f"95% CI of the mean over {n} replications" + (f", clipped to {clipped}" if clipped else "")
    return text + (f" (unreliable: run {SUGGESTED_REPLICATIONS})" if unreliable(n) else "")


def span_text(first: datetime, last: datetime) -> str:
    """The calendar span from ``first`` to ``last`` as a reader names it: '15 Dec 2021', 'Dec 2021',
    'Nov – Dec 2021', 'Dec 2021 – Jan 2022'; days are named where the span is under three days."""
    if first > last:
        first, last = last, first
    if last - first < timedelta(days=3):
        if first.date() == last.date():
            return f"{first.day} {first:%b %Y}"
        if (first.year, first.month) == (last.year, last.month):
            return f"{first.day} – {last.day} {last:%b %Y}"
        if first.year == last.year:
            return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{last:%b %Y}"
    if first.year == last.year:
        return f"{first:%b} – {last:%b %Y}"
    return f"{first:%b %Y} – {last:%b %Y}"


def _drawn_interval(axis: object, values: Sequence[float]) -> tuple[float, float]:
    """The part of a date axis that holds data: its view, less the margins matplotlib adds around the
    data (else a December-January line would be named 'Nov 2021 - Feb 2022'); the ticks without an axis."""
    if axis is None:
        return float(min(values)), float(max(values))
    view = sorted(axis.get_view_interval())
    data = sorted(axis.get_data_interval())
    lo, hi = max(view[0], data[0]), min(view[1], data[1])
    return (lo, hi) if np.isfinite([lo, hi]).all() and lo <= hi else (view[0], view[1])


class SpanDateFormatter(mdates.ConciseDateFormatter):
    """Concise date ticks whose offset (the text at the axis' end) names the span the axis covers.

    Matplotlib's offset is the last tick's year and month: on an axis from December to January its last
    tick may be 1 February, and the axis read '2022-Feb'. Here the offset is the visible span, first to
    last day ('Dec 2021 – Jan 2022'), wherever matplotlib would show one (the year is not in the ticks)."""

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        """matplotlib's concise tick labels; the offset replaced by the span the axis' data covers."""
        labels = super().format_ticks(values)
        if self._offset_string and len(values):
            lo, hi = _drawn_interval(self._locator.axis, values)
            self._offset_string = span_text(
                mdates.num2date(lo, tz=self._tz).replace(tzinfo=None),
                mdates.num2date(hi, tz=self._tz).replace(tzinfo=None),
            )
        return labels


def date_axis(ax: Axes) -> None:
    """Calendar dates on the x axis, as short as they can be without losing the year: the ticks as
    concise as matplotlib makes them, the span they cover named once at the axis' end."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(SpanDateFormatter(locator))


def use_log_scale(samples: Sequence[np.ndarray]) -> bool:
    """A log time axis where the spread needs it: when the slow tail is 30x the fast trucks or more."""
    pooled = np.concatenate([s[np.isfinite(s) & (s > 0)] for s in samples] or [np.zeros(0)])
    if len(pooled) < 2:
        return False
    lo, hi = np.quantile(pooled, [0.01, 0.99])
    return bool(lo > 0 and hi / lo >= 30)


def _hours_unit(h: float) -> tuple[str, float]:
    """The unit a duration of ``h`` hours reads best in, and hours per that unit."""
    if h < 1:
        return "min", 1 / 60
    if h < 48:
        return "h", 1.0
    return "d", 24.0


def hours_pm(mean: float, half: float) -> str:
    """A duration with its half-width, both in the mean's unit: '33.5 ± 62.4 h', '3.1 ± 0.4 d'."""
    if not np.isfinite(mean):
        return "-"
    if not np.isfinite(half):
        return hours_text(mean)
    unit, per = _hours_unit(mean)
    digits = 0 if unit == "min" else 1
    return f"{mean / per:.{digits}f} ± {half / per:.{digits}f} {unit}"


def hours_text(h: float) -> str:
    """Hours as a planner reads them: '45 min', '6.2 h', '3.1 d (74 h)'."""
    if not np.isfinite(h):
        return "-"
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.1f} d ({h:.0f} h)"


def level_line(ax: Axes, y: float, label: str, ls: str = "--", lw: float = 1.0) -> None:
    """A horizontal reference level (a yard capacity, a daily cap) labelled at the left edge."""
    ax.axhline(y, color="black", ls=ls, lw=lw)
    ax.annotate(
        label,
        (0.005, y),
        xycoords=("axes fraction", "data"),
        xytext=(0, 2),
        textcoords="offset points",
        fontsize=8,
    )


def no_data(ax: Axes, text: str = "no trucks in this flow after the warm-up") -> None:
    """Mark an empty panel as such, instead of drawing empty axes.

    The ticks are hidden, not removed: panels sharing an axis share its locator, so ``set_xticks([])``
    here would empty every panel's ticks (and a date formatter fails on no ticks at all)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.tick_params(bottom=False, left=False, labelbottom=False, labelleft=False)
    ax.grid(False)


HOUR_TICKS = [1 / 12, 0.25, 0.5, 1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 336, 504, 720]
MAX_LOG_TICKS = 7  # on a log time axis: ticks at least 1/7 of the axis apart, so labels never touch


def _tick_text(h: float, _pos: object = None) -> str:
    if h <= 0:
        return "0"
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 24 or h % 24:
        return f"{h:g} h"
    return f"{h / 24:g} d"


def hours_axis(ax: Axes, log: bool) -> None:
    """A time axis in hours that reads as time: '30 min', '2 h', '3 d' at round values."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(SpacedHourLocator())
        ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(_tick_text))


class SpacedHourLocator(Locator):
    """Round durations (HOUR_TICKS) on a log axis, each at least 1/MAX_LOG_TICKS of the axis from the last,
    chosen when the axis is drawn: '15 min' and '30 min' (or '5 d' and '7 d') would touch on a wide axis."""

    def __call__(self) -> list[float]:
        lo, hi = self.axis.get_view_interval()
        return self.tick_values(lo, hi)

    def tick_values(self, vmin: float, vmax: float) -> list[float]:
        """The ticks between ``vmin`` and ``vmax`` (hours, > 0), greedily from the smallest."""
        lo, hi = sorted((float(vmin), float(vmax)))
        lo = max(lo, 1e-6)
        inside = [t for t in HOUR_TICKS if lo <= t <= hi]
        if len(inside) < 2:
            return inside
        gap = np.log10(hi / lo) / MAX_LOG_TICKS
        ticks = [inside[0]]
        for t in inside[1:]:
            if np.log10(t / ticks[-1]) >= gap:
                ticks.append(t)
        return ticks
