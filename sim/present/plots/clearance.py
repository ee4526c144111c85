"""Clearance-time distributions: how long trucks take from arriving at the gate to crossing.

Means hide what planners worry about (the slow tail: the fruit truck that waits three days), so these
figures show whole distributions, in hours, with the median (p50) and p95 marked. A run of several
replications is an estimate, and the ECDFs say how sure it is: the curve is the mean of the replications'
ECDFs with its pointwise 95% t-interval shaded, and p50 and p95 are the means of the replications'
percentiles (the numbers of the summary tables) with their 95% intervals as error bars. Histograms and
boxes pool the replications' cleared trucks after the warm-up. Trucks still inside at the horizon have
no clearance time,
so the share of them is written beside each scenario: a distribution that looks fast because the slowest
trucks never finished must not pass unnoticed.

- ``headline_clearance``: all gates, one panel per direction, every scenario overlaid (ECDF);
- ``clearance_ecdf`` and ``clearance_hist``: the same per gate and direction;
- ``clearance_box``: per gate and direction, one box per scenario side by side.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from sim.analysis.stats import half_width
from sim.present.plots import style
from sim.scenario.schema import DIRECTIONS
from sim.store.reader import Study

# matplotlib 3.10 renamed bxp's vert=False to orientation="horizontal" (and deprecated the old name)
HORIZONTAL = {"orientation": "horizontal"} if matplotlib.__version_info__ >= (3, 10) else {"vert": False}
ECDF_POINTS = 400  # the ECDF is drawn on a fixed grid: small SVGs whatever the number of trucks
HIST_BINS = 40
BAND_KEY = (
    "Curve: mean of the replications' ECDFs, shaded: its 95% CI clipped to 0-100%; circle p50, triangle p95 "
    "(means of the replications' percentiles, bars: 95% intervals)."
)
LEGEND_NOTE_CHARS = 150  # the legend's note wraps at this width (characters) to stay inside the figure
DESCRIPTION_CHARS = 70  # a scenario's description in the legend wraps at this width, never cut
HEADLINE_AXES_IN = 3.6  # an ECDF panel is never squashed below this height, whatever the legends take
PANEL_AXES_IN = 2.0  # nor a per-gate panel below this one
PANEL_LEGEND_UP_TO = 2  # with more scenarios, per-panel values would hide the curves: see the box plots
MARKERS = {
    "clearance_ecdf": "Curve: mean of the replications' ECDFs, shaded: 95% interval; circles: p50; "
    "triangles: p95, bars: their 95% intervals.",
    "clearance_hist": "Markers along the top: ● median (p50), ▼ p95, one row per scenario.",
}
BOX_KEY = (
    "Box: 25th to 75th percentile · thick line: median (p50) · ◇: mean · whiskers: 5th to 95th percentile"
)


@dataclass
class Sample:
    """Clearance hours of one scenario in one group, and how many trucks of the group did not clear."""

    hours: np.ndarray
    not_cleared: int

    @property
    def share_not_cleared(self) -> float:
        """The share of the flow's trucks still inside at the horizon (the times cannot show them)."""
        total = len(self.hours) + self.not_cleared
        return self.not_cleared / total if total else 0.0

    def quantile(self, q: float) -> float:
        """The clearance time (hours) below which a share ``q`` of the cleared trucks fall."""
        return float(np.quantile(self.hours, q)) if len(self.hours) else float("nan")


@dataclass
class Replicated:
    """Clearance hours of one scenario in one group, replication by replication (each sorted): what the
    uncertainty of the curve and of its percentiles is computed from."""

    runs: list[np.ndarray]

    @property
    def n(self) -> int:
        """Replications with at least one cleared truck in the group (the others have no ECDF)."""
        return len(self.runs)

    def ecdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean of the replications' ECDFs at ``x``, and the ends of its pointwise 95% t-interval."""
        curves = np.array([np.searchsorted(h, x, side="right") / len(h) for h in self.runs])
        return style.t_band(curves, lower=0.0, upper=1.0)  # a share: the band stays within 0 and 1

    def quantile(self, q: float) -> tuple[float, float]:
        """Mean over replications of their ``q`` percentile, and its 95% t half-width (NaN with one)."""
        values = np.array([np.quantile(h, q) for h in self.runs])
        if len(values) < 2:
            return float(values.mean()), float("nan")
        return float(values.mean()), float(half_width(values.std(ddof=1), len(values)))


def _by_replication(df: pd.DataFrame, gate: str | None, direction: str | None) -> Replicated:
    part = df[df["status"] == "cleared"]
    if gate is not None:
        part = part[part["gate"] == gate]
    if direction is not None:
        part = part[part["direction"] == direction]
    runs = [np.sort(g.to_numpy(dtype=float)) for _, g in part.groupby("replication", sort=True)["hours"]]
    return Replicated([h for h in runs if len(h)])


def _samples(study: Study) -> dict[str, pd.DataFrame]:
    return {run.name: run.cleared_hours() for run in study.runs}


def _select(df: pd.DataFrame, gate: str | None, direction: str | None) -> Sample:
    part = df
    if gate is not None:
        part = part[part["gate"] == gate]
    if direction is not None:
        part = part[part["direction"] == direction]
    cleared = part["status"] == "cleared"
    return Sample(
        np.sort(part.loc[cleared, "hours"].to_numpy(dtype=float)), int((part["status"] == "inside").sum())
    )


def _quantile_text(s: Sample, r: Replicated | None, q: float) -> str:
    if r is None or r.n < 2:
        return style.hours_text(s.quantile(q) if r is None else r.quantile(q)[0])
    mean, half = r.quantile(q)
    return style.hours_pm(mean, half)  # one unit for both: never "33.5 h ± 2.6 d"


def _label(s: Sample, r: Replicated | None = None) -> str:
    """A panel's legend entry: the scenario is told by colour and dashes (the figure's legend)."""
    text = f"p50 {_quantile_text(s, r, 0.5)} · p95 {_quantile_text(s, r, 0.95)}"
    if s.not_cleared:
        text += f" · {100 * s.share_not_cleared:.1f}% not cleared"
    return text


def _scenario_legend(fig: Figure, study: Study, note: str | None = None) -> None:
    handles = [
        Line2D(
            [],
            [],
            color=style.colour(k),
            ls=style.line_style(k),
            lw=2.0 if k == 0 else 1.6,
            label=_scenario_text(study, k),
        )
        for k in range(len(study.runs))
    ]
    # named and described, the scenarios take a line each in two columns; the note wraps to the figure
    style.figure_legend(
        fig,
        handles,
        max_cols=2,
        fontsize=9,
        title=textwrap.fill(note, LEGEND_NOTE_CHARS) if note else None,
        title_fontsize=9,
    )


def _scenario_text(study: Study, k: int) -> str:
    """A scenario as the legend names it: its name (the base marked) and its whole description, wrapped
    (a description cut with '…' loses the very words that tell two policies apart)."""
    run = study.runs[k]
    name = f"{run.name} (base)" if k == 0 and len(study.runs) > 1 else run.name
    about = " ".join(str(run.scenario.description or "").split())
    text = f"{name}: {about}" if about else name
    return textwrap.fill(text, DESCRIPTION_CHARS, break_on_hyphens=False)


def _grid(samples: list[Sample], log: bool) -> np.ndarray:
    pooled = np.concatenate([s.hours for s in samples if len(s.hours)])
    lo, hi = float(pooled.min()), float(pooled.max())
    if log:
        lo = max(lo, hi * 1e-4, 1e-3)
        return np.geomspace(lo, hi * 1.02, ECDF_POINTS)
    return np.linspace(0.0, hi * 1.02, ECDF_POINTS)


def _ecdf_panel(
    ax: Axes,
    names: list[str],
    samples: list[Sample],
    log: bool,
    replicated: list[Replicated] | None = None,
) -> None:
    if not any(len(s.hours) for s in samples):
        style.no_data(ax)
        return
    x = _grid(samples, log)
    for k, s in enumerate(samples):
        if not len(s.hours):
            continue
        r = replicated[k] if replicated is not None else None
        # share of the cleared trucks, as the percentiles are; the legend gives the share not cleared
        if r is not None and r.n >= 2:
            y, low, high = r.ecdf(x)
            ax.fill_between(x, low, high, step="post", zorder=2 + k, **style.band(k))
            marks = [(q, *r.quantile(q)) for q in (0.5, 0.95)]
        else:
            y = np.searchsorted(s.hours, x, side="right") / len(s.hours)
            marks = [(q, s.quantile(q), float("nan")) for q in (0.5, 0.95)]
        # the base solid and below, policies dashed above it: curves that coincide (a policy that does not
        # touch this flow meets the very same trucks) still show the base through the gaps
        z = 3 + k
        ax.plot(
            x,
            y,
            drawstyle="steps-post",
            color=style.colour(k),
            lw=2.0 if k == 0 else 1.6,
            ls=style.line_style(k),
            label=_label(s, r),
            zorder=z,
        )
        for (q, at, half), marker in zip(marks, ("o", "^"), strict=True):
            # a time is never below 0 (on a log axis: below the axis' left end)
            floor = x[0] if log else 0.0
            ax.errorbar(
                [at],
                [q],
                xerr=None if half != half else [[min(half, at - floor)], [half]],
                marker=marker,
                color=style.colour(k),
                ms=6,
                ls="none",
                capsize=3,
                zorder=z,
            )
    for q, text in ((0.5, "p50"), (0.95, "p95")):
        ax.axhline(q, color="#888888", lw=0.8, ls=":")
        ax.annotate(
            text,
            (1.0, q),
            xycoords=("axes fraction", "data"),
            xytext=(-2, -3),
            ha="right",
            va="top",
            textcoords="offset points",
            fontsize=8,
            color="#555555",
        )
    style.hours_axis(ax, log)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("share of cleared trucks")
    # the values (p50 · p95 · not cleared) go under the panel, once its x label is set (style.legend_below):
    # inside, six scenarios' lines covered the curves and the p50 and p95 marks they describe


def _hist_panel(ax: Axes, names: list[str], samples: list[Sample], log: bool, legend: bool = True) -> None:
    if not any(len(s.hours) for s in samples):
        style.no_data(ax)
        return
    grid = _grid(samples, log)
    bins = grid[:: max(1, len(grid) // HIST_BINS)]
    single = len(samples) == 1
    top = blended_transform_factory(ax.transData, ax.transAxes)
    for k, s in enumerate(samples):
        if not len(s.hours):
            continue
        c = style.colour(k)
        weights = np.full(len(s.hours), 100.0 / len(s.hours))  # percent of the scenario's cleared trucks
        ax.hist(
            s.hours,
            bins=bins,
            weights=weights,
            histtype="stepfilled" if single else "step",
            color=c,
            alpha=0.35 if single else 1.0,
            lw=1.5,
            ls=style.line_style(k),
            label=_label(s),
        )
        # p50 and p95 as markers along the top edge: full-height lines of several scenarios would be a fence
        for q, marker in ((0.5, "o"), (0.95, "v")):
            ax.plot(
                [s.quantile(q)],
                [0.97 - 0.035 * k],
                marker=marker,
                color=c,
                ms=6,
                ls="none",
                transform=top,
                clip_on=False,
            )
    style.hours_axis(ax, log)
    ax.set_ylabel("% of cleared trucks per bin")
    ax.set_ylim(0, ax.get_ylim()[1] * (1.6 if legend else 1.25))  # head room for the markers (and legend)
    if legend:
        ax.legend(loc="upper left", framealpha=0.9, bbox_to_anchor=(0, 0.86))


def _box_panel(ax: Axes, names: list[str], samples: list[Sample], log: bool, legend: bool = True) -> None:
    if not any(len(s.hours) for s in samples):
        style.no_data(ax)
        return
    stats, positions, colours = [], [], []
    for k, (name, s) in enumerate(zip(names, samples, strict=True)):
        if not len(s.hours):
            continue
        p5, q1, med, q3, p95 = np.quantile(s.hours, [0.05, 0.25, 0.5, 0.75, 0.95])
        stats.append(
            {
                "label": name,
                "med": med,
                "q1": q1,
                "q3": q3,
                "whislo": p5,
                "whishi": p95,
                "mean": float(s.hours.mean()),
                "fliers": [],
            }
        )
        positions.append(k)
        colours.append(style.colour(k))
    parts = ax.bxp(
        stats,
        positions=positions,
        **HORIZONTAL,
        showmeans=True,
        patch_artist=True,
        widths=0.6,
        meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black", "ms": 5},
        medianprops={"color": "black", "lw": 1.8},
    )
    for patch, c in zip(parts["boxes"], colours, strict=True):
        patch.set_facecolor(c)
        patch.set_alpha(0.45)
    for st, pos in zip(stats, positions, strict=True):
        ax.annotate(
            f"p95 {style.hours_text(st['whishi'])}",
            (st["whishi"], pos),
            xytext=(4, -3),
            textcoords="offset points",
            fontsize=8,
        )
    style.hours_axis(ax, log)
    ax.invert_yaxis()  # the base on top, as in the tables


def _x_label(log: bool) -> str:
    return "clearance time, arrival at the gate to crossing (min / h / d" + (", log scale)" if log else ")")


def headline(study: Study, out: Path, source: str) -> list[style.Written]:
    """All gates together, one panel per direction: the picture of a policy study."""
    data = _samples(study)
    directions = [d for d in DIRECTIONS if any(d == fd for _, fd in study.flows())]
    fig, axes = style.figure(1, len(directions), 5.0)
    groups = {d: [_select(data[n], None, d) for n in study.names] for d in directions}
    replicated = {d: [_by_replication(data[n], None, d) for n in study.names] for d in directions}
    log = style.use_log_scale([s.hours for ss in groups.values() for s in ss])
    for ax, d in zip(axes[0], directions, strict=True):
        _ecdf_panel(ax, study.names, groups[d], log, replicated=replicated[d])
        ax.set_title(f"{d.capitalize()}s (VN → CN)" if d == "export" else f"{d.capitalize()}s (CN → VN)")
        ax.set_xlabel(_x_label(log))
        style.legend_below(ax)
    title = "Clearance time, all gates: " + _who(study)
    style.suptitle(fig, title)
    _scenario_legend(fig, study, f"{study.base.window_text()}; {_reps_text(study)}. {BAND_KEY}")
    style.keep_axes_height(fig, HEADLINE_AXES_IN)
    caption = (
        "Share of the cleared trucks that crossed within a given time, all gates together, one curve per "
        f"scenario ({_reps_text(study)}). {BAND_KEY} A curve further left is faster. Percentiles are of the "
        "cleared trucks; the legend gives the share of trucks still inside at the end of the run, whose "
        "times are not known."
    )
    return [style.save(fig, out, "headline_clearance", title, caption, source)]


def group_ecdf(study: Study, gate: str | None, direction: str | None) -> tuple[Figure, str]:
    """The clearance-time ECDF of one gate and direction (None: all), every scenario overlaid, as a
    Figure (not saved) and its alt text: what the what-if page shows for the group a planner picked."""
    data = _samples(study)
    samples = [_select(data[n], gate, direction) for n in study.names]
    replicated = [_by_replication(data[n], gate, direction) for n in study.names]
    log = style.use_log_scale([s.hours for s in samples])
    fig, axes = style.figure(1, 1, 4.2)
    ax = axes[0, 0]
    _ecdf_panel(ax, study.names, samples, log, replicated=replicated)
    where = "all gates" if gate is None else study.gate_label(gate)
    what = "both directions" if direction is None else f"{direction}s"
    title = f"Clearance time, {where}, {what}: {_who(study)}"
    ax.set_title(title)
    ax.set_xlabel(_x_label(log))
    style.legend_below(ax, ncols=min(2, len(samples)))
    _scenario_legend(fig, study, f"{study.base.window_text()}; {_reps_text(study)}. {BAND_KEY}")
    style.keep_axes_height(fig, HEADLINE_AXES_IN)
    alt = (
        f"Share of cleared trucks ({where}, {what}) that crossed within a given time, one curve per "
        "scenario: "
        + "; ".join(f"{n}: {_label(s, r)}" for n, s, r in zip(study.names, samples, replicated, strict=True))
    )
    return fig, alt


def _who(study: Study) -> str:
    if len(study.runs) == 1:
        return study.names[0]
    return f"{study.names[0]} (base) vs " + ", ".join(study.names[1:])


def _reps_text(study: Study) -> str:
    counts = sorted({len(r.replications) for r in study.runs})
    n = "/".join(map(str, counts))
    if counts == [1]:
        return "1 replication: no interval, trucks arriving after the warm-up"
    warning = style.unreliable_text(min(counts))
    return f"{n} replications, trucks arriving after the warm-up" + (f" ({warning})" if warning else "")


def _reps(study: Study) -> str:
    counts = sorted({len(r.replications) for r in study.runs})
    n = "/".join(map(str, counts))
    return f"{n} replication{'s' if counts != [1] else ''} pooled, trucks arriving after the warm-up"


def per_flow(study: Study, out: Path, source: str) -> list[style.Written]:
    """Per gate and direction: ECDF, histogram and box plots."""
    data = _samples(study)
    flows = study.flows()
    gates = list(dict.fromkeys(g for g, _ in flows))
    directions = [d for d in DIRECTIONS if any(d == fd for _, fd in flows)]
    groups = {f: [_select(data[n], *f) for n in study.names] for f in flows}
    replicated = {f: [_by_replication(data[n], *f) for n in study.names] for f in flows}
    log = style.use_log_scale([s.hours for ss in groups.values() for s in ss])
    written = []
    kinds = [
        (
            "clearance_ecdf",
            _ecdf_panel,
            "Clearance-time distribution (ECDF) per gate and direction",
            "ECDF: share of the flow's cleared trucks that cleared within the time on the x axis. "
            f"{BAND_KEY} With two scenarios or fewer, each panel's legend gives p50 and p95 and the "
            "share still inside at the end of the run.",
        ),
        (
            "clearance_hist",
            _hist_panel,
            "Clearance-time histogram per gate and direction",
            "Histogram of clearance times as % of the flow's cleared trucks, one colour and dash per "
            "scenario; markers along the top edge: the median (p50, circle) and p95 (triangle).",
        ),
        (
            "clearance_box",
            _box_panel,
            "Clearance time per gate, direction and scenario",
            "Boxes: middle half of the cleared trucks (25th to 75th percentile), black line the median, "
            "diamond the mean; whiskers from the 5th to the 95th percentile (p95 written beside).",
        ),
    ]
    for name, panel, what, caption in kinds:
        fig, axes = style.figure(
            len(gates),
            len(directions),
            3.2 if name != "clearance_box" else max(1.6, 0.55 * len(study.runs) + 1.0),
            sharex=True,
        )
        for i, g in enumerate(gates):
            for j, d in enumerate(directions):
                ax = axes[i, j]
                if (g, d) not in groups:
                    style.no_data(ax, f"{study.gate_label(g)} has no {d} flow")
                    continue
                legend = len(study.runs) <= PANEL_LEGEND_UP_TO
                if panel is _ecdf_panel:
                    _ecdf_panel(ax, study.names, groups[(g, d)], log, replicated[(g, d)])
                else:
                    panel(ax, study.names, groups[(g, d)], log, legend=legend)
                ax.set_title(f"{study.gate_label(g)}, {d}")
                if i == len(gates) - 1:
                    ax.set_xlabel(_x_label(log))
                ax.tick_params(labelbottom=True)
                if panel is _ecdf_panel and legend:
                    style.legend_below(ax)
        title = f"{what}: {_who(study)}"
        style.suptitle(fig, title)
        if name == "clearance_box":
            fig.supxlabel(BOX_KEY, fontsize=9, color="#444444")
        else:
            _scenario_legend(fig, study, MARKERS[name])
        reps = _reps_text(study) if name == "clearance_ecdf" else _reps(study)
        if name != "clearance_box":  # the boxes' rows are sized by the scenarios already
            style.keep_axes_height(fig, PANEL_AXES_IN)
        written.append(style.save(fig, out, name, title, f"{caption} {reps.capitalize()}.", source))
    return written
