"""Golden-file regression (not a theory test) over a long horizon: the whole 121-day winter replay, where
bans, daily caps, closures, yards and reneging all bind and queues reach thousands, gives the same tables
as when ``tests/data/winter_full_digests.json`` was written (seed 2021, replication 0).

The golden tables of ``tests/test_golden_tables.py`` cover one week, before the winter's bans start; this
pins the queue machinery (heap order, trucks set aside while banned, lazy withdrawal) where it is used
hardest. The digests were written by the engine before those queue changes and did not move with them.
A change that legitimately alters results (a new table, the replay rebuilt from dated inputs) regenerates
the file with ``python -m tests.test_engine_long_golden`` and says why in the commit."""

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


def digests(relpath: str) -> dict[str, str]:
    """The digest of every table of replication 0 (seed 2021) of a whole scenario."""
    scenario = load_scenario(ROOT / relpath, []).scenario
    tables = run_replication(scenario, replication_seed(2021, 0))
    return {name: table_digest(df) for name, df in tables.as_dict().items()}


def test_full_winter_replay_tables_unchanged() -> None:
    expected = json.loads(DIGESTS.read_text(encoding="utf-8"))
    for relpath, tables in expected.items():
        assert digests(relpath) == tables, relpath


if __name__ == "__main__":
    paths = json.loads(DIGESTS.read_text(encoding="utf-8"))
    DIGESTS.write_text(json.dumps({p: digests(p) for p in paths}, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {DIGESTS} ({len(paths)} scenarios)")
