"""The arithmetic of a calibration to reported figures: residuals weighted by the reported ranges, the
fit table, and which free parameters the figures do not pin down.

A reported figure comes with a range (``range: [LOW, HIGH]`` in ``data/reported_2021.yaml``: the spread
of its sources, or an assumed margin said beside it). Its residual is the simulated value's distance from
the reported one in units of the distance to the range's edge on that side, so a residual of +-1 is the
edge of the range and every figure weighs the same at its edge, whatever its unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.stats import t_half_width

# A parameter is reported as not identified when the figures leave it free to move over this share of
# its bounds (its standard error in range units, see `identifiability`), or when the Jacobian columns of
# two parameters are this close to parallel (|cosine|): the figures then see only a combination of them.
LOOSE_SHARE = 0.5
COLLINEAR = 0.95
FLAT_COLUMN = 1e-3  # a column this small: moving the parameter over its whole bounds changes no figure


def scaled_residual(simulated: float, reported: float, low: float, high: float) -> float:
    """(simulated - reported) over the distance from reported to the range's edge on that side."""
    edge = high - reported if simulated >= reported else reported - low
    if edge <= 0:  # a range with the reported number on its edge: use the other side's width
        edge = max(high - reported, reported - low)
    return (simulated - reported) / edge


def residuals(means: Sequence[float], rows: Sequence[dict[str, Any]]) -> np.ndarray:
    """The weighted residual of every row, from the simulated means."""
    return np.array(
        [scaled_residual(m, r["reported"], *r["range"]) for m, r in zip(means, rows, strict=True)]
    )


def fit_table(values: np.ndarray, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Reported (with its range) against simulated (mean and 95% half-width over the replications, the
    rows of ``values``), the ratio, the weighted residual and whether the mean is inside the range."""
    out = []
    for j, row in enumerate(rows):
        x = values[:, j].astype(float)
        mean = float(x.mean())
        low, high = row["range"]
        out.append(
            {
                "id": row.get("id", ""),
                "figure": row["label"],
                "reported": row["reported"],
                "low": low,
                "high": high,
                "simulated": mean,
                "ci95_half_width": t_half_width(x) if len(x) > 1 else math.nan,
                "ratio": mean / row["reported"] if row["reported"] else math.nan,
                "residual": scaled_residual(mean, row["reported"], low, high),
                "within_range": bool(low <= mean <= high),
                "source": row.get("source", ""),
                "range_source": row.get("range_source", ""),
            }
        )
    return pd.DataFrame(out)


FLAT, WEAK, COLLINEAR_PAIR = "flat", "weak", "collinear"


@dataclass(frozen=True)
class IdentIssue:
    """One identifiability problem: ``kind`` flat (``value``: the Jacobian column's norm), weak (the
    standard error in shares of the bounds) or collinear (two parameters; the cosine of their columns)."""

    kind: str
    parameters: tuple[str, ...]
    value: float

    def as_dict(self) -> dict[str, Any]:
        """For the manifest."""
        return {"kind": self.kind, "parameters": list(self.parameters), "value": self.value}


@dataclass
class Identifiability:
    """How well the reported figures pin down each free parameter, from the Jacobian of the weighted
    residuals with respect to the parameters scaled to their bounds (0 at LOW, 1 at HIGH)."""

    names: list[str]
    column_norm: np.ndarray  # |d residuals / d parameter|: 0 means no figure depends on it
    standard_error: np.ndarray  # sqrt(diag((J'J)^+)), in shares of the bounds: how far the ranges let it move
    cosine: np.ndarray  # between Jacobian columns: +-1 when two parameters move the figures alike

    def issues(self) -> list[IdentIssue]:
        """Each parameter the figures do not identify (flat column, loose standard error) and each
        collinear pair (the words: :func:`sim.present.fit_text.identifiability_warnings`)."""
        out = []
        for k, name in enumerate(self.names):
            if self.column_norm[k] < FLAT_COLUMN:
                out.append(IdentIssue(FLAT, (name,), float(self.column_norm[k])))
            elif self.standard_error[k] > LOOSE_SHARE:
                out.append(IdentIssue(WEAK, (name,), float(self.standard_error[k])))
        for a in range(len(self.names)):
            for b in range(a + 1, len(self.names)):
                r = self.cosine[a, b]
                if abs(r) >= COLLINEAR:
                    out.append(IdentIssue(COLLINEAR_PAIR, (self.names[a], self.names[b]), float(r)))
        return out


def identifiability(jacobian: np.ndarray, names: Sequence[str]) -> Identifiability:
    """Column norms, standard errors (residuals of 1 = the ranges' edges) and the cosines between
    columns, from the Jacobian in bound-scaled coordinates. A flat column gets an infinite standard error;
    the pseudo-inverse keeps the others finite."""
    jac = np.asarray(jacobian, dtype=float)
    norms = np.linalg.norm(jac, axis=0)
    cov = np.linalg.pinv(jac.T @ jac)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    se[norms < FLAT_COLUMN] = math.inf
    unit = jac / np.where(norms < FLAT_COLUMN, 1.0, norms)
    cosine = unit.T @ unit
    np.fill_diagonal(cosine, 1.0)
    return Identifiability(list(names), norms, se, cosine)


def held_back_by(
    jacobian: np.ndarray,
    residual: np.ndarray,
    scaled_params: np.ndarray,
    row_names: Sequence[str],
    param_names: Sequence[str],
) -> list[str]:
    """For each row outside its range (|residual| > 1), why the fit leaves it there, from the Jacobian at
    the best point: no free parameter moves it; or only one does; or moving the parameters to bring it in
    is stopped by a bound; or it worsens other rows (named, the most affected first). Empty for rows
    inside."""
    jac = np.asarray(jacobian, dtype=float)
    r = np.asarray(residual, dtype=float)
    notes = []
    for i in range(len(row_names)):
        if abs(r[i]) <= 1.0:
            notes.append("")
            continue
        grad = jac[i]
        if np.linalg.norm(grad) < FLAT_COLUMN:
            notes.append("no free parameter moves it")
            continue
        d = -np.sign(r[i]) * grad / np.linalg.norm(grad)  # the way that brings this row in
        blocked = [
            param_names[j]
            for j in range(len(d))
            if (d[j] > 0 and scaled_params[j] >= 1 - 1e-6) or (d[j] < 0 and scaled_params[j] <= 1e-6)
        ]
        worse = [(2 * r[k] * float(jac[k] @ d), row_names[k]) for k in range(len(r)) if k != i]
        worse = sorted((w for w in worse if w[0] > 1e-3), reverse=True)[:3]
        parts = []
        share = np.abs(grad) / np.abs(grad).sum()
        if share.max() >= 0.95:
            parts.append(f"only {param_names[int(share.argmax())]} moves it")
        if blocked:
            parts.append(f"{', '.join(blocked)} at its bound")
        if worse:
            parts.append(f"bringing it in moves {', '.join(n for _, n in worse)} away from theirs")
        notes.append("; ".join(parts) or "the fit stopped before reaching it")
    return notes
