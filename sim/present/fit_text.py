"""A calibration in words: a fit's parameters, its table and what the Jacobian says about
identifiability, as the terminal, ``fit.md`` and the calibrated scenario's header show them, and the
header of a scale calibration's scenario (the numbers: :class:`sim.studies.fit.Fit`,
:class:`sim.analysis.fit.Identifiability`, :class:`sim.studies.calibrate.Calibration`)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis.fit import FLAT, WEAK, Identifiability, IdentIssue
from sim.version import __version__

if TYPE_CHECKING:
    from sim.studies.calibrate import Calibration
    from sim.studies.fit import Fit


def _made_by(command: str) -> list[str]:
    return [
        f"Calibrated by `{command}`",
        f"on {datetime.now().astimezone().isoformat(timespec='seconds')}, bordersim {__version__}.",
    ]


def scale_header(cal: Calibration, command: str) -> list[str]:
    """The header of a scale calibration's scenario file: how, every evaluation, the result."""
    final = cal.final
    header = [
        *_made_by(command),
        f"Target: simulated cleared value USD {cal.target:,.0f} within {cal.tolerance:.2%};",
        f"{cal.replications} replications per evaluation from root seed {cal.root_seed} (common random"
        " numbers), scipy.optimize.brentq on the arrival scale.",
        "Evaluations (scale -> mean cleared value, 95% CI half-width):",
    ]
    for e in cal.evaluations:
        err = e.mean / cal.target - 1
        header.append(f"  {e.scale:.6f} -> USD {e.mean:,.0f} +- {e.half_width():,.0f} ({err:+.3%})")
    header.append(
        f"Result: scale {cal.scale:.6f}; cleared USD {final.mean:,.0f} +- {final.half_width():,.0f} "
        f"(error {cal.error:+.4%})."
    )
    return header


def fit_header(result: Fit, command: str) -> list[str]:
    """The header of a fitted scenario file: how, and the fit as in ``fit.md``."""
    return [*_made_by(command), *fit_markdown(result).splitlines()]


def identifiability_text(issue: IdentIssue) -> str:
    """One sentence on a parameter the figures do not identify, or on a collinear pair."""
    if issue.kind == FLAT:
        return (
            f"{issue.parameters[0]}: no reported figure changes when it moves over its bounds (Jacobian "
            f"column {issue.value:.2g}); the data do not identify it, its value is the start's"
        )
    if issue.kind == WEAK:
        se = issue.value
        much = f"{se:.0%} of its bounds" if se < 10 else "more than ten times its bounds"
        return (
            f"{issue.parameters[0]}: weakly identified: within their ranges the figures let it move over "
            f"{much} (standard error from the Jacobian)"
        )
    a, b = issue.parameters
    return (
        f"{a} and {b}: collinear (cosine of their Jacobian columns {issue.value:+.3f}): the figures see "
        "mainly a combination of the two"
    )


def identifiability_warnings(ident: Identifiability) -> list[str]:
    """One sentence per parameter the figures do not identify, and per collinear pair."""
    return [identifiability_text(issue) for issue in ident.issues()]


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    if abs(v) >= 1:
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return f"{v:.3f}"


def table_lines(table: pd.DataFrame) -> list[str]:
    """The fit table as markdown lines: reported (range), simulated +- 95% half-width, ratio, residual,
    inside the range or not."""
    lines = [
        "| figure | reported [range] | simulated (95% CI) | ratio | residual | in range |",
        "|---|---:|---:|---:|---:|:---|",
    ]
    for _, r in table.iterrows():
        why = r.get("why_outside") or ""
        inside = "yes" if r["within_range"] else ("**no**: " + why if why else "**no**")
        lines.append(
            f"| {r['figure']} | {_fmt(r['reported'])} [{_fmt(r['low'])}, {_fmt(r['high'])}] | "
            f"{_fmt(r['simulated'])} +- {_fmt(r['ci95_half_width'])} | {r['ratio']:.3f} | "
            f"{r['residual']:+.2f} | {inside} |"
        )
    return lines


def parameter_lines(result: Fit) -> list[str]:
    """Each free parameter: bounds, start and fitted value."""
    return [
        f"{k}: {s:.6g} -> {v:.6g} (bounds [{b[0]:g}, {b[1]:g}])"
        for k, b, s, v in zip(result.keys, result.bounds, result.start, result.fitted, strict=True)
    ]


def fit_markdown(result: Fit) -> str:
    """The fit as a short markdown document: parameters, annual value, identifiability, table."""
    ident = (
        identifiability_warnings(result.ident)
        if result.ident
        else ["no Jacobian was computed (budget too small)"]
    )
    parts = [
        f"Fit of {len(result.keys)} free parameters to {len(result.rows)} reported figures: "
        f"{len(result.points)} evaluations of {result.replications} replications (root seed "
        f"{result.root_seed}, common random numbers), {result.seconds / 60:.1f} min; {result.stopped}.",
        "",
        *[f"- {line}" for line in parameter_lines(result)],
        "",
        f"Annual value: {result.annual}.",
        "",
        "Identifiability: "
        + (
            "; ".join(ident)
            if ident
            else "every free parameter is identified "
            "(no flat or collinear Jacobian column, each within half its bounds)"
        )
        + ".",
        "",
        f"Fit table ({result.final_replications} replications):",
        "",
        *table_lines(result.table),
    ]
    return "\n".join(parts)
