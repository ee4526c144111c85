"""Sequential Monte Carlo over a simulation's uncertain inputs: the particle filter of ``assimilate``.

A particle is a point ``u`` of the unit cube (one coordinate an uncertain input, mapped to its value by
the range's inverse distribution function, so the prior is uniform in the cube), a seed for the model's
own random numbers, and the counts its run gives (``values``: what the filter reads, never the run's
tables). The filter (a resample-move filter for static inputs, Chopin 2002; Xie and Verbraeck 2018 for
discrete-event models) takes the observations a time step at a time:

1. **Weight** each particle by the likelihood of the step's counts given its own counts
   (:mod:`sim.analysis.likelihood`).
2. **Resample** when the effective sample size ``1 / sum(w^2)`` falls below ``ess_share`` of the
   particles (:data:`ESS_SHARE`, a half), by systematic resampling (one uniform draw, N evenly spaced
   pointers into the cumulative weights: the least added noise of the usual schemes).
3. **Rejuvenate** the resampled particles so that copies spread out again: ``moves`` Metropolis-Hastings
   steps whose proposal is a Gaussian jitter of ``u`` reflected at the cube's faces (it stays inside the
   ranges and is symmetric, so the prior's ratio is 1 and the acceptance ratio is the likelihood ratio of
   every count seen so far), with a fresh seed; its scale is ``2.38 / sqrt(d)`` times each coordinate's
   spread over the particles (the random-walk rule of thumb), at least :data:`MIN_SCALE`. A proposal's
   counts come from a new run (``simulate``) from the start: the simpler scheme, re-simulating rather than
   continuing a saved state, which keeps each particle's run one pure function of its inputs and seed.

The moves leave the posterior of (inputs, seed) given the counts so far unchanged, so the particles after
a step are a sample of it, not an approximation that narrows step by step (a jitter without the accept
step would widen it instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.analysis.likelihood import LogLikelihood, negative_binomial

ESS_SHARE = 0.5
MIN_SCALE = 0.01
Simulate = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(u: n x d points of the cube, seeds: n) -> n x K counts; its first columns are the observations'."""


def ess(weights: np.ndarray) -> float:
    """The effective sample size of normalised weights."""
    return float(1.0 / np.sum(np.asarray(weights) ** 2))


def normalise(logw: np.ndarray) -> np.ndarray:
    """Weights summing to 1 from log-weights (a particle at -inf weighs 0; all at -inf: equal)."""
    top = np.max(logw)
    if not np.isfinite(top):
        return np.full(len(logw), 1.0 / len(logw))
    w = np.exp(logw - top)
    return w / w.sum()


def systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of N particles drawn by systematic resampling of ``weights``."""
    n = len(weights)
    pointers = (rng.random() + np.arange(n)) / n
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, pointers, side="right").clip(0, n - 1)


def reflect(x: np.ndarray) -> np.ndarray:
    """Points folded back into [0, 1] at its faces (a reflected walk: symmetric, stays inside)."""
    x = np.mod(x, 2.0)
    return np.where(x > 1.0, 2.0 - x, x)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles ``qs`` of each column of ``values`` (particles x K) under the particles' ``weights``
    (the weighted empirical distribution's inverse, the lower value at a step)."""
    values = np.asarray(values, dtype=float).reshape(len(weights), -1)
    order = np.argsort(values, axis=0, kind="stable")
    sorted_v = np.take_along_axis(values, order, axis=0)
    cum = np.cumsum(np.asarray(weights)[order], axis=0)
    out = np.empty((len(qs), values.shape[1]))
    for i, q in enumerate(qs):
        k = (cum < q - 1e-12).sum(axis=0).clip(0, len(weights) - 1)
        out[i] = sorted_v[k, np.arange(values.shape[1])]
    return out


@dataclass
class StepLog:
    """One time step of the filter: its observations, the ESS after weighting, whether it resampled,
    the share of moves accepted, and the particles' counts and weights then (for the filtered series)."""

    rows: np.ndarray
    ess: float
    resampled: bool
    accepted: float
    values: np.ndarray
    weights: np.ndarray


@dataclass
class Filtered:
    """The particles after the last step, their weights, and each step's log."""

    u: np.ndarray
    seeds: np.ndarray
    values: np.ndarray
    weights: np.ndarray
    steps: list[StepLog] = field(default_factory=list)
    runs: int = 0  # simulations made (the cost)

    def mean(self) -> np.ndarray:
        """The posterior mean of ``u``."""
        return self.weights @ self.u


def run_filter(
    observed: np.ndarray,
    rel: np.ndarray,
    abs_: np.ndarray,
    steps: Sequence[np.ndarray],
    simulate: Simulate,
    particles: int,
    dimensions: int,
    rng: np.random.Generator,
    loglik: LogLikelihood = negative_binomial,
    ess_share: float = ESS_SHARE,
    moves: int = 1,
    on_step: Callable[[int], None] | None = None,
) -> Filtered:
    """Filter the observations (``steps``: each step's row indices, in time order) through particles
    drawn uniformly in the cube (see the module docstring)."""
    u = rng.random((particles, dimensions))
    seeds = np.arange(particles)
    values = simulate(u, seeds)
    runs, next_seed = particles, particles
    logw = np.zeros(particles)
    seen = np.zeros(len(observed), dtype=bool)
    log: list[StepLog] = []

    def score(vals: np.ndarray, mask: np.ndarray) -> np.ndarray:
        idx = np.flatnonzero(mask)
        return loglik(observed[idx], vals[:, idx], rel[idx], abs_[idx]).sum(axis=1)

    for k, rows in enumerate(steps):
        now = np.zeros(len(observed), dtype=bool)
        now[rows] = True
        logw = logw + score(values, now)
        seen |= now
        w = normalise(logw)
        size, resampled, accepted = ess(w), False, float("nan")
        snapshot = (values.copy(), w.copy())
        if size < ess_share * particles:
            idx = systematic(w, rng)
            u, seeds, values = u[idx], seeds[idx], values[idx]
            logw = np.zeros(particles)
            resampled, took = True, []
            for _ in range(moves):
                spread = np.maximum(u.std(axis=0) * 2.38 / np.sqrt(dimensions), MIN_SCALE)
                proposal = reflect(u + rng.normal(size=u.shape) * spread)
                fresh = np.arange(next_seed, next_seed + particles)
                next_seed += particles
                proposed = simulate(proposal, fresh)
                runs += particles
                ratio = score(proposed, seen) - score(values, seen)
                accept = np.log(rng.random(particles)) < ratio
                u[accept], seeds[accept], values[accept] = proposal[accept], fresh[accept], proposed[accept]
                took.append(accept.mean())
            accepted = float(np.mean(took)) if took else float("nan")
        log.append(StepLog(np.asarray(rows), size, resampled, accepted, *snapshot))
        if on_step is not None:
            on_step(k)
    return Filtered(u, seeds, values, normalise(logw), log, runs)
