"""The animated map of the border (``bordersim animate``): the gates where they are, their queues in time.

A planner who knows AnyLogic or Arena expects to *see* the border: the gates on a map, trucks piling up in
front of one while another is closed. This draws it from a run's saved tables, frame by frame:

- the gates at their coordinates (a gate's ``location`` in the scenario; a gate without one is placed
  schematically and says so), the road approaches from Lang Son city and the border, both schematic;
- per gate and direction, the trucks waiting outside the yard and inside it, as bars with their numbers
  (the mean over the replications), and the gate's daily caps in force on the frame's day (the Chinese
  side's acceptance, after the scenario's dated changes);
- closures as they happen: a scheduled closure or ban in force during the frame, or the share of the
  replications that had a random stoppage then;
- a date stamp.

The numbers come from the exact backlog series (:mod:`sim.analysis.backlog`, the same values as
``bordersim backlog``'s table: a day's frame reads each count at ``at_hour``, 12:00 by default). Frames
are written as a GIF through Pillow, or as an MP4 through ffmpeg where it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.analysis.backlog import FlowChanges, value_at
from sim.errors import UserError
from sim.present.placing import Spot
from sim.present.plots import style
from sim.scenario.schema import DIRECTIONS
from sim.store.layout import check_figures_out
from sim.store.reader import RunData

STEPS = {"day": 24.0, "hour": 1.0}  # hours between frames
FPS = {"day": 4, "hour": 12}
MAX_FRAMES = 24 * 62  # hour by hour through two months; a year hour by hour would be 8,760 frames
COLUMNS = ("outside", "in_yard")
COLUMN_WORDS = {"outside": "outside the yard", "in_yard": "in the yard"}
BAR_COLOURS = {"outside": "#d95f02", "in_yard": "#1b9e77"}
# assumption: Lang Son city centre, approximate (±2 km, no source in the repository); roads are drawn as
# straight lines from it to each gate (schematic, not the road network)
CITY = (21.853, 106.761)
WIDTH_PX, HEIGHT_PX = 1000, 760  # even sizes: H.264 needs them
OPEN, CLOSED, STOPPED = "#2c7bb6", "#999999", "#d7301f"  # a gate's marker: open, closed or ban, stoppage
BORDER = "#7b3294"


@dataclass(frozen=True)
class Frame:
    """One picture of the map: when, the counts per (gate, direction, column) and what is closed."""

    index: int
    when: datetime
    counts: dict[tuple[str, str, str], float]
    closed: dict[str, str] = field(default_factory=dict)  # gate -> words, '' when open
    caps: dict[str, list[str]] = field(default_factory=dict)  # gate -> a line per direction: caps in force


@dataclass(frozen=True)
class Animation:
    """What ``animate`` wrote: the file, its frames, and a note (e.g. MP4 skipped for lack of ffmpeg)."""

    path: Path
    frames: int
    step: str
    note: str = ""


# --------------------------------------------------------------------------------------------------
# the numbers
# --------------------------------------------------------------------------------------------------
def frame_times(run: RunData, step: str = "day", at_hour: float = 12.0) -> tuple[list[datetime], np.ndarray]:
    """The frames' calendar times and sim times. Day by day: every calendar day of the run, read at
    ``at_hour`` (as :func:`sim.analysis.backlog.daily` does; NaN where that hour is outside the run);
    hour by hour: every whole hour from the start to the horizon."""
    if step not in STEPS:
        raise UserError.single(None, "--step", f"'{step}' is not a step; choose day or hour")
    if step == "day":
        first = run.start.replace(hour=0, minute=0, second=0, microsecond=0)
        offset_h = (run.start - first).total_seconds() / 3600.0
        days = int(np.ceil((run.horizon * run.unit_hours + offset_h) / 24.0))
        when = [first + timedelta(days=d, hours=at_hour) for d in range(days)]
        t = (np.arange(days) * 24.0 + at_hour - offset_h) / run.unit_hours
        return when, t
    hours = int(np.floor(run.horizon * run.unit_hours + 1e-9))
    when = [run.start + timedelta(hours=h) for h in range(hours + 1)]
    return when, np.arange(hours + 1) / run.unit_hours


def _closures(run: RunData) -> pd.DataFrame:
    try:
        return run.table("closures")
    except UserError:  # results written before closures were recorded
        return pd.DataFrame(columns=["replication", "gate", "kind", "applies_to", "start", "end"])


def _closed_words(rows: pd.DataFrame, lo: float, hi: float, n_reps: int) -> str:
    """What is closed at a gate between sim times lo and hi: scheduled closures and bans (the same in
    every replication) by name, random stoppages as the share of replications that had one."""
    active = rows[(rows["start"] < hi) & (rows["end"] > lo)]
    if active.empty:
        return ""
    words = []
    for kind, text in (("closure", "closed"), ("ban", "ban")):
        part = active[active["kind"] == kind]
        if len(part):
            stages = sorted({s for s in part["applies_to"].astype(str) if s and s != "all"})
            words.append(text + (f" ({', '.join(stages)})" if stages else ""))
    random = active[active["kind"] == "random"]
    if len(random):
        k = random["replication"].nunique()
        words.append(f"stoppage in {k} of {n_reps} replications")
    return "; ".join(words)


def frames(run: RunData, step: str = "day", at_hour: float = 12.0) -> list[Frame]:
    """Every frame's numbers: the mean over the replications of each gate and direction's trucks
    outside the yard and in it, read from the exact backlog series at the frame's time."""
    when, t = frame_times(run, step, at_hour)
    if len(when) > MAX_FRAMES:
        raise UserError.single(
            None,
            "--step",
            f"{len(when)} frames hour by hour is too many (at most {MAX_FRAMES}, two months); "
            "use --step day or a shorter run",
        )
    valid = (t >= 0) & (t <= run.horizon)
    series = run.table("backlog_series")
    changes = [FlowChanges.of(r.reset_index(drop=True)) for _, r in series.groupby("replication", sort=True)]
    counts: dict[tuple[str, str, str], np.ndarray] = {}
    for gate, direction in run.flows():
        steps = [c.steps(gate, direction) for c in changes]
        for column in COLUMNS:
            values = np.mean([value_at(s, t, column) for s in steps], axis=0)
            counts[(gate, direction, column)] = np.where(valid, values, np.nan)
    closures = _closures(run)
    span = STEPS[step] / run.unit_hours
    starts = t if step == "hour" else t - at_hour / run.unit_hours  # the hour from t; a day: its calendar day
    out = []
    for i, moment in enumerate(when):
        closed = {}
        for gate in run.gates:
            rows = closures[closures["gate"] == gate]
            closed[gate] = _closed_words(rows, starts[i], starts[i] + span, len(run.replications))
        caps = {gate: caps_text(run, gate, moment) for gate in run.gates}
        out.append(Frame(i, moment, {k: float(v[i]) for k, v in counts.items()}, closed, caps))
    return out


def caps_text(run: RunData, gate: str, when: datetime) -> list[str]:
    """A line per direction the gate has: the daily caps in force at ``when`` (after the dated changes,
    e.g. the winter's 65 a day at Huu Nghi from the onset), or 'none'."""
    lines = []
    for direction in DIRECTIONS:
        if (gate, direction) not in run.flows():
            continue
        caps = [f"{cap:,d}/day ({where})" for cap, where in run.daily_caps(gate, direction, on=when)]
        lines.append(f"{direction} cap: " + (", ".join(caps) if caps else "none"))
    return lines


# --------------------------------------------------------------------------------------------------
# the picture
# --------------------------------------------------------------------------------------------------
def count_text(value: float) -> str:
    """A mean count of trucks as drawn on the map: a whole number, '-' outside the run."""
    return "-" if not np.isfinite(value) else f"{round(value) + 0:,d}"


def _positions(run: RunData) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """Each gate's (lat, lon): its scenario location, else a schematic place on a line north of the
    city (named in the returned list, so the map can say which gates are placed schematically)."""
    out, schematic = {}, []
    for k, (gate, spec) in enumerate(run.gates.items()):
        if spec.location is not None:
            out[gate] = (spec.location.lat, spec.location.lon)
        else:
            out[gate] = (CITY[0] + 0.12, CITY[1] - 0.3 + 0.2 * k)
            schematic.append(gate)
    return out, schematic


def bar_scale(all_frames: Sequence[Frame]) -> tuple[float, float]:
    """The run's largest mean count over every gate, direction and frame, and the bars' one axis end: a
    round number above it with room for its written value. Per-gate scales made 40 trucks at one gate
    as long as 4,000 at another."""
    values = [v for f in all_frames for v in f.counts.values() if np.isfinite(v)]
    peak = max(values, default=0.0)
    top = float(MaxNLocator(nbins=5).tick_values(0.0, max(peak, 1.0) * 1.3)[-1])
    return peak, top


def border_line(where: dict[str, tuple[float, float]], xlim: tuple[float, float]) -> tuple[list, list]:
    """The border as drawn (lon, lat lists): through every gate, west to east (a gate is on the border
    by definition), level out to the map's edges. Schematic between gates; a line drawn 0.06° north of
    them put every gate about 7 km into Viet Nam and ran through the names."""
    order = sorted(where.values(), key=lambda p: p[1])
    xs = [xlim[0], *(lon for _, lon in order), xlim[1]]
    ys = [order[0][0], *(lat for lat, _ in order), order[-1][0]]
    return xs, ys


def _square(centre, half: float):
    """A mark's extent in pixels: a square of side 2 x ``half`` around its centre."""
    from matplotlib.transforms import Bbox

    x, y = centre
    return Bbox([[x - half, y - half], [x + half, y + half]])


class MapFigure:
    """The map as a matplotlib Figure whose texts and bars :meth:`show` sets to a frame's values; one
    figure for every frame (redrawn, not rebuilt), which is what makes a year of frames affordable.

    The map's names are placed by :mod:`sim.present.placing` (clear of each other, of the markers and of
    the border); the closure notes sit in their own column beside the map, never on it; every gate's
    bars share one scale, the run's largest count, stated under them."""

    def __init__(self, run: RunData, all_frames: Sequence[Frame], step: str = "day", at_hour: float = 12.0):
        import matplotlib.pyplot as plt

        self.run, self.frames, self.step = run, list(all_frames), step
        self.texts: dict[tuple[str, str, str], object] = {}
        self.bars: dict[tuple[str, str, str], object] = {}
        self.closed_text: dict[str, object] = {}
        self.closed_name: dict[str, object] = {}
        self.markers: dict[str, object] = {}
        self.labels: dict[str, object] = {}
        self.titles: dict[str, object] = {}
        self.peak, self.top = bar_scale(self.frames)
        flows = run.flows()
        gates = list(run.gates)
        with plt.rc_context(style.RC):
            self.fig = plt.figure(figsize=(WIDTH_PX / style.DPI, HEIGHT_PX / style.DPI), dpi=style.DPI)
            outer = self.fig.add_gridspec(
                2, 1, height_ratios=[3.0, 1.6], hspace=0.5, left=0.11, right=0.98, top=0.9, bottom=0.12
            )
            upper = outer[0].subgridspec(1, 2, width_ratios=[3.0, 1.0], wspace=0.1)
            self.map = self.fig.add_subplot(upper[0])
            self.side = self.fig.add_subplot(upper[1])
            self.side.set_axis_off()
            lower = outer[1].subgridspec(1, len(gates), wspace=0.12)
            self._draw_map(gates)
            first = None
            for j, gate in enumerate(gates):
                ax = self.fig.add_subplot(lower[j], sharey=first, sharex=first)
                first = first or ax
                self._draw_panel(ax, gate, [d for g, d in flows if g == gate])
                ax.tick_params(labelleft=j == 0)
            first.set_xlim(0, self.top)  # shared: one scale for every gate, every frame
        self.stamp = self.fig.text(0.015, 0.975, "", fontsize=15, weight="bold", va="top", gid="date")
        reps = len(run.replications)
        when = (
            f"at {int(at_hour):02d}:{round(at_hour % 1 * 60):02d} each day" if step == "day" else "each hour"
        )
        self.fig.text(
            0.015,
            0.935,
            f"{run.name}: trucks waiting, mean of {reps} replication{'s' if reps != 1 else ''} {when}",
            fontsize=9.5,
            va="top",
        )
        frame_word = "day" if step == "day" else "hour"
        self.scale_text = self.fig.text(
            0.5,
            0.012,
            f"Bars: one scale for every gate and every {frame_word} of the run, 0 to {self.top:,.0f} trucks "
            f"(the run's largest mean count is {self.peak:,.0f})",
            ha="center",
            va="bottom",
            fontsize=8.5,
            gid="scale",
        )
        self._lay_out()

    def _draw_map(self, gates: list[str]) -> None:
        ax = self.map
        where, schematic = _positions(self.run)
        self.where = where
        lats = [p[0] for p in where.values()] + [CITY[0]]
        lons = [p[1] for p in where.values()] + [CITY[1]]
        ax.set_xlim(min(lons) - 0.09, max(lons) + 0.09)
        ax.set_ylim(min(lats) - 0.07, max(lats) + 0.09)
        ax.set_aspect(1 / np.cos(np.radians(np.mean(lats))))  # degrees of longitude are shorter here
        ax.set_ylabel("latitude (°N)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.2)
        bx, by = border_line(where, ax.get_xlim())
        (self.border,) = ax.plot(bx, by, color=BORDER, lw=2, ls=(0, (6, 3)), zorder=1, gid="border")
        words = {"color": BORDER, "fontsize": 10, "weight": "bold", "transform": ax.transAxes}
        self.countries = {
            "CHINA": ax.text(0.98, 0.96, "CHINA", ha="right", va="top", gid="country|china", **words),
            "VIET NAM": ax.text(0.02, 0.03, "VIET NAM", ha="left", va="bottom", gid="country|vn", **words),
        }
        ax.plot([CITY[1]], [CITY[0]], "s", color="#444444", ms=7, zorder=3)
        self.city_label = ax.annotate(
            "Lang Son city", (CITY[1], CITY[0]), xytext=(6, -10), textcoords="offset points", fontsize=8,
            gid="city",
        )  # fmt: skip
        self.roads = []
        for gate in sorted(gates, key=lambda g: where[g][1]):
            lat, lon = where[gate]
            self.roads += ax.plot(
                [CITY[1], lon], [CITY[0], lat], color="#999999", lw=2.5, zorder=1, solid_capstyle="round"
            )
            self.markers[gate] = ax.scatter([lon], [lat], s=140, color=OPEN, zorder=5, edgecolor="black")
            label = self.run.gate_label(gate) + (" (placed schematically)" if gate in schematic else "")
            self.labels[gate] = ax.annotate(
                label, (lon, lat), xytext=(0, -9), textcoords="offset points", ha="center", va="top",
                fontsize=10, weight="bold", gid=f"gate|{gate}", zorder=6,
            )  # fmt: skip
        from matplotlib.lines import Line2D

        keys = [(OPEN, "open"), (CLOSED, "closed or ban"), (STOPPED, "random stoppage")]
        handles = [Line2D([], [], marker="o", ls="", color=c, mec="black", ms=8, label=t) for c, t in keys]
        handles += [
            Line2D(
                [], [], color=BORDER, lw=2, ls=(0, (6, 3)), label="border (schematic,\nthrough the gates)"
            ),
            Line2D([], [], color="#999999", lw=2.5, label="road (schematic)"),
        ]
        # beside the map, not on it: inside, it hid a gate (Chi Ma, in the lower right corner)
        self.legend = self.side.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1.0), fontsize=8, title="gate",
            title_fontsize=8, borderaxespad=0.0,
        )  # fmt: skip
        self.closed_heading = self.side.text(
            0.0, 0.5, "closures in this frame", fontsize=8.5, weight="bold", va="top", ha="left",
            transform=self.side.transAxes,
        )  # fmt: skip
        self.closed_none = self.side.text(
            0.0,
            0.5,
            "none",
            fontsize=8.5,
            color="#666666",
            va="top",
            ha="left",
            transform=self.side.transAxes,
        )
        for gate in gates:
            self.closed_name[gate] = self.side.text(
                0.0, 0.5, "", fontsize=8.5, weight="bold", va="top", ha="left", transform=self.side.transAxes
            )
            self.closed_text[gate] = self.side.text(
                0.0, 0.5, "", fontsize=8.5, color="#b2182b", va="top", ha="left",
                transform=self.side.transAxes, gid=f"closed|{gate}", linespacing=1.2,
            )  # fmt: skip
        ax.set_xlabel(
            "longitude (°E) · gates at approximate coordinates (the scenario's 'location'); roads and border "
            "schematic",
            fontsize=8,
        )

    def _lay_out(self) -> None:
        """Once, after the layout is final: place the map's names with the renderer's extents and fix
        the closure column's line height and width in the side column."""
        from sim.present.placing import around, place, side_of

        self.fig.canvas.draw()
        renderer = self.fig.canvas.get_renderer()
        ax = self.map
        border = ax.transData.transform(np.column_stack(self.border.get_data()))
        roads = [ax.transData.transform(np.column_stack(r.get_data())) for r in self.roads]
        r_gate, r_city = 9.0, 6.0  # pixels: half a marker's size, with its edge
        marks = [_square(ax.transData.transform((lon, lat)), r_gate) for lat, lon in self.where.values()]
        marks.append(_square(ax.transData.transform((CITY[1], CITY[0])), r_city))
        corners = {
            "CHINA": [Spot((0.98, 0.96), "right", "top"), Spot((0.02, 0.96), "left", "top"),
                      Spot((0.5, 0.96), "center", "top")],
            "VIET NAM": [Spot((0.02, 0.03), "left", "bottom"), Spot((0.98, 0.03), "right", "bottom"),
                         Spot((0.5, 0.03), "center", "bottom")],
        }  # fmt: skip
        order = sorted(self.labels, key=lambda g: self.where[g][1])
        labels = [(self.labels[g], around(), None) for g in order]
        labels.append((self.city_label, around(), None))
        labels += [
            (self.countries[name], spots, side_of(border, north=name == "CHINA"))
            for name, spots in corners.items()
        ]
        place(labels, renderer, ax.bbox, marks=marks, lines=[border], soft_lines=roads)
        side = self.side.get_window_extent(renderer)
        legend = self.legend.get_window_extent(renderer)
        self.note_line = 8.5 * 1.35 * style.DPI / 72 / side.height  # one line, in side-axes fraction
        self.note_top = (legend.y0 - side.y0) / side.height - self.note_line
        self.note_chars = max(12, int(side.width / (8.5 * 0.56 * style.DPI / 72)))

    def _show_closed(self, frame: Frame) -> None:
        """The closure column: a gate's name and what is closed there, only for gates with a note."""
        import textwrap

        y = self.note_top
        self.closed_heading.set_y(y)
        y -= self.note_line * 1.3
        self.closed_none.set_y(y)
        self.closed_none.set_visible(not any(frame.closed.get(g, "") for g in self.closed_text))
        for gate, text in self.closed_text.items():
            words = frame.closed.get(gate, "")
            text.set_text(textwrap.fill(words, self.note_chars) if words else "")
            self.closed_name[gate].set_text(self.run.gate_label(gate) if words else "")
            if not words:
                continue
            self.closed_name[gate].set_y(y)
            text.set_y(y - self.note_line)
            y -= self.note_line * (1.3 + 1.2 * (text.get_text().count("\n") + 1))

    def _draw_panel(self, ax, gate: str, directions: list[str]) -> None:
        rows = [(d, c) for d in DIRECTIONS for c in COLUMNS]  # the same rows in every panel (shared axis)
        y = np.arange(len(rows))[::-1]
        for (d, c), yy in zip(rows, y, strict=True):
            if d not in directions:
                ax.text(0, yy, f"no {d} flow", va="center", fontsize=8, color="#666666")
                continue
            self.bars[(gate, d, c)] = ax.barh([yy], [0.0], color=BAR_COLOURS[c], height=0.7)[0]
            self.texts[(gate, d, c)] = ax.text(
                0, yy, "", va="center", ha="left", fontsize=9, gid=f"{gate}|{d}|{c}"
            )
        ax.set_yticks(y, [f"{d} {'outside' if c == 'outside' else 'yard'}" for d, c in rows], fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3))  # the next panel's 0 follows this one's last tick
        ax.set_xlabel("trucks", fontsize=8)
        self.titles[gate] = ax.set_title(self._title(gate, self.frames[0].caps.get(gate, [])), fontsize=8.5)
        ax.grid(axis="y", visible=False)

    def _title(self, gate: str, caps: list[str]) -> str:
        """A panel's title: the gate, the caps in force in the frame shown, and the yard's places."""
        cap = self.run.yard_capacity(gate)
        return "\n".join([self.run.gate_label(gate), *caps, *([f"yard holds {cap:,d}"] if cap else [])])

    def show(self, frame: Frame) -> None:
        """Set every number, bar, closure note and the date stamp to ``frame``."""
        for key, text in self.texts.items():
            value = frame.counts.get(key, np.nan)
            self.bars[key].set_width(value if np.isfinite(value) else 0.0)
            text.set_text(count_text(value))
            text.set_x((value if np.isfinite(value) else 0.0) + self.bars[key].axes.get_xlim()[1] * 0.02)
        for gate, title in self.titles.items():  # the caps of the frame's day, not the scenario's first
            title.set_text(self._title(gate, frame.caps.get(gate, [])))
        self._show_closed(frame)
        for gate, marker in self.markers.items():
            words = frame.closed.get(gate, "")
            marker.set_color(CLOSED if words.startswith(("closed", "ban")) else STOPPED if words else OPEN)
            marker.set_edgecolor("black")
        stamp = f"{frame.when:%a %d %b %Y}" + (f" {frame.when:%H:%M}" if self.step == "hour" else "")
        self.stamp.set_text(stamp)

    def rgba(self, frame: Frame) -> np.ndarray:
        """The frame drawn, as an RGBA array (height x width x 4)."""
        self.show(frame)
        self.fig.canvas.draw()
        return np.asarray(self.fig.canvas.buffer_rgba()).copy()

    def close(self) -> None:
        """Free the figure."""
        import matplotlib.pyplot as plt

        plt.close(self.fig)


# --------------------------------------------------------------------------------------------------
# the files
# --------------------------------------------------------------------------------------------------
def _gif(images: Callable[[], object], path: Path, fps: int) -> None:
    from PIL import Image

    pictures = [Image.fromarray(a).convert("RGB").quantize(colors=128) for a in images()]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=round(1000 / fps), loop=0)


def _mp4(images: Callable[[], object], path: Path, fps: int, ffmpeg: str) -> None:
    cmd = [
        ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba",
        "-s", f"{WIDTH_PX}x{HEIGHT_PX}", "-r", str(fps), "-i", "-",
        "-pix_fmt", "yuv420p", "-vcodec", "libx264", str(path),
    ]  # fmt: skip
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        for a in images():
            proc.stdin.write(np.ascontiguousarray(a).tobytes())
        proc.stdin.close()
        error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise UserError.single(str(path), "", f"ffmpeg could not write the video: {error.strip()[:300]}")


def still(run: RunData, out: Path, when: str, step: str = "day", at_hour: float = 12.0) -> Animation:
    """One frame of the map as a PNG: the frame of date ``when`` (YYYY-MM-DD, or YYYY-MM-DDTHH:MM hour
    by hour), for a document or a slide."""
    all_frames = frames(run, step, at_hour)
    fmt = "%Y-%m-%d" if step == "day" else "%Y-%m-%dT%H:%M"
    pick = [f for f in all_frames if f.when.strftime(fmt) == when]
    if not pick:
        first, last = all_frames[0].when.strftime(fmt), all_frames[-1].when.strftime(fmt)
        raise UserError.single(None, "--frame", f"'{when}' is not a frame of this run ({first} to {last})")
    figure = MapFigure(run, all_frames, step, at_hour)
    try:
        figure.show(pick[0])
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.fig.savefig(out, format="png", dpi=style.DPI, metadata={"Software": "bordersim"})
    finally:
        figure.close()
    return Animation(out, 1, step)


def animate_run(
    run: RunData, out: Path, step: str = "day", at_hour: float = 12.0, frame: str | None = None
) -> Animation:
    """Write the animated map of a run to ``out`` (.gif, or .mp4 with ffmpeg; without ffmpeg the GIF is
    written beside it and the note says why), or with ``frame`` one date's picture (.png). Never among a
    results folder's tables (:func:`~sim.store.layout.check_figures_out`)."""
    out = Path(out)
    check_figures_out(out.parent)
    if frame is not None:
        if out.suffix.lower() != ".png":
            raise UserError.single(None, "--out", f"'{out.name}': one frame (--frame) is written as .png")
        return still(run, out, frame, step, at_hour)
    if out.suffix.lower() not in (".gif", ".mp4"):
        raise UserError.single(None, "--out", f"'{out.name}' must end in .gif or .mp4 (.png with --frame)")
    all_frames = frames(run, step, at_hour)
    figure = MapFigure(run, all_frames, step, at_hour)
    note = ""
    out.parent.mkdir(parents=True, exist_ok=True)
    try:

        def images():
            return (figure.rgba(f) for f in all_frames)

        if out.suffix.lower() == ".mp4":
            ffmpeg = shutil.which("ffmpeg")
            if ffmpeg is None:
                gif = out.with_suffix(".gif")
                note = (
                    f"ffmpeg is not installed, so no MP4: wrote {gif.name} instead (apt-get install ffmpeg)"
                )
                out = gif
                _gif(images, out, FPS[step])
            else:
                _mp4(images, out, FPS[step], ffmpeg)
        else:
            _gif(images, out, FPS[step])
    finally:
        figure.close()
    return Animation(out, len(all_frames), step, note)
