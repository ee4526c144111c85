"""Particles continued from their saved state (issue 30, "the forecast's state machinery is the way"):
a segment starts with exactly the queue the one before it left, each truck keeping its arrival (the
cargo's clock), the counts of a day cut by an observation time are summed over its segments, and the
days a particle simulates are the span's, not the span's once per step."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from sim.analysis.counts import CountReader, Query
from sim.analysis.segments import SegmentReader, segment_queries
from sim.model.network import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from sim.scenario.schema import StateGroup
from sim.scenario.state import fit_yards
from sim.studies.assimilate import assimilate, setup
from sim.studies.options import StudyOptions
from tests.conftest import ROOT

TWIN = ROOT / "data" / "twins" / "mm1_twin.yaml"
START = datetime(2021, 12, 1)


def observed(tmp_path, days: int) -> str:
    path = tmp_path / "observed.csv"
    rows = [f"{(START + timedelta(days=d)).date()},gate,export,crossed,20" for d in range(days)]
    path.write_text("date,gate,direction,what,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_a_window_cut_by_a_step_time_is_counted_once_in_each_segment() -> None:
    queries = (
        Query("gate", "export", "crossed", 24.0, 48.0),  # a day cut at 30 h
        Query("gate", "export", "waiting", 30.0, 30.0),  # at the cut: the earlier segment's
        Query("gate", "export", "waiting", 0.0, 0.0),  # at the start: the first segment's
    )
    first, shifted0 = segment_queries(queries, 0.0, 30.0, first=True)
    second, shifted1 = segment_queries(queries, 30.0, 60.0, first=False)
    assert list(first) == [0, 1, 2] and list(second) == [0]
    assert (shifted0[0].start, shifted0[0].end) == (24.0, 30.0)  # the day's first 6 hours
    assert (shifted1[0].start, shifted1[0].end) == (0.0, 18.0)  # its last 18, on the segment's own clock
    assert shifted0[1].start == 30.0


def test_a_particle_continued_from_its_saved_state_starts_with_the_queue_it_left(tmp_path) -> None:
    """Inputs that build a queue (arrivals above the service rate): the state at the cut holds the
    trucks waiting then, the next segment starts with exactly them, and each keeps its arrival."""
    twin = setup(TWIN, StudyOptions(), observed(tmp_path, 2), "poisson")
    u = np.array([0.95, 0.95])  # rate 1.16 an hour, service 1.07 h: a queue builds up
    cut, end = START + timedelta(hours=30), START + timedelta(hours=48)
    queries = (Query("gate", "export", "waiting", 30.0, 30.0), Query("gate", "export", "crossed", 24.0, 48.0))
    index0, shifted0 = segment_queries(queries, 0.0, 30.0, first=True)
    s0 = twin.particle_scenario(u, START, cut, None)
    tables0 = run_replication(s0, replication_seed(1, 0))
    counts0, state = SegmentReader(CountReader(shifted0), tuple(index0), 2, 30.0)(tables0, s0)
    assert counts0[0] >= 5 and state["count"].sum() == counts0[0]
    s1 = twin.particle_scenario(u, cut, end, state)
    assert s1.run.start == cut and s1.run.horizon == pytest.approx(18.0)
    tables1 = run_replication(s1, replication_seed(1, 1))
    at_start = CountReader((Query("gate", "export", "waiting", 0.0, 0.0),))(tables1, s1)
    assert at_start[0] == counts0[0]  # the queue it left, truck for truck
    trucks0, trucks1 = tables0.trucks, tables1.trucks
    waiting0 = trucks0[(trucks0["arrival"] <= 30.0) & ~(trucks0["exit"] <= 30.0)]
    started1 = trucks1[trucks1["arrival"] < 0]  # the state's trucks
    minutes0 = np.floor(waiting0["origin_arrival"].to_numpy() * 60.0 + 1e-9)
    minutes1 = np.round((started1["origin_arrival"].to_numpy() + 30.0) * 60.0)
    assert sorted(minutes1) == sorted(minutes0)  # the cargo's clock carried over, to the minute
    index1, shifted1 = segment_queries(queries, 30.0, 48.0, first=False)
    counts1, _ = SegmentReader(CountReader(shifted1), tuple(index1), 2, None)(tables1, s1)
    cleared0 = np.count_nonzero((trucks0["cleared"] >= 24.0) & (trucks0["cleared"] < 30.0))
    cleared1 = np.count_nonzero(trucks1["cleared"] < 18.0)
    assert counts0[1] + counts1[1] == cleared0 + cleared1  # the cut day, summed over its segments


def test_a_smaller_yard_sends_its_latest_arrivals_outside() -> None:
    """A moved particle's yard may be smaller than the trucks its parent's state has in it."""
    s = load_scenario(ROOT / "scenarios" / "lang_son_minimal.yaml", ["gates.huu_nghi.yard.capacity=6"])
    s = s.scenario
    stage = s.gates["huu_nghi"].export.enters_yard_at  # type: ignore[union-attr]
    groups = [
        StateGroup(
            gate="huu_nghi", direction="export", count=4, where=stage, arrived=datetime(2021, 12, 1, h)
        )
        for h in (9, 8)  # the later one listed first
    ] + [StateGroup(gate="huu_nghi", direction="export", count=3, where="outside")]
    fitted = fit_yards(s, groups)
    by = pd.DataFrame([g.model_dump() for g in fitted])
    inside = by[by["where"] == stage]
    assert inside["count"].sum() == 6
    assert by.loc[by["arrived"] == datetime(2021, 12, 1, 8), "count"].sum() == 4  # the earliest kept in full
    assert by["count"].sum() == 11 and (by.loc[by["where"] == "outside", "count"].sum() == 5)


@pytest.mark.slow  # about 15 s of particles on two busy cores: run with -m slow
def test_each_particle_simulates_the_span_once_however_many_steps(tmp_path) -> None:
    options = StudyOptions(root=tmp_path, jobs=2, label="span")
    result = assimilate(TWIN, options, observed=observed(tmp_path, 3), particles=4, days=1.0)
    span_days = 4.0  # from the start to the last count's time (3 days) and the 1-day fan
    assert len(result.ess) == 3 and result.runs == 4 * (3 + 1)
    assert result.simulated_days == pytest.approx(4 * span_days)  # not 4 x span x steps
    assert date.fromisoformat(result.daily["date"].max()) == date(2021, 12, 4)
