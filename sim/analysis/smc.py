"""Sequential Monte Carlo over a simulation's uncertain inputs and its state: the particle filter of
``assimilate``.

A particle is a point ``u`` of the unit cube (one coordinate an uncertain input, mapped to its value by
the range's inverse distribution function, so the prior is uniform in the cube), its saved state (what
the model needs to go on: for ``assimilate`` the trucks waiting, as state-file rows), and the counts
its run has given so far (``values``: what the filter reads, never the run's tables). The filter (a
bootstrap filter over the model's state with the static inputs rejuvenated by a kernel, Liu and West
2001; Xie and Verbraeck 2018 for discrete-event models) takes the observations a time step at a time:

0. **Advance** every particle from its saved state at the previous step's time to this step's time
   (``advance``: the first segment from the scenario's start), adding that segment's counts to its own
   and keeping its new state. A particle is simulated once over the whole span, never again from the
   start: the days it simulates are the span's, however many steps there are.
1. **Weight** each particle by the likelihood of the step's counts given its own counts
   (:mod:`sim.analysis.likelihood`), the weights carried from step to step until a resampling.
2. **Resample** when the effective sample size ``1 / sum(w^2)`` falls below ``ess_share`` of the
   particles (:data:`ESS_SHARE`, a half), by systematic resampling (one uniform draw, N evenly spaced
   pointers into the cumulative weights: the least added noise of the usual schemes). A copy takes its
   parent's inputs, state and counts.
3. **Rejuvenate** the copies' inputs with Liu and West's shrinkage kernel, so that copies spread out
   again without widening the posterior: ``u' = a u + (1 - a) mean + h sd e``, ``e`` standard normal,
   ``a = (3 delta - 1) / (2 delta)`` and ``h^2 = 1 - a^2`` (:data:`DISCOUNT` delta, 0.95), ``mean`` and
   ``sd`` the particles' per coordinate (``sd`` at least :data:`MIN_SCALE`): the cloud's mean and
   variance are kept and the jitter is reflected at the cube's faces (it stays inside the ranges).
   ``hold`` may keep some coordinates (``assimilate``: a date that has already acted in the state).
   **The approximation**: a moved particle keeps its parent's state and counts and goes on with its new
   inputs; its past is not re-simulated with them (that would cost a run from the start per move, the
   scheme this one replaces). What the past counts say about the inputs is in the weights of the
   parents, and the state carries it forward; the kernel only spreads the copies.

After the last step every particle is advanced once more, to the forecast's end (the fan).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.likelihood import LogLikelihood, negative_binomial

ESS_SHARE = 0.5
DISCOUNT = 0.95
MIN_SCALE = 0.01
Advance = Callable[[int, np.ndarray, np.ndarray, list[Any] | None], tuple[np.ndarray, list[Any]]]
"""(segment k, u: n x d points of the cube, seeds: n (distinct over every segment), states: the n saved
states, None for segment 0) -> (n x K counts the segment adds, the n states at its end). Segment k ends
at step k's time; segment ``len(steps)`` runs past the last step (the forecast). The first columns of
the counts are the observations'."""
Hold = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
"""(step k, the copies' u, the kernel's proposal) -> the u they go on with."""


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


def rejuvenate(u: np.ndarray, rng: np.random.Generator, discount: float = DISCOUNT) -> np.ndarray:
    """Liu and West's shrinkage kernel in the cube (module docstring, step 3): each point pulled towards
    the cloud's mean by ``a`` and jittered by ``h`` times its spread, reflected inside [0, 1]."""
    a = (3.0 * discount - 1.0) / (2.0 * discount)
    h = np.sqrt(1.0 - a * a)
    sd = np.maximum(u.std(axis=0), MIN_SCALE)
    return reflect(a * u + (1.0 - a) * u.mean(axis=0) + h * sd * rng.normal(size=u.shape))


@dataclass
class StepLog:
    """One time step of the filter: its observations, the ESS after weighting, whether it resampled,
    the share of particles whose inputs the kernel moved, and the particles' counts and weights then
    (for the filtered series)."""

    rows: np.ndarray
    ess: float
    resampled: bool
    moved: float
    values: np.ndarray
    weights: np.ndarray


@dataclass
class Filtered:
    """The particles after the last step (their inputs, last seeds, counts to the forecast's end and
    weights), each step's log, the segments simulated (``runs``) and the particles' states at the last
    step (what a policy run from them starts from)."""

    u: np.ndarray
    seeds: np.ndarray
    values: np.ndarray
    weights: np.ndarray
    steps: list[StepLog] = field(default_factory=list)
    runs: int = 0  # segments simulated (the cost: each a particle's run between two step times)
    states: list[Any] | None = None

    def mean(self) -> np.ndarray:
        """The posterior mean of ``u``."""
        return self.weights @ self.u


def run_filter(
    observed: np.ndarray,
    rel: np.ndarray,
    abs_: np.ndarray,
    steps: Sequence[np.ndarray],
    advance: Advance,
    particles: int,
    dimensions: int,
    rng: np.random.Generator,
    loglik: LogLikelihood = negative_binomial,
    ess_share: float = ESS_SHARE,
    discount: float = DISCOUNT,
    hold: Hold | None = None,
    on_step: Callable[[int], None] | None = None,
) -> Filtered:
    """Filter the observations (``steps``: each step's row indices, in time order) through particles
    drawn uniformly in the cube, each advanced segment by segment (see the module docstring)."""
    u = rng.random((particles, dimensions))
    values: np.ndarray | None = None
    states: list[Any] | None = None
    logw = np.zeros(particles)
    log: list[StepLog] = []

    def go(k: int) -> None:
        nonlocal values, states
        seeds = k * particles + np.arange(particles)
        added, states = advance(k, u, seeds, states)
        values = added if values is None else values + added

    for k, rows in enumerate(steps):
        go(k)
        assert values is not None and states is not None
        now = np.asarray(rows)
        logw = logw + loglik(observed[now], values[:, now], rel[now], abs_[now]).sum(axis=1)
        w = normalise(logw)
        size, resampled, moved = ess(w), False, float("nan")
        snapshot = (values.copy(), w.copy())
        if size < ess_share * particles:
            idx = systematic(w, rng)
            u, values, states = u[idx], values[idx], [states[i] for i in idx]
            logw = np.zeros(particles)
            proposal = rejuvenate(u, rng, discount)
            if hold is not None:
                proposal = hold(k, u, proposal)
            moved = float(np.mean(np.any(proposal != u, axis=1)))
            u, resampled = proposal, True
        log.append(StepLog(now, size, resampled, moved, *snapshot))
        if on_step is not None:
            on_step(k)
    at_last = states
    go(len(steps))
    assert values is not None
    seeds = len(steps) * particles + np.arange(particles)
    return Filtered(u, seeds, values, normalise(logw), log, particles * (len(steps) + 1), at_last)
