"""An uncertainty study on the terminal: the band of every headline metric per gate and direction, the
inputs that drive it, and (``bordersim backlog`` on an uncertainty folder) the daily band of trucks
waiting. Layout helpers only; the numbers come from the study's saved tables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis.metrics import metric_info
from sim.present.terminal import Block, Layout, emit, group_label, note, say

if TYPE_CHECKING:
    from sim.studies.uncertainty import ObservedBand, UncertaintyResult

BAND_METRICS = (
    "arrived",
    "cleared",
    "mean_clearance_h",
    "p95_clearance_h",
    "mean_wait_h",
    "peak_backlog",
    "peak_waiting",
    "trucks_turned_back",
    "spoiled_trucks",
)
TOP_DRIVERS = 3
RELIABLE_SAMPLES = 32  # below this many input sets, chance rank correlations of about ±0.35 and more


def chance_correlation(samples: int) -> float:
    """How large a rank correlation arises by chance over ``samples`` input sets: about two standard
    errors (1 / sqrt(n - 1) each) of a correlation of 0, at most 1."""
    return min(2.0 / math.sqrt(max(samples - 1, 1)), 1.0)


def few_sets_caveat(samples: int | None) -> str | None:
    """The caveat of drivers read from few input sets (the figure's title and the terminal say the same),
    None when there are enough: 'only 4 input sets: values within ±1.00 are noise'."""
    if samples is None or samples >= RELIABLE_SAMPLES:
        return None
    return f"only {samples} input sets: values within ±{chance_correlation(samples):.2f} are noise"


def band_cell(p5: float, p50: float, p95: float, fmt) -> str:
    """The median and the 5-95% band as one cell: '120 (80 - 160)'."""
    if not math.isfinite(p50):
        return "-"
    return f"{fmt(p50)} ({fmt(p5)} - {fmt(p95)})"


def band_note(samples: int, replications: int) -> str:
    """What a band cell means, and that one replication leaves each sample's own noise in it."""
    text = (
        f"median (5% - 95%) over {samples} input sets drawn from the scenario's uncertain ranges, each "
        f"the mean of its {replications} replications (common random numbers): the spread of the answer "
        "over the inputs' ranges, not a confidence interval"
    )
    if replications < 2:
        text += "; with 1 replication per input set, each set's own simulation noise is inside the band"
    return text


def band_layouts(bands: pd.DataFrame, name: str, samples: int, replications: int) -> list[Layout]:
    """The band of each headline metric, a row per gate and direction (wide), or a block per group."""
    shown = [m for m in BAND_METRICS if m in set(bands["metric"])]
    groups = list(dict.fromkeys(zip(bands["gate"].astype(str), bands["direction"].astype(str), strict=True)))
    cells: dict[tuple[str, str, str], str] = {}
    for r in bands.itertuples():
        fmt = metric_info(str(r.metric)).format
        cells[(str(r.gate), str(r.direction), str(r.metric))] = band_cell(r.p5, r.p50, r.p95, fmt)
    caption = band_note(samples, replications)
    headers = [f"{metric_info(m).label} ({metric_info(m).unit})" for m in shown]
    wide = Block(f"{name}: uncertainty band", ["gate", "dir.", *headers], caption=caption, text={0, 1})
    long = Block(f"{name}: uncertainty band", ["metric", "median (5% - 95%)"], caption=caption)
    for g, d in groups:
        wide.rows.append([g, d, *(cells.get((g, d, m), "not modelled") for m in shown)])
        long.heading(group_label(g, d))
        for m, header in zip(shown, headers, strict=True):
            long.rows.append([header, cells.get((g, d, m), "not modelled")])
    return [[wide], [long]]


def drivers_block(drivers: pd.DataFrame, samples: int | None = None) -> Block:
    """The inputs with the strongest rank correlation with each headline metric of the province; from
    fewer than RELIABLE_SAMPLES input sets, the caption says how large a chance correlation is (a -1.00
    from 4 input sets is as likely noise as not)."""
    block = Block(
        "what drives the band (Spearman rank correlation over the input sets, province)",
        ["metric", "direction", "strongest inputs"],
        text={0, 1, 2},
    )
    table = drivers.dropna(subset=["spearman"])
    for (metric, direction), rows in table.groupby(["metric", "direction"], sort=False):
        top = rows.reindex(rows["spearman"].abs().sort_values(ascending=False).index).head(TOP_DRIVERS)
        text = "; ".join(f"{r.input} {r.spearman:+.2f}" for r in top.itertuples())
        block.rows.append([metric_info(str(metric)).label, str(direction), text])
    block.caption = "+1: the metric rises with the input; -1: it falls; near 0: the input does not move it"
    caveat = few_sets_caveat(samples)
    if caveat:
        block.caption = f"{caveat.capitalize()}. {block.caption}"
    return block


def print_uncertainty(result: UncertaintyResult, fmt: str = "table") -> None:
    """The bands of the headline metrics, then the drivers, then where the study is."""
    print_bands(result.tables, result.scenario, result.samples, result.replications, result.folder, fmt)


def print_bands(
    tables: Mapping[str, pd.DataFrame],
    scenario: str,
    samples: int,
    replications: int,
    folder: object,
    fmt: str = "table",
) -> None:
    """An uncertainty study's bands and drivers from its saved tables (the study, and ``summary`` of its
    folder, print the same)."""
    bands = tables["bands"]
    emit(bands, band_layouts(bands, scenario, samples, replications), fmt)
    if fmt != "table":
        return
    drivers = tables.get("drivers")
    if drivers is not None and not drivers.empty:
        emit(drivers, [[drivers_block(drivers, samples)]], fmt)
        caveat = few_sets_caveat(samples)
        if caveat:
            note(f"What drives the band: {caveat}; more input sets (--samples) make the ranking firmer.")
    say(f"input sets, bands and drivers: {folder}")
    if replications < 2:
        note("1 replication per input set: the band also holds each set's own simulation noise.")


def daily_band_layouts(days: pd.DataFrame, group: str, at: str) -> list[Layout]:
    """The daily band of trucks waiting of one group, a row per date."""
    samples = int(days["samples"].max()) if len(days) else 0
    reps = int(days["replications"].max()) if len(days) else 0
    block = Block(
        f"trucks waiting at {at}, {group}: band over input sets",
        ["date", "5%", "median", "95%"],
        caption=band_note(samples, reps),
    )
    for r in days.itertuples():
        block.rows.append([str(r.date), _count(r.p5), _count(r.p50), _count(r.p95)])
    if len(days):
        top = days.loc[days["p50"].idxmax()]
        band = f"5-95%: {_count(top['p5'])} - {_count(top['p95'])}"
        block.caption += f". Highest median: {_count(top['p50'])} on {top['date']} ({band})"
    return [[block]]


def print_daily_band(days: pd.DataFrame, group: str, at: str, fmt: str = "table") -> None:
    """The daily band of an uncertainty folder (csv and json: the daily rows)."""
    emit(days, daily_band_layouts(days, group, at), fmt)


def observed_band_layouts(result: ObservedBand) -> list[Layout]:
    """Each observation beside the band's median and 5-95% points, then the summary."""
    e = result.error
    block = Block(
        f"{result.scenario}: trucks waiting at {result.at}, observed vs the uncertainty band",
        ["date", "gate", "dir.", "observed", "median (5% - 95%)", "median / observed", "inside"],
        text={0, 1, 2, 6},
    )
    for r in result.table.itertuples():
        ratio = "-" if not math.isfinite(r.ratio) else f"{r.ratio:.2f}"
        inside = "yes" if r.inside_band else "no"
        block.rows.append(
            [
                str(r.date),
                str(r.gate),
                str(r.direction),
                _count(r.observed),
                band_cell(r.p5, r.p50, r.p95, _count),
                ratio,
                inside,
            ]
        )
    block.caption = (
        f"{e['inside_band']} of {e['observations']} observations inside the 90% band (5% - 95% over the "
        f"input sets); RMS of ln(median / observed) {e['rms_log_ratio']:.3f} over {e['compared']} "
        f"observations (geometric mean ratio {e['geometric_mean_ratio']:.3f})"
    )
    return [[block]]


def print_observed_band(result: ObservedBand, fmt: str = "table") -> None:
    """The observations against the band (csv and json: the rows, the summary on stderr)."""
    layouts = observed_band_layouts(result)
    emit(result.table, layouts, fmt)
    if fmt in ("csv", "json"):
        say(layouts[0][0].caption, err=True)


def _count(value: float) -> str:
    """Trucks: whole numbers as such, a mean over replications that is not one with a decimal."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
