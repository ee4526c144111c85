"""The cyclic garbage collector spared while a replication runs: what existed before the run is frozen
(never traversed again until the run ends) and young objects are collected less often.

Why: a run allocates millions of short-lived objects (event tuples, bound methods, draws); CPython counts
them and, every 700 allocations, traverses the young objects, and now and then every object the process
holds: the scenario, pydantic's and pandas' modules, the model. A profile of the compiled calibrated year
(perf, issue 32) put about 10% of its time in the collector, the same seconds in both builds, which
hides most of what compiling saves. Almost none of a run's objects are cyclic garbage (a truck and its
callbacks are freed by reference counting), so collecting less often costs no memory to speak of.

Nothing here changes what the model computes: the collector never decides an event or a draw.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000  # allocations between two collections of the young generation (CPython: 700)


@contextmanager
def collector_spared() -> Iterator[None]:
    """Freeze what exists, raise the young generation's threshold; both undone on the way out.

    A process that froze objects itself (``gc.get_freeze_count()`` not 0, e.g. a pre-fork server) keeps
    its own freeze: nothing is frozen or unfrozen here then."""
    thresholds = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freeze:
            gc.unfreeze()
