"""A robust study on the terminal and in figures: the robust summary in words first (which policy is
rarely far from the best, where it fails, what is worth learning), then the table per headline metric,
and the figure of each policy's outcome over the top driver's range. The numbers come from the study's
saved tables (:mod:`sim.studies.robust`); only the words and layout are made here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.metrics import metric_info
from sim.analysis.robust import ROBUST_RULE
from sim.present.input_names import input_label
from sim.present.terminal import Block, emit, note, say
from sim.present.views import StudyView


def _metric(ref: str) -> tuple[str, Any]:
    """A metric reference's label and number format (the group after '@' kept in the label)."""
    name, _, group = ref.partition("@")
    info = metric_info(name)
    label = f"{info.label} ({info.unit})" + (f" at {group}" if group else "")
    return label, info.format


def box_sentence(rows: pd.DataFrame) -> str:
    """One box in words: 'route_by_wait loses to hold_upstream_jan when KEY is under V and ...: in X% of
    the input sets (coverage C, density D)'."""
    first = rows.iloc[0]
    who = str(first["policy"])
    against = first["against"] if isinstance(first["against"], str) else ""
    what = f"loses to {against}" if first["fails"] == "loses" and against else str(first["fails"])
    verb = what.split(" ")[0]
    share = first["sets_in_box"] / first["sets"] if first["sets"] else math.nan
    limits = [r for r in rows.itertuples() if isinstance(r.input, str) and r.input]
    if not limits:
        if first["failing_sets"] == 0:
            return f"{who} never {verb.rstrip('s')}s in these input sets."
        return (
            f"{who} {what} in {first['failing_sets']} of {first['sets']} input sets, with no box of inputs "
            "that holds them (they are spread over the ranges)."
        )
    words = " and ".join(
        f"{input_label(r.input)} is {'under' if r.op == '<' else 'at least'} {r.value_text}" for r in limits
    )
    return (
        f"{who} {what} when {words}: {share:.0%} of the input sets fall there "
        f"(coverage {first['coverage']:.0%} of the {first['failing_sets']} sets where it {verb}, "
        f"density {first['density']:.0%})."
    )


def summary_lines(result: Any) -> list[str]:
    """The robust summary in sentences, decision measure first."""
    tables = result.tables
    table, boxes, voi = tables["robust"], tables["boxes"], tables["voi"]
    if table.empty:
        return ["no metric was defined in every input set: nothing to rank"]
    decision = str(table["metric"].iloc[0])
    rows = table[table["metric"] == decision]
    label, fmt = _metric(decision)
    top = rows.iloc[0]
    plural = "s" if result.replications != 1 else ""
    lines = [
        f"Across {result.samples} plausible input sets ({result.replications} replication{plural} each, "
        f"common inputs and random numbers), by {ROBUST_RULE} on {label}: {top['policy']} ranks first "
        f"(best in {top['p_best']:.0%} of the sets, 95% interval {top['p_best_low']:.0%} - "
        f"{top['p_best_high']:.0%}; expected regret {fmt(top['expected_regret'])}, "
        f"worst {fmt(top['worst_regret'])})."
    ]
    learned = list(getattr(result, "learned", []) or [])
    if learned:
        lines.append(
            f"The inputs the twin learned ({', '.join(input_label(n) for n in learned)}) were drawn from its "
            f"posterior ({result.twin}); the others from their ranges."
        )
    robust_order = list(rows.sort_values("robust_rank")["policy"])
    if "central_rank" in rows:
        central_order = list(rows.sort_values("central_rank")["policy"])
        if central_order != robust_order:
            lines.append(
                "The ranking at the central values differs: "
                + " > ".join(central_order)
                + " at the files' own values, but "
                + " > ".join(robust_order)
                + " across the input sets."
            )
        else:
            lines.append("The ranking at the central values is the same.")
    for _, rows_of in boxes.groupby(["policy", "fails"], sort=False) if not boxes.empty else []:
        lines.append(box_sentence(rows_of))
    if not voi.empty:
        v = voi.iloc[0]
        switch = (
            f"; knowing it would switch the choice to {v['switch']} in part of its range"
            if isinstance(v["switch"], str) and v["switch"]
            else ("; it would not change the choice")
        )
        lines.append(
            f"Worth learning first: {input_label(str(v['input']))} "
            f"(expected regret {fmt(v['expected_regret'])} -> "
            f"{fmt(v['with_input_known'])} if it were known{switch})."
        )
    return lines


def robust_block(rows: pd.DataFrame, target: str | None) -> Block:
    """One headline metric's table: a row per policy, robust rank first."""
    label, fmt = _metric(str(rows["metric"].iloc[0]))
    headers = ["rank", "policy", "P(best) (95%)", "exp. regret", "worst regret", "diff. from base (5-50-95%)"]
    has_target = "meets_target" in rows and rows["meets_target"].notna().any()
    if has_target:
        headers.append(f"meets {target}")
    headers.append("central rank")
    block = Block(label, headers, text={1})
    for r in rows.sort_values("robust_rank").itertuples():
        cells = [
            str(r.robust_rank),
            str(r.policy),
            f"{r.p_best:.0%} ({r.p_best_low:.0%}-{r.p_best_high:.0%})",
            fmt(r.expected_regret),
            fmt(r.worst_regret),
            f"{fmt(r.diff_p50)} ({fmt(r.diff_p5)} .. {fmt(r.diff_p95)})",
        ]
        if has_target:
            cells.append(f"{r.meets_target:.0%}" if pd.notna(r.meets_target) else "-")
        cells.append(str(getattr(r, "central_rank", "-")))
        block.rows.append(cells)
    block.caption = f"ranked by {ROBUST_RULE}; regret: the gap to the best policy of the same input set"
    return block


def print_robust(result: Any, fmt: str = "table") -> None:
    """The robust summary in words, then one table per headline metric, then where the study is."""
    table = result.summary
    if fmt == "table":
        for line in summary_lines(result):
            say(line)
    blocks = [robust_block(rows, result.target) for _, rows in table.groupby("metric", sort=False)]
    emit(table, [blocks], fmt)
    for line in caution_lines(result) if fmt == "table" else caution_lines(result)[:1]:
        note(line)
    say(f"input sets, boxes and value of information: {result.folder}")


FEW_SETS = 32  # below this many input sets, P(best) intervals are wide and boxes rough


def caution_lines(result: Any) -> list[str]:
    """What the reader must know before trusting the ranking: headline metrics left out as not modelled,
    and too few input sets."""
    lines = []
    if getattr(result, "not_modelled", None):
        lines.append(
            f"not modelled in {result.names[0]}, so not ranked: {', '.join(result.not_modelled)} "
            "(the scenario sets no cost rates, perishables or holding for them)"
        )
    if result.samples < FEW_SETS:
        lines.append(
            f"only {result.samples} input sets: P(best) intervals are wide and boxes rough; use --samples 64."
        )
    return lines


def robust_figure(result: Any, out: Path | None = None) -> list[Path]:
    """Each policy's decision measure over the range of the input worth learning first (a point an input
    set, a line through the means of its quartile bins); PNG and SVG in the folder's plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = result.tables
    voi, sets, table = tables["voi"], tables["sets"], tables["robust"]
    if voi.empty or sets.empty:
        return []
    driver, decision = str(voi["input"].iloc[0]), str(table["metric"].iloc[0])
    label, _ = _metric(decision)
    info = metric_info(decision.partition("@")[0])
    drawn = sets[sets["set"] > 0]
    x = (
        pd.to_datetime(drawn[driver])
        if drawn[driver].astype(str).str.match(r"\d{4}-\d\d-\d\d").all()
        else (drawn[driver].astype(float))
    )
    fig, ax = plt.subplots(figsize=(8, 4.8))
    bins = pd.qcut(x.rank(method="first"), min(4, len(x)), labels=False)
    for policy in result.names:
        y = drawn[f"{decision}:{policy}"] / info.scale
        points = ax.scatter(x, y, s=14, alpha=0.6, label=policy)
        means = pd.DataFrame({"x": x, "y": y}).groupby(bins).agg({"x": "median", "y": "mean"})
        ax.plot(means["x"], means["y"], color=points.get_facecolor()[0], alpha=0.9)
    ax.set_xlabel(f"{input_label(driver)} (the input worth learning first)")
    ax.set_ylabel(label)
    ax.set_title(f"Each policy over {len(drawn)} input sets, {result.replications} replication(s) each")
    ax.legend(fontsize=8)
    fig.tight_layout()
    target = Path(out) if out is not None else Path(result.folder) / "plots"
    target.mkdir(parents=True, exist_ok=True)
    files = [target / "robust_driver.png", target / "robust_driver.svg"]
    for f in files:
        fig.savefig(f, dpi=110)
    plt.close(fig)
    return files


def show_robust(result: Any, request: Any) -> int:
    """The shows.PRINTERS entry (failures are reported before it): the summary, the tables, the figure."""
    print_robust(result, request.fmt)
    drawn = robust_figure(result)
    if drawn:
        say(f"figure: {drawn[0]}")
    return 0


@dataclass
class RobustView(StudyView):
    """The API's robust study: ``summary`` (per metric and policy), ``tables`` (robust, sets, boxes, voi),
    ``lines`` (the summary in words) and ``plot()`` (each policy over the top driver's range)."""

    @cached_property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """robust, sets, boxes and voi, read from the folder."""
        return self.result.tables

    @property
    def lines(self) -> list[str]:
        """The robust summary in sentences."""
        return summary_lines(self.result)

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """The figure of each policy's outcome over the top driver's range (PNG and SVG)."""
        return robust_figure(self.result, Path(out) if out is not None else None)
