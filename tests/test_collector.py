"""The garbage collector is spared during a replication and given back as it was (sim/model/collector.py)."""

from __future__ import annotations

import gc

import pytest

from sim.model.collector import YOUNG_THRESHOLD, collector_spared


def test_the_collector_is_spared_inside_and_restored_after_even_on_error() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), collector_spared():
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0  # what existed before is frozen
        raise RuntimeError("a run that fails")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_freeze_of_the_callers_own_is_kept() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_spared():
            pass
        assert gc.get_freeze_count() == frozen  # not unfrozen by the run
    finally:
        gc.unfreeze()
