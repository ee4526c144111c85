"""``assimilate`` on the M/M/1 twin with the real model (issue 30): a truth run with known inputs, its
daily crossings plus the default error model's noise as observations, and the study's tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis import likelihood
from sim.analysis.counts import CountReader, Query
from sim.analysis.likelihood import noisy
from sim.errors import UserError
from sim.model.network import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from sim.studies.assimilate import assimilate
from sim.studies.options import StudyOptions
from tests.conftest import ROOT

TWIN = ROOT / "data" / "twins" / "mm1_twin.yaml"
START = datetime(2021, 12, 1)


def twin_file(tmp_path, rate: float, days: int, seed: int) -> tuple[str, np.ndarray]:
    """Observations of a truth run at ``rate``: each day's crossings with the default noise."""
    s = load_scenario(TWIN, [f"arrivals.trucks.rate={rate}"]).scenario
    queries = tuple(Query("gate", "export", "crossed", 24.0 * d, 24.0 * (d + 1)) for d in range(days))
    truth = CountReader(queries)(run_replication(s, replication_seed(12345, seed)))
    y = noisy(truth, np.random.default_rng(seed))
    rows = pd.DataFrame(
        {
            "date": [(START + timedelta(days=d)).date().isoformat() for d in range(days)],
            "gate": "gate",
            "direction": "export",
            "what": "crossed",
            "value": y.astype(int),
        }
    )
    path = tmp_path / f"twin-{seed}.csv"
    rows.to_csv(path, index=False)
    return str(path), truth


@pytest.mark.slow  # about 20-45 s of particles: run by .ci/run with -m slow
def test_the_study_learns_a_rate_far_from_the_prior_and_writes_its_tables(tmp_path) -> None:
    path, _ = twin_file(tmp_path, 1.15, 6, 1)
    options = StudyOptions(root=tmp_path, jobs=2, label="t")
    result = assimilate(TWIN, options, observed=path, particles=16, days=2.0, hindcast=True)
    rate = result.posterior.set_index("input").loc["arrivals.trucks.rate"]
    assert rate["prior_p50"] == pytest.approx(0.8)
    assert rate["posterior_p50"] > 0.95  # the counts of a 1.15 rate pull it up from the prior's 0.8
    assert len(result.ess) == 6 and (result.ess["ess"] <= 16 + 1e-9).all()
    parts = set(result.daily["part"])
    assert parts == {"filtered", "forecast"}
    fan = result.daily[result.daily["part"] == "forecast"]
    assert (fan["p5"] <= fan["p95"]).all() and len(fan) == 2
    particles = pd.read_csv(result.folder / "particles.csv")  # what robust --twin draws from
    assert len(particles) == 16 and particles["weight"].sum() == pytest.approx(1.0)
    mean = float(particles["weight"] @ particles["arrivals.trucks.rate"])
    assert mean == pytest.approx(rate["posterior_mean"])
    assert set(result.hindcast["method"]) == {"assimilated", "prior", "persistence"}
    assert {p.name for p in result.folder.iterdir()} >= {"posterior.csv", "ess.csv", "hindcast.csv"}


@pytest.mark.slow  # the same check with a wrong error model: run by .ci/run with -m slow
def test_a_wrong_error_model_fails_the_same_check(tmp_path, monkeypatch) -> None:
    """The study takes its error model from likelihood.MODELS by name (--errors): put a wrong one in
    the default's place (counts taken as twice the model's) and the rate is no longer learnt."""

    def doubled(observed, simulated, rel, abs_):
        return likelihood.poisson(observed, 2.0 * simulated, rel, abs_)

    monkeypatch.setitem(likelihood.MODELS, "negative_binomial", doubled)
    path, _ = twin_file(tmp_path, 1.15, 6, 1)
    options = StudyOptions(root=tmp_path, jobs=2, label="t")
    result = assimilate(TWIN, options, observed=path, particles=16, days=1.0)
    rate = result.posterior.set_index("input").loc["arrivals.trucks.rate"]
    assert not rate["posterior_p50"] > 0.95


def test_mistakes_are_refused_before_anything_runs(tmp_path) -> None:
    path, _ = twin_file(tmp_path, 0.8, 2, 2)
    options = StudyOptions(root=tmp_path)
    with pytest.raises(UserError, match="uncertain"):
        assimilate(ROOT / "scenarios" / "examples" / "mmc.yaml", options, observed=path)
    with pytest.raises(UserError, match="at least 4 particles"):
        assimilate(TWIN, options, observed=path, particles=2)
    with pytest.raises(UserError, match="choose from negative_binomial, poisson"):
        assimilate(TWIN, options, observed=path, errors="normal")
    with pytest.raises(UserError, match="no observation"):
        assimilate(TWIN, options, observed=path, until="2021-11-30T00:00")
    assert not any(tmp_path.glob("mm1_twin/*"))


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    run=False,  # about 65 minutes on 2 cores: run it by hand with --runxfail after the fix
    reason="issue 30 stays open: with the earlier scheme (every particle re-simulated from the start, its "
    "trajectory fixed by its seed) weights collapsed on a few lucky seeds (7 of the first 12 twins held the "
    "true rate; about 14 of 20 are needed); particles now continue from their saved state, the remedy, "
    "but this check has not been run again. README, The morning twin: Known limit",
)
def test_twins_with_the_real_model_hold_the_true_rate_about_90_percent(tmp_path) -> None:
    """20 twins with rates drawn from the prior; Binomial(20, 0.9)'s central 99.8% is the tolerance."""
    twins, held, crps_better = 20, 0, 0
    rng = np.random.default_rng(5)
    for k in range(twins):
        rate = float(rng.uniform(0.4, 1.2))
        path, _ = twin_file(tmp_path, rate, 8, 100 + k)
        options = StudyOptions(root=tmp_path, jobs=2, label=f"t{k}", seed=k + 1)
        result = assimilate(TWIN, options, observed=path, particles=48, days=1.0, hindcast=True)
        row = result.posterior.set_index("input").loc["arrivals.trucks.rate"]
        held += bool(row["posterior_p5"] <= rate <= row["posterior_p95"])
        table = result.hindcast.set_index(["band", "method"])["crps"]
        crps_better += bool(
            table.xs("assimilated", level="method").mean() <= table.xs("prior", level="method").mean()
        )
    low, high = int(stats.binom.ppf(0.001, twins, 0.9)), int(stats.binom.ppf(0.999, twins, 0.9))
    assert low <= held <= high
    assert crps_better > twins / 2  # the assimilated forecast's CRPS beats the prior band's in most twins


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_policies_run_from_the_posterior_particles_paired(tmp_path) -> None:
    """Each POLICY is run once per posterior particle with its inputs and seed: a policy that changes
    nothing differs by exactly 0 in every pair (common random numbers), a second server shortens the
    clearance time, and each has forecast's decision summary."""
    path, _ = twin_file(tmp_path, 0.8, 3, 3)
    same = tmp_path / "same.yaml"
    same.write_text(f"extends: {TWIN}\nname: same\n", encoding="utf-8")
    two = tmp_path / "two.yaml"
    two.write_text(
        f"extends: {TWIN}\nname: two_servers\n"
        "gates: {gate: {export: {stages: {service: {servers: 2}}}}}\n",
        encoding="utf-8",
    )
    options = StudyOptions(root=tmp_path, jobs=2, label="p")
    result = assimilate(TWIN, options, observed=path, policies=[same, two], particles=8, days=1.0)
    comp = result.comparison
    rows = comp[
        (comp["gate"] == "all") & (comp["direction"] == "all") & (comp["metric"] == "mean_clearance_h")
    ]
    by = rows.set_index("scenario")
    assert by.loc["same", "diff"] == 0.0 and by.loc["same", "diff_low"] == 0.0  # every pair identical
    # from the same saved queues with the same arrivals, a second server clears more trucks in the day
    # (the mean clearance time of a one-day window is not the measure: it gains the long waits it clears)
    cleared = comp[(comp["gate"] == "all") & (comp["direction"] == "all") & (comp["metric"] == "cleared")]
    assert cleared.set_index("scenario").loc["two_servers", "diff"] > 0
    assert set(result.decisions) == {"same", "two_servers"}
    assert result.decisions["two_servers"].ranking[0].scenario == "two_servers"
    assert (result.folder / "assimilate_policies.csv").is_file()


def test_the_particles_table_keeps_each_particles_weight_point_and_value() -> None:
    """What robust --twin draws from (issue 31 item 4): the final particles as the filter left them."""
    from sim.analysis.smc import Filtered
    from sim.scenario.uncertain import Inputs
    from sim.studies.assimilate import particles_table

    inputs = Inputs(load_scenario(TWIN).scenario)
    u = np.linspace(0.1, 0.9, 4)[:, None].repeat(len(inputs), axis=1)
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    found = Filtered(u, np.arange(4), np.zeros((4, 1)), weights)
    table = particles_table(inputs, found)
    assert table["weight"].tolist() == weights.tolist()
    for j, item in enumerate(inputs.items):
        assert table[f"u:{item.name}"].tolist() == u[:, j].tolist()
        assert table[item.name].tolist() == pytest.approx([float(item.value(x)) for x in u[:, j]])
