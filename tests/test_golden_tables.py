"""Golden-file regression test (not a theory test): every committed scenario gives the same tables as
when ``tests/golden/tables.json`` was written, for the same seed.

It guards changes meant to leave results alone (reorganising modules, cutting engine events without
changing their order). A change that legitimately alters results regenerates the file
(``python -m tests.golden.tables``) and says why; the theory tests then carry the proof of correctness.
"""

from __future__ import annotations

import json

import pytest

from tests.golden import tables as golden

EXPECTED = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))

pytestmark = pytest.mark.golden


def test_every_committed_scenario_has_a_golden_entry() -> None:
    assert sorted(EXPECTED) == [p.relative_to(golden.ROOT).as_posix() for p in golden.committed_scenarios()]


@pytest.mark.parametrize("relpath", sorted(EXPECTED))
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_tables_unchanged(relpath: str) -> None:
    assert golden.fingerprints(golden.ROOT / relpath) == EXPECTED[relpath]
