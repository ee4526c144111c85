"""Calibration and history validation.

The recovery test has a known answer by construction: the target is the cleared value that the scenario
itself produces at 1.3 times its arrivals (same seeds), so calibration must find 1.3 up to the width of
one step of the (common-random-number) step function."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.runner.backends import Backend
from sim.runner.pool import reduce_replications
from sim.scenario import load_scenario
from sim.studies.calibrate import calibrate, cleared_value, scaled
from tests.conftest import ROOT, SCENARIOS, run

SMALL = ["run.horizon=168", "run.warmup=0"]


def test_scaling_multiplies_every_arrival_stream() -> None:
    s = load_scenario(SCENARIOS / "lang_son" / "base_2021.yaml").scenario
    assert scaled(s, 1.7).demand.scale == pytest.approx(1.7 * s.demand.scale)
    m = load_scenario(SCENARIOS / "lang_son_minimal.yaml").scenario
    assert all(scaled(m, 0.5).arrivals[k].rate == pytest.approx(0.5 * a.rate) for k, a in m.arrivals.items())


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_calibration_recovers_a_known_scale() -> None:
    s = load_scenario(SCENARIOS / "lang_son_minimal.yaml", SMALL).scenario
    target = sum(cleared_value(run(scaled(s, 1.3), 11, r), s) for r in range(2)) / 2
    cal = calibrate(s, target, 0.001, replications=2, root_seed=11, backend=Backend(2))
    assert cal.scale == pytest.approx(1.3, abs=0.002)
    assert abs(cal.error) <= 0.001
    assert len(cal.evaluations) >= 3


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_cli_calibrate_writes_a_scenario_that_reproduces_the_target(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = in_tmp / "small.yaml"
    src.write_text((SCENARIOS / "lang_son_minimal.yaml").read_text().replace("horizon: 672", "horizon: 120"))
    s = load_scenario(src, ["run.warmup=12"]).scenario
    target = sum(cleared_value(run(scaled(s, 0.8), 5, r), s) for r in range(2)) / 2
    code = main(
        [
            "calibrate",
            str(src),
            "--target-usd",
            str(target),
            "--replications",
            "2",
            "--seed",
            "5",
            "--tolerance",
            "0.002",
            "--jobs",
            "2",
            "--set",
            "run.warmup=12",
        ]
    )
    assert code == 0
    out = in_tmp / "small_calibrated.yaml"
    text = out.read_text()
    assert text.startswith("# Calibrated by")
    calibrated = load_scenario(out).scenario
    assert calibrated.run.replications == 2
    assert calibrated.run.warmup == 12  # the command line's --set is part of what was calibrated
    ratio = calibrated.arrivals["huu_nghi_export"].rate / s.arrivals["huu_nghi_export"].rate
    assert ratio == pytest.approx(0.8, abs=0.005)
    got = sum(cleared_value(run(calibrated, 5, r), calibrated) for r in range(2)) / 2
    assert got == pytest.approx(target, rel=0.002)


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_unreachable_target_is_refused(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = in_tmp / "small.yaml"
    src.write_text((SCENARIOS / "lang_son_minimal.yaml").read_text().replace("horizon: 672", "horizon: 72"))
    code = main(["calibrate", str(src), "--target-usd", "1e12", "--replications", "2", "--jobs", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot be reached" in err and "Traceback" not in err
    assert not (in_tmp / "small_calibrated.yaml").exists()


@pytest.mark.slow
def test_committed_calibrated_2021_clears_the_target_within_one_percent() -> None:
    """The committed calibrated scenario, rerun over its own replications, clears USD 4,270 M +- 1%."""
    path = SCENARIOS / "lang_son" / "base_2021_calibrated.yaml"
    s = load_scenario(path).scenario
    values = reduce_replications(s, s.run.seed, s.run.replications, cleared_value, Backend(2))
    assert sum(values) / len(values) == pytest.approx(4.27e9, rel=0.01)


def test_reported_figures_file_is_well_formed() -> None:
    data = yaml.safe_load((ROOT / "data" / "reported_2021.yaml").read_text())
    from sim.analysis.history import KINDS

    for section in ("year_2021", "winter_2021_22"):
        for row in data[section]:
            assert row["metric"]["kind"] in KINDS
            assert ("reported" in row) == ("source" in row)  # a reported figure always has its source
