"""Golden-file regression (not a theory test) over a long horizon: the whole 121-day winter replay, where
bans, daily caps, closures, yards and reneging all bind and queues reach thousands, gives the same tables
as when ``tests/data/winter_full_digests.json`` was written (seed 2021, replication 0).

The golden tables of ``tests/test_golden_tables.py`` cover one week, before the winter's bans start; this
pins the queue machinery (heap order, trucks set aside while banned, lazy withdrawal) where it is used
hardest. The digests were written by the engine before those queue changes and did not move with them.
A change that legitimately alters results regenerates the file and says why."""

from __future__ import annotations

import json

import pytest

from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from tests.conftest import ROOT
from tests.golden.tables import table_digest

DIGESTS = ROOT / "tests" / "data" / "winter_full_digests.json"

pytestmark = [pytest.mark.golden, pytest.mark.slow]


def test_full_winter_replay_tables_unchanged() -> None:
    expected = json.loads(DIGESTS.read_text(encoding="utf-8"))
    for relpath, digests in expected.items():
        scenario = load_scenario(ROOT / relpath, []).scenario
        tables = run_replication(scenario, replication_seed(2021, 0))
        assert {name: table_digest(df) for name, df in tables.as_dict().items()} == digests, relpath
