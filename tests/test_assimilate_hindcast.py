"""The hindcast's cut (issue 30, row 3): at each origin D the rows known by D's midnight are assimilated
and only later rows forecast. A day's count is known at the end of its day, so the crossings of D-1 are
assimilated at D, never forecast at a horizon of 0 days and scored in the 1-3 day band. A stub twin
records what the filter is given (no simulation)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from sim.analysis.smc import Filtered, StepLog
from sim.studies.hindcast import hindcast_scores


class StubTwin:
    """Rows like read_observed's, and a filter whose particles all count 20 (records its past rows)."""

    root_seed = 1

    def __init__(self) -> None:
        days = [date(2021, 12, d) for d in (1, 2, 3, 4)]
        self.rows = pd.DataFrame(
            {
                "date": days,
                "when": [datetime(2021, 12, d + 1) for d in (1, 2, 3, 4)],  # each day's count at its end
                "gate": "gate",
                "direction": "export",
                "what": "crossed",
                "value": [21.0, 17.0, 19.0, 22.0],
                "rel_error": np.nan,
                "abs_error": np.nan,
            }
        )
        self.pasts: list[pd.DataFrame] = []

    def filter(self, rows, end, particles, seed, predict=None):
        self.pasts.append(rows)
        values = np.full((particles, len(rows) + len(predict)), 20.0)
        w = np.full(particles, 1.0 / particles)
        step = StepLog(np.arange(len(rows)), particles, False, np.nan, values, w)
        return Filtered(np.zeros((particles, 1)), np.arange(particles), values, w, [step], particles), None


def test_the_count_of_the_day_before_is_assimilated_not_forecast_at_horizon_zero() -> None:
    twin = StubTwin()
    _, rows = hindcast_scores(twin, 8)
    assert (rows["horizon_days"] >= 1).all()  # the first forecast count is the origin's own day
    pasts = [p for p in twin.pasts if len(p)]  # (the prior band: one filter of no observation)
    first = pasts[0]  # origin 2021-12-02: the crossings of 2021-12-01 are known at its midnight
    assert list(first["date"]) == [date(2021, 12, 1)]
    origin = rows[rows["origin"] == "2021-12-03"]
    assert sorted(set(origin["when"])) == ["2021-12-04T00:00:00", "2021-12-05T00:00:00"]
    persistence = origin[origin["method"] == "persistence"]
    assert list(persistence["p50"]) == [17.0, 17.0]  # the crossings of 2021-12-02, carried forward
