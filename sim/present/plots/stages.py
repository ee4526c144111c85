"""Where the hours go: each stage's waiting and service time, stacked, per gate and direction.

In the spirit of the WCO Time Release Study: a bar per gate (and per scenario) whose segments are the
stages in route order, each split into waiting (hatched, light) and service (solid). The numbers come
from :func:`sim.analysis.summary.stage_breakdown` (means over the trucks that passed each stage, including
the wait outside for a yard place), computed per replication and averaged.

A stage only some trucks pass (a PCR test for drivers without a certificate, plant quarantine for fruit)
has a large mean over its few trucks; stacked as is, it would make the bar longer than any truck's
clearance. So each stage's mean is weighted by the share of the flow's trucks that passed it: the bar is
then the mean over all the flow's trucks, and its length is close to their mean time in the gate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from sim.analysis.summary import stage_breakdown
from sim.present.plots import style
from sim.scenario.schema import DIRECTIONS
from sim.store.reader import RunData, Study

STAGE_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
]
YARD = "yard (outside)"
YARD_COLOUR = "#555555"  # the road: waiting for a yard place is no stage's doing
TRUCK_COLUMNS = ["truck", "gate", "direction", "arrival", "yard_entry"]
STAGE_COLUMNS = ["truck", "gate", "direction", "stage", "stage_order", "queued", "end", "wait", "service"]


def breakdown(run: RunData) -> pd.DataFrame:
    """Per gate, direction and stage: hours of waiting and service per truck of the flow (see above),
    the mean over replications."""
    frames = []
    for rep in run.replications:
        trucks = run.table("trucks", TRUCK_COLUMNS, rep)
        stages = run.table("stages", STAGE_COLUMNS, rep)
        b = stage_breakdown(trucks, stages, run.unit_hours, run.warmup)
        observed = stages[stages["truck"].isin(trucks.loc[trucks["arrival"] >= run.warmup, "truck"])]
        flow_trucks = observed.groupby(["gate", "direction"])["truck"].nunique()
        share = b["trucks"] / [
            flow_trucks.get((g, d), np.nan) for g, d in zip(b["gate"], b["direction"], strict=True)
        ]
        frames.append(b.assign(wait=b["wait"] * share, service=b["service"] * share, replication=rep))
    allreps = pd.concat(frames, ignore_index=True)
    keys = ["gate", "direction", "stage"]
    out = (
        allreps.groupby(keys, sort=False)
        .agg(order=("order", "min"), wait=("wait", "sum"), service=("service", "sum"))
        .reset_index()
    )
    out[["wait", "service"]] /= len(run.replications)  # a replication without a stage contributes 0
    return out.sort_values(["gate", "direction", "order"], kind="stable").reset_index(drop=True)


def stage_bars(study: Study, out: Path, source: str) -> list[style.Written]:
    """Per direction and scenario: the mean time at each stage, waiting and in service, stacked."""
    data = {run.name: breakdown(run) for run in study.runs}
    directions = [d for d in DIRECTIONS if any(d == fd for _, fd in study.flows())]
    # stages in route order: the first flow's, then those only later flows have
    stage_names = list(
        dict.fromkeys(
            s
            for gate, direction in study.flows()
            for b in data.values()
            for s in b[(b["gate"] == gate) & (b["direction"] == direction)].sort_values("order")["stage"]
        )
    )
    others = [s for s in stage_names if s != YARD]
    colours = {s: STAGE_COLOURS[i % len(STAGE_COLOURS)] for i, s in enumerate(others)}
    colours[YARD] = YARD_COLOUR
    gates = study.gates()
    bars_per_panel = len(gates) * len(study.runs)
    fig, axes = style.figure(len(directions), 1, max(2.2, 0.38 * bars_per_panel + 0.8))
    for ax, direction in zip(axes[:, 0], directions, strict=True):
        labels, y = [], 0
        for gate in gates:
            for k, name in enumerate(study.names):
                b = data[name]
                part = b[(b["gate"] == gate) & (b["direction"] == direction)]
                if part.empty:
                    continue
                left = 0.0
                for row in part.itertuples():
                    c = colours[row.stage]
                    ax.barh(y, row.wait, left=left, color=c, alpha=0.45, hatch="///", edgecolor=c, lw=0)
                    left += row.wait
                    ax.barh(y, row.service, left=left, color=c, edgecolor="white", lw=0.3)
                    left += row.service
                ax.annotate(
                    style.hours_text(left),
                    (left, y),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
                labels.append((y, study.gate_label(gate) + ("" if len(study.runs) == 1 else f" · {name}"), k))
                y += 1
            y += 0.4  # a gap between gates
        ax.set_yticks([p for p, _, _ in labels], [t for _, t, _ in labels])
        for tick, (_, _, k) in zip(ax.get_yticklabels(), labels, strict=True):
            tick.set_color(style.colour(k))
        ax.invert_yaxis()
        ax.set_xlabel("hours per truck (mean over all the flow's trucks; a stage a truck skips counts 0)")
        ax.set_title(f"{direction.capitalize()}: where the hours go")
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.08)
    handles = [Patch(color=colours[s], label=s.replace("_", " ")) for s in stage_names]
    handles += [
        Patch(facecolor="white", edgecolor="#777777", hatch="///", label="hatched: waiting"),
        Patch(facecolor="#c8c8c8", edgecolor="#777777", label="solid: service"),
    ]
    fig.legend(handles=handles, loc="outside right upper", title="stage (in route order)")
    title = "Stage breakdown of clearance time: waiting and service per stage"
    style.suptitle(fig, title)
    caption = (
        "Per gate and direction, the hours a truck spends at each stage in route order, waiting (hatched) "
        "and being served (solid); 'yard (outside)' is the wait on the road for a place in the yard. Each "
        "stage is weighted by the share of trucks that pass it, so a bar is the mean over all the flow's "
        "trucks (total written at its end); trucks arriving after the warm-up, mean over replications."
    )
    return [style.save(fig, out, "stage_breakdown", title, caption, source)]
