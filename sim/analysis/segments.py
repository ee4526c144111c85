"""A particle's run cut into segments between observation times: the counts each segment adds and the
state it leaves, read in the worker so that only numbers and a few state rows come back.

``assimilate`` runs a particle from its saved state at ``a`` to the next observation time ``b`` (a
scenario whose ``run.start`` is ``a``, :mod:`sim.studies.assimilate`). The counts it reads are those of
the whole run (:class:`~sim.analysis.counts.Query`, times from the scenario's original start), so each
segment adds its part, and a count is the sum of its parts:

- ``waiting`` at ``t`` belongs to the one segment with ``a < t <= b`` (the first segment also takes
  ``t <= a``, the scenario's start): read at ``t - a`` of the segment's own clock;
- ``crossed`` and ``turned_back`` in a window ``[s, e)`` (a calendar day that may straddle ``b``) count
  the segment's events in ``[max(s, a), min(e, b))``: the days cut by an observation time are summed
  over the segments, each event counted once (a truck still in service at ``b`` is in the state, and
  its clearance is counted by the next segment).

The state at ``b`` is :func:`sim.analysis.state_at.state_at` of the segment's tables at its end: the
trucks waiting then, with their arrival in the province (the cargo's clock), which the next segment's
scenario starts from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.counts import CountReader, Query
from sim.analysis.state_at import state_at


def segment_queries(
    queries: tuple[Query, ...], a: float, b: float, first: bool
) -> tuple[np.ndarray, tuple[Query, ...]]:
    """The queries a segment ``[a, b]`` adds to (their indices) and each as the segment's own clock reads
    it (see the module docstring)."""
    index, shifted = [], []
    for k, q in enumerate(queries):
        if q.what == "waiting":
            if (first or q.start > a) and q.start <= b:
                index.append(k)
                shifted.append(Query(q.gate, q.direction, q.what, max(q.start - a, 0.0), max(q.end - a, 0.0)))
            continue
        lo, hi = max(q.start, a), min(q.end, b)
        if lo < hi:
            index.append(k)
            shifted.append(Query(q.gate, q.direction, q.what, lo - a, hi - a))
    return np.asarray(index, dtype=int), tuple(shifted)


@dataclass(frozen=True)
class SegmentReader:
    """A reducer for the runner's tasks: the counts of one segment (for the query indices ``index`` of
    the whole run's ``total`` queries, zeros elsewhere) and the state at its end ``at`` (state-file rows;
    None when ``at`` is None: the last segment, whose state no one reads)."""

    reader: CountReader
    index: tuple[int, ...]
    total: int
    at: float | None

    def __call__(self, tables: object, scenario: object = None) -> tuple[np.ndarray, pd.DataFrame | None]:
        counts = np.zeros(self.total)
        if self.index:
            counts[list(self.index)] = self.reader(tables, scenario)
        if self.at is None:
            return counts, None
        trucks, stages = tables.trucks, tables.stages  # type: ignore[attr-defined]
        return counts, state_at(trucks, stages, scenario, self.at)  # type: ignore[arg-type]
