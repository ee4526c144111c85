"""The particle filter's machinery against exact posteriors (issue 30, row 4), with a simulator whose
count is its mean exactly (``lambda x 24 h`` a day), so that Poisson counts against a gamma prior on the
arrival rate are conjugate: the posterior is Gamma(a + sum y, b + 24 n).

Tolerances, derived: the filter's N particles after resampling and moves are correlated; we take an
effective sample of at least N/10 (a margin for the copies resampling makes). The
Monte Carlo error of a mean is then sd / sqrt(N/10), of an sd about sd / sqrt(2 N/10); 4 such errors
(a 1-in-15000 miss for a normal error) is the tolerance. Coverage over twins: with T twins each holding
the truth in its 90% interval with probability 0.9, the count held is Binomial(T, 0.9); we accept the
central 99.8% of it. A wrong likelihood (counts taken as twice the model's; or four times as sure as
they are) must fail the same checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis.likelihood import negative_binomial, poisson
from sim.analysis.smc import reflect, run_filter, systematic, weighted_quantiles

HOURS = 24.0
A, B = 3.0, 1.0  # gamma prior: shape, rate (mean 3 trucks an hour)
PRIOR = stats.gamma(A, scale=1 / B)


def advance(k: int, u: np.ndarray, seeds: np.ndarray, states, days: int):
    """Segment k adds day k's count (none past the last day); the state is the day reached."""
    rate = PRIOR.ppf(np.clip(u[:, 0], 1e-12, 1 - 1e-12))
    assert states is None if k == 0 else states == [k] * len(u)  # each particle goes on from its own
    added = np.zeros((len(u), days))
    if k < days:
        added[:, k] = rate * HOURS
    return added, [k + 1] * len(u)


def doubled(observed, simulated, rel, abs_):
    return poisson(observed, 2.0 * simulated, rel, abs_)


def overconfident(observed, simulated, rel, abs_):
    return 4.0 * poisson(observed, simulated, rel, abs_)


def posterior(y: np.ndarray, particles: int, seed: int, loglik=poisson):
    rng = np.random.default_rng(seed)
    nan = np.full(len(y), np.nan)
    steps = [np.array([d]) for d in range(len(y))]
    found = run_filter(
        y, nan, nan, steps, lambda k, u, s, x: advance(k, u, s, x, len(y)), particles, 1, rng, loglik
    )
    rate = PRIOR.ppf(found.u[:, 0])
    mean = float(found.weights @ rate)
    return found, rate, mean, math.sqrt(float(found.weights @ (rate - mean) ** 2))


def conjugate_check(loglik, seed: int = 1, particles: int = 2000) -> tuple[bool, bool]:
    rng = np.random.default_rng(seed)
    y = rng.poisson(2.0 * HOURS, 10).astype(float)
    exact = stats.gamma(A + y.sum(), scale=1 / (B + HOURS * len(y)))
    _, _, mean, sd = posterior(y, particles, seed, loglik)
    n_eff = particles / 10
    mean_ok = abs(mean - exact.mean()) <= 4 * exact.std() / math.sqrt(n_eff)
    sd_ok = abs(sd - exact.std()) <= 4 * exact.std() / math.sqrt(2 * n_eff)
    return mean_ok, sd_ok


def test_the_posterior_of_poisson_counts_is_the_conjugate_gamma() -> None:
    assert conjugate_check(poisson) == (True, True)


@pytest.mark.parametrize(("wrong", "fails"), [(doubled, 0), (overconfident, 1)])
def test_a_wrong_likelihood_fails_the_conjugate_check(wrong, fails) -> None:
    assert not conjugate_check(wrong)[fails]


def coverage(loglik, twins: int = 40, particles: int = 400) -> int:
    held = 0
    for k in range(twins):
        rng = np.random.default_rng([99, k])
        truth = PRIOR.rvs(random_state=rng)
        y = rng.poisson(truth * HOURS, 5).astype(float)
        found, rate, _, _ = posterior(y, particles, 1000 + k, loglik)
        low, high = weighted_quantiles(rate[:, None], found.weights, (0.05, 0.95))[:, 0]
        held += bool(low <= truth <= high)
    return held


def binomial_range(twins: int) -> tuple[int, int]:
    """The central 99.8% of Binomial(twins, 0.9): how many twins a right 90% interval holds."""
    return int(stats.binom.ppf(0.001, twins, 0.9)), int(stats.binom.ppf(0.999, twins, 0.9))


def test_the_posterior_90_percent_interval_holds_the_truth_about_90_percent_of_twins() -> None:
    low, high = binomial_range(40)
    assert low <= coverage(poisson) <= high


def test_a_wrong_likelihood_misses_the_coverage() -> None:
    low, _ = binomial_range(40)
    assert coverage(doubled) < low


def test_systematic_resampling_keeps_each_particles_expected_share() -> None:
    w = np.array([0.5, 0.25, 0.125, 0.125])
    counts = np.bincount(systematic(w, np.random.default_rng(0)), minlength=4)
    assert list(counts) == [2, 1, 0, 1] or list(counts) == [2, 1, 1, 0]  # floor or ceil of N w


def test_the_rejuvenation_kernel_stays_inside_the_ranges() -> None:
    x = np.random.default_rng(0).normal(0.5, 3.0, 10_000)
    folded = reflect(x)
    assert folded.min() >= 0.0 and folded.max() <= 1.0
    assert np.allclose(reflect(np.array([0.3, 1.2, -0.2, 2.3])), [0.3, 0.8, 0.2, 0.3])


def test_the_default_error_model_is_wider_than_poisson_by_its_relative_error() -> None:
    m = np.array([200.0])
    y = np.arange(0, 600)
    nb = np.exp(negative_binomial(y, m, np.array([np.nan]), np.array([np.nan])))
    sd = math.sqrt(float(nb @ (y - 200.0) ** 2))
    assert sd == pytest.approx(math.sqrt(200 + (0.1 * 200) ** 2), rel=0.01)
