"""The forecast study and command: files, the state as day 0, the level's first crossing, paired policy
differences and the decision summary, on a short run of the minimal scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.studies.forecast import first_below, forecast
from sim.studies.options import StudyOptions
from tests.conftest import SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"


def test_first_below_reads_the_exact_step_series() -> None:
    steps = pd.DataFrame(
        {"time": [0.0, 0.0, 1.0, 2.0, 2.0, 3.5, 4.0], "waiting": [1, 600, 550, 480, 520, 490, 700]}
    )
    # at time 2 the count passes 480 on its way to 520 within the instant: the state after it is 520
    assert first_below(steps, 500) == 3.5
    assert first_below(steps, 600) == 1.0  # 600 at time 0 is not below 600, 550 at time 1 is
    assert first_below(steps, 601) == 0.0  # the state itself is already below
    assert np.isnan(first_below(steps, 400))


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_forecast_writes_its_tables_and_pairs_a_policy(tmp_path: Path, capsys) -> None:
    state = tmp_path / "state.csv"
    state.write_text("gate,direction,count,waited_h\nhuu_nghi,export,400,24\ntan_thanh,export,150,\n")
    policy = tmp_path / "more_lanes.yaml"
    policy.write_text(
        f"extends: {MINIMAL}\nname: more_lanes\n"
        "gates: {huu_nghi: {export: {stages: {china_side: {servers: 8}}}}}\n"  # assumption: a test policy
    )
    result = forecast(
        MINIMAL,
        StudyOptions(replications=2, jobs=1, root=tmp_path / "results", label="t"),
        state=state,
        start="2021-06-01T12:00",
        days=2,
        policies=[policy],
        until_below=300,
        direction="export",
    )
    folder = result.folder
    for name in ("forecast.csv", "forecast_daily.csv", "state.csv", "comparison.md", "manifest.json"):
        assert (folder / name).is_file(), name
    daily = result.daily
    day0 = (
        daily[(daily["gate"] == "all") & (daily["direction"] == "export")]
        .sort_values("date")
        .groupby("variant")
        .head(1)
    )
    assert (day0["mean"] == 550).all() and (day0["half_width"] == 0).all()  # day 0 is the state, exactly
    until = result.summary[result.summary["metric"] == "days_until_below"].set_index("variant")
    assert set(until.index) == {"lang_son_minimal", "more_lanes"}
    assert until.loc["more_lanes", "diff"] < 0  # twice the Chinese-side lanes clear the queue sooner
    assert (until["n"] + until["never"] == 2).all()
    outcomes = result.summary[(result.summary["gate"] == "all") & (result.summary["direction"] == "export")]
    cleared = outcomes[outcomes["metric"] == "cleared"].set_index("variant")
    # paired over the same replications: the mean difference is the difference of the means
    diff = cleared.loc["more_lanes", "mean"] - cleared.loc["lang_son_minimal", "mean"]
    assert np.isclose(cleared.loc["more_lanes", "diff"], diff)
    assert result.decisions["more_lanes"].ranking
    assert pd.read_csv(folder / "state.csv")["count"].sum() == 550


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_forecast_command_prints_and_draws_the_fan(tmp_path: Path, capsys) -> None:
    state = tmp_path / "state.csv"
    state.write_text("gate,direction,count,waited_h\nhuu_nghi,export,400,24\n")
    code = main(
        [
            "forecast",
            str(MINIMAL),
            "--state",
            str(state),
            "--start",
            "2021-06-01T12:00",
            "--days",
            "2",
            "--until-below",
            "300",
            "--direction",
            "export",
            "--replications",
            "2",
            "--jobs",
            "1",
            "--results-root",
            str(tmp_path / "results"),
            "--label",
            "cli",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and ("first fall below 300" in out or "do not fall below 300" in out)
    assert (
        tmp_path / "results" / "lang_son_minimal" / "forecast-cli" / "plots" / "forecast_fan.png"
    ).is_file()


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_level_never_reached_is_a_result_not_a_crash(tmp_path: Path, capsys) -> None:
    """Issue 29, row 2: when the queue does not fall below --until-below within the horizon (in no
    replication, for the base or the policy), the forecast says so; paired differences of the other
    outcomes are still given."""
    state = tmp_path / "state.csv"
    state.write_text("gate,direction,count,waited_h\nhuu_nghi,export,400,24\n")
    policy = tmp_path / "same.yaml"
    policy.write_text(f"extends: {MINIMAL}\nname: same\n")
    argv = ["forecast", str(MINIMAL), str(policy), "--state", str(state), "--start", "2021-06-01T12:00"]
    argv += ["--days", "0.5", "--until-below", "1", "--replications", "2", "--jobs", "1"]
    assert main([*argv, "--results-root", str(tmp_path / "r"), "--label", "never"]) == 0
    out = capsys.readouterr().out
    assert "never" in out.lower() or "not within" in out.lower()
    saved = pd.read_csv(tmp_path / "r" / "lang_son_minimal" / "forecast-never" / "forecast.csv")
    until = saved[saved["metric"] == "days_until_below"]
    assert until["mean"].isna().all() and (until["never"] == 2).all()
    cleared = saved[(saved["metric"] == "cleared") & (saved["variant"] == "same")]
    assert cleared["diff"].notna().any()  # the outcomes that exist are still paired
