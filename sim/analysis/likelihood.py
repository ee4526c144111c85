"""How likely a reported count is, given the model's count: the observations' error model.

**The default.** A count the border reports (trucks waiting this morning, trucks crossed yesterday) is
taken as a negative binomial draw around the model's value ``m``: mean ``m``, variance
``m + (r m)^2 + a^2``. The ``m`` term is the scatter of any count (Poisson); ``r`` is a relative error,
one standard deviation as a share of the count, for the way a platform's count misses or double-counts
trucks in proportion to how many there are (:data:`DEFAULT_RELATIVE_ERROR`, 10%, unless a row's
``error`` says ``20%``); ``a`` is an absolute error in trucks (a row's ``error`` of ``30``). A negative
binomial rather than a normal because counts are whole numbers at least 0 and skewed when small, and its
extra variance over the Poisson's grows as the square of the count, as a relative error does. The model's
value is floored at :data:`FLOOR` trucks, so that a model with none waiting still gives a count of a few
a small probability instead of none.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from sim.errors import UserError

DEFAULT_RELATIVE_ERROR = 0.10
FLOOR = 0.5

LogLikelihood = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""(observed, simulated, relative error, absolute error) -> log-likelihood, element-wise."""


def errors(rel: np.ndarray, abs_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's relative and absolute error: as given, else the default relative error and no
    absolute one (a row with only an absolute error has no relative one)."""
    rel = np.asarray(rel, dtype=float)
    abs_ = np.asarray(abs_, dtype=float)
    given_abs = np.isfinite(abs_)
    rel = np.where(np.isfinite(rel), rel, np.where(given_abs, 0.0, DEFAULT_RELATIVE_ERROR))
    return rel, np.where(given_abs, abs_, 0.0)


def negative_binomial(
    observed: np.ndarray, simulated: np.ndarray, rel: np.ndarray, abs_: np.ndarray
) -> np.ndarray:
    """The default error model's log-likelihood of each observed count (see the module docstring);
    broadcasts (particles x observations)."""
    m = np.maximum(np.asarray(simulated, dtype=float), FLOOR)
    rel, abs_ = errors(rel, abs_)
    extra = (rel * m) ** 2 + abs_**2
    y = np.rint(np.asarray(observed, dtype=float))
    poisson = extra <= 1e-12
    safe = np.where(poisson, 1.0, extra)
    n = m**2 / safe  # variance m + m^2/n
    nb = stats.nbinom.logpmf(y, n, n / (n + m))
    return np.where(poisson, stats.poisson.logpmf(y, m), nb)


def poisson(observed: np.ndarray, simulated: np.ndarray, rel: np.ndarray, abs_: np.ndarray) -> np.ndarray:
    """Poisson counts around the model's value (no error beyond a count's own scatter)."""
    m = np.maximum(np.asarray(simulated, dtype=float), FLOOR)
    return stats.poisson.logpmf(np.rint(np.asarray(observed, dtype=float)), m)


MODELS: dict[str, LogLikelihood] = {"negative_binomial": negative_binomial, "poisson": poisson}
"""The error models a study may name (``assimilate --errors``), the default first."""


def error_model(name: str) -> LogLikelihood:
    """The log-likelihood of the error model ``name``, looked up when a study starts (so a test may put
    a wrong one in :data:`MODELS` and see the study fail)."""
    if name not in MODELS:
        raise UserError.single(None, "--errors", f"choose from {', '.join(MODELS)} (got {name!r})")
    return MODELS[name]


def noisy(simulated: np.ndarray, rng: np.random.Generator, rel: float = DEFAULT_RELATIVE_ERROR) -> np.ndarray:
    """Counts drawn from the default error model around ``simulated`` (for identical-twin experiments)."""
    m = np.maximum(np.asarray(simulated, dtype=float), FLOOR)
    extra = (rel * m) ** 2
    if rel <= 0:
        return rng.poisson(m).astype(float)
    n = m**2 / extra
    return rng.negative_binomial(n, n / (n + m)).astype(float)
