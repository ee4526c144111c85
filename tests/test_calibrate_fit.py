"""Calibration to reported figures (bordersim calibrate with free parameters): recovery of known
parameters, identifiability warnings, and the error paths.

The recovery test has a known answer by construction. A synthetic scenario (two gates, one fast stage
each, arrivals derived from a trade value) is run at known values (arrival scale 1.2, gate A's share
0.3) with *other* seeds than the fit's, and its cleared trucks a day and gate A's share become the
"reported" figures. The fit starts at (1.0, 0.5). Its error is then the noise between the two sets of
seeds, which the test bounds from first principles: cleared trucks are Poisson counts and gate A's
share a binomial proportion (every truck clears; the stage is never busy), so with N1 trucks in the
fit's replications and N2 in the reported ones, the relative standard error of the recovered scale is
sqrt(1/N1 + 1/N2) and that of the share sqrt(p(1-p)(1/N1 + 1/N2)). The test allows 3.5 standard errors
plus the optimiser's step tolerance.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.analysis.fit import held_back_by, identifiability, scaled_residual
from sim.analysis.history import history_values
from sim.cli import main
from sim.present.fit_text import identifiability_warnings
from sim.runner.backends import Backend
from sim.runner.pool import reduce_replications
from sim.scenario import load_scenario
from sim.scenario.free import FreeKeyError, FreeParameters
from sim.store.catalog import kind_of
from sim.studies.fit import fit

RATE = 200  # trucks a day at scale 1
DAYS = 28
TRUTH = {"demand.scale": 1.2, "demand.gate_shares.export.a": 0.3}
BOUNDS = {"demand.scale": [0.8, 1.6], "demand.gate_shares.export.a": [0.1, 0.7]}

SYNTHETIC = f"""
name: synthetic
run: {{time_unit: hours, start: 2021-06-01T00:00:00, horizon: {24 * DAYS}, warmup: 0, seed: 7}}
truck_classes:
  t: {{commodity: generic, value_usd: {{dist: deterministic, value: 10000}}}}
gates:
  a: {{export: {{stages: {{desk: {{servers: unlimited, service: {{dist: deterministic, value: 0.01}}}}}}}}}}
  b: {{export: {{stages: {{desk: {{servers: unlimited, service: {{dist: deterministic, value: 0.01}}}}}}}}}}
demand:
  annual_value_usd: {RATE * 365 * 10000}
  direction_shares: {{export: 1.0}}
  gate_shares: {{export: {{a: 0.5, b: 0.5}}}}
  class_shares: {{export: {{t: 1.0}}}}
calibration:
  section: synthetic
  free: {BOUNDS}
"""

METRICS = [{"kind": "cleared_per_day"}, {"kind": "share", "by": "gate", "value": "a"}]


def _write_case(folder: Path) -> tuple[Path, Path, np.ndarray]:
    """The synthetic scenario and a reported-figures file simulated at the true values (seed 99)."""
    scenario_file = folder / "synthetic.yaml"
    scenario_file.write_text(SYNTHETIC)
    loaded = load_scenario(scenario_file)
    free = FreeParameters(loaded.scenario, list(TRUTH))
    truth = free.apply(list(TRUTH.values()))
    values = np.array(
        reduce_replications(truth, 99, 4, functools.partial(history_values, metrics=METRICS), Backend(2)),
        dtype=float,
    )
    per_day, share = (float(v) for v in values.mean(axis=0))
    rows = [
        {
            "id": "per_day",
            "label": "trucks a day",
            "metric": METRICS[0],
            "reported": float(per_day),
            "range": [0.95 * per_day, 1.05 * per_day],
            "source": "simulated at the truth",
        },
        {
            "id": "share_a",
            "label": "gate A's share",
            "metric": METRICS[1],
            "reported": float(share),
            "range": [share - 0.05, share + 0.05],
            "source": "simulated at the truth",
        },
    ]
    reported = folder / "reported.yaml"
    reported.write_text(yaml.safe_dump({"synthetic": rows}))
    return scenario_file, reported, values


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_fit_recovers_two_known_parameters(in_tmp: Path) -> None:
    scenario_file, reported, truth_values = _write_case(in_tmp)
    loaded = load_scenario(scenario_file)
    result = fit(
        loaded,
        extra_free={},
        reported=reported,
        replications=2,
        final_replications=2,
        root_seed=7,
        backend=Backend(2),
        max_evaluations=30,
        diff_step=0.02,
        root=in_tmp / "results",
    )
    scale, share = result.fitted
    n2 = truth_values[:, 0].sum() * DAYS  # trucks in the reported replications
    n1 = n2 / 2  # the fit's two replications, at the truth
    rel = math.sqrt(1 / n1 + 1 / n2)
    p = TRUTH["demand.gate_shares.export.a"]
    optimiser = 0.02 / 5  # the step tolerance, in shares of the bounds
    assert abs(scale - 1.2) <= 3.5 * rel * 1.2 + optimiser * 0.8, (scale, rel)
    assert abs(share - p) <= 3.5 * math.sqrt(p * (1 - p)) * rel + optimiser * 0.6, (share, rel)
    assert result.ident is not None and result.ident.issues() == []  # both are identified
    # the table, the evaluations and the manifest are in the results store
    folder = result.folder
    assert folder is not None and (folder / "fit.csv").is_file() and (folder / "manifest.json").is_file()
    assert len((folder / "evaluations.csv").read_text().splitlines()) == len(result.points) + 1
    assert bool(result.table["within_range"].all())
    assert kind_of(folder) == "calibration"


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_cli_writes_a_calibrated_file_with_the_fitted_values(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario_file, reported, _ = _write_case(in_tmp)
    args = [
        "calibrate",
        str(scenario_file),
        "--reported",
        str(reported),
        "--jobs",
        "2",
        "--max-evaluations",
        "7",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| trucks a day |" in out and "demand.scale: 1 ->" in out
    written = in_tmp / "synthetic_calibrated.yaml"
    text = written.read_text()
    assert text.startswith("# Calibrated by") and "# fitted by bordersim calibrate" in text
    calibrated = load_scenario(written).scenario
    fitted = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith("demand."))
    assert calibrated.demand.scale == pytest.approx(
        float(fitted["demand.scale"].split(" -> ")[1].split()[0]), rel=1e-5
    )
    shares = calibrated.demand.gate_shares["export"]
    assert shares["a"] + shares["b"] == pytest.approx(1.0)
    assert main(args) == 2  # never over an existing file without --force
    assert "--force" in capsys.readouterr().err


def test_identifiability_flags_a_flat_and_a_collinear_column() -> None:
    jac = np.array([[3.0, 6.0, 0.0, 0.0], [1.0, 2.01, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0]])
    warnings = identifiability_warnings(identifiability(jac, ["a", "b", "flat", "d"]))
    assert any(w.startswith("flat: no reported figure changes") for w in warnings)
    assert any(w.startswith("a and b: collinear") for w in warnings)
    assert any(w.startswith("a: weakly identified") for w in warnings)  # only a + 2b is seen
    assert not any(w.startswith("d") for w in warnings)  # its own figure, standard error 1/4 of its bounds
    assert identifiability(np.eye(2) * 10, ["x", "y"]).issues() == []


def test_why_a_figure_stays_outside_its_range() -> None:
    # a and b pull p opposite ways; c is moved by q, which sits at its upper bound; d by nothing
    jac = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.5, 0.5]])
    notes = held_back_by(
        jac, np.array([2.0, -1.5, -3.0, 4.0, 0.2]), np.array([0.5, 1.0]), list("abcde"), ["p", "q"]
    )
    assert notes[0] == "only p moves it; bringing it in moves b away from theirs"
    assert notes[1] == "only p moves it; bringing it in moves a, e away from theirs"  # e: inside, moved
    assert notes[2].startswith("only q moves it; q at its bound")
    assert notes[3] == "no free parameter moves it"
    assert notes[4] == ""  # inside its range


def test_residual_is_one_at_the_edge_of_the_reported_range() -> None:
    assert scaled_residual(0.64, 0.60, 0.55, 0.64) == pytest.approx(1.0)
    assert scaled_residual(0.55, 0.60, 0.55, 0.64) == pytest.approx(-1.0)
    assert scaled_residual(0.60, 0.60, 0.55, 0.64) == 0.0


def test_free_shares_keep_their_group_at_one() -> None:
    s = load_scenario(Path(__file__).parents[1] / "scenarios" / "lang_son" / "base_2021.yaml").scenario
    free = FreeParameters(s, ["demand.gate_shares.*.chi_ma", "demand.gate_shares.*.coc_nam"])
    moved = free.apply([0.08, 0.02]).demand
    for direction in ("export", "import"):
        shares = moved.gate_shares[direction]
        before = s.demand.gate_shares[direction]
        assert sum(shares.values()) == pytest.approx(1.0)
        assert (shares["chi_ma"], shares["coc_nam"]) == (0.08, 0.02)
        # the fixed members keep their proportion
        assert shares["huu_nghi"] / shares["tan_thanh"] == pytest.approx(
            before["huu_nghi"] / before["tan_thanh"]
        )
    with pytest.raises(FreeKeyError, match="whole number"):
        FreeParameters(s, ["gates.huu_nghi.export.stages.customs.servers"])


# ---- error paths: a message naming the file and field, exit 2, nothing written


def _calibrate(in_tmp: Path, text: str, *extra: str) -> tuple[int, str]:
    src = in_tmp / "synthetic.yaml"
    src.write_text(text)
    return main(["calibrate", str(src), "--jobs", "1", *extra]), str(src)


def _refused(in_tmp: Path, code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert not (in_tmp / "synthetic_calibrated.yaml").exists()
    assert not (in_tmp / "results").exists()


def test_bad_free_key_names_the_file_and_key(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, src = _calibrate(in_tmp, SYNTHETIC.replace("demand.scale", "demand.scal"))
    err = capsys.readouterr().err
    _refused(in_tmp, code, err)
    assert src in err and "calibration.free.demand.scal" in err and "not in this scenario" in err
    code, _ = _calibrate(in_tmp, SYNTHETIC, "--free", "gates.a.export.stages.desk.servers=1..4")
    err = capsys.readouterr().err
    _refused(in_tmp, code, err)
    assert "--free gates.a.export.stages.desk.servers" in err


def test_reversed_bounds_are_refused(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, src = _calibrate(in_tmp, SYNTHETIC.replace("[0.8, 1.6]", "[1.6, 0.8]"))
    err = capsys.readouterr().err
    _refused(in_tmp, code, err)
    assert src in err and "calibration.free.demand.scale" in err and "LOW < HIGH" in err
    code, _ = _calibrate(in_tmp, SYNTHETIC, "--free", "demand.scale=2..1")
    err = capsys.readouterr().err
    _refused(in_tmp, code, err)
    assert "--free demand.scale" in err and "LOW < HIGH" in err


def test_unknown_reported_row_is_refused(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, reported, _ = _write_case(in_tmp)
    text = SYNTHETIC.replace(
        "  section: synthetic\n", "  section: synthetic\n  rows: [per_day, no_such_row]\n"
    )
    code, src = _calibrate(in_tmp, text, "--reported", str(reported))
    err = capsys.readouterr().err
    _refused(in_tmp, code, err)
    assert src in err and "calibration.rows.1" in err and "'no_such_row' is not the id" in err
    # a row to fit without a range: the reported file and the row's field are named
    data = yaml.safe_load(reported.read_text())
    del data["synthetic"][1]["range"]
    reported.write_text(yaml.safe_dump(data))
    code, _ = _calibrate(in_tmp, SYNTHETIC, "--reported", str(reported))
    err = capsys.readouterr().err
    _refused(in_tmp, code, err)
    assert str(reported) in err and "synthetic.1.range" in err
