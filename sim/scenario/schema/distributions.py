"""The probability distributions a scenario may give (service times, patience, truck attributes).

In one module because each kind overrides the methods of :class:`Dist` (its docstrings speak for them)
and because ``Distribution``, the tagged union of all kinds, must list every one.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy import special, stats

from sim.scenario.schema.common import NonNegativeFloat, PositiveFloat, Strict


class Dist(Strict):
    """A probability distribution of a scenario: it knows its inverse distribution function, its mean and
    how to describe itself, so that no other code has to tell the kinds apart.

    Draws are made by inversion (``quantiles`` of uniforms) everywhere: that is what keeps a truck's draw
    at a stage the same quantile under every policy (common random numbers).
    """

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        """The inverse distribution function at probabilities ``u`` (an array in [0, 1))."""
        raise NotImplementedError

    def mean_value(self) -> float:
        """The expected value."""
        raise NotImplementedError

    def constant(self) -> float | None:
        """The value if the distribution is a single point (no draw needed), else None."""
        return None

    def describe(self, unit: str = "") -> str:
        """The distribution in words, e.g. 'exponential (mean 0.3) h'."""
        params = ", ".join(
            f"{k} {v:g}" if isinstance(v, float | int) else f"{k} {v}"
            for k, v in self.model_dump().items()
            if k != "dist"
        )
        return f"{self.dist} ({params}) {unit}".rstrip()  # type: ignore[attr-defined]


class Exponential(Dist):
    """Memoryless times (Poisson-like service), given by the mean."""

    dist: Literal["exponential"]
    mean: PositiveFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return stats.expon.ppf(u, scale=self.mean)

    def mean_value(self) -> float:
        return self.mean


class Deterministic(Dist):
    """A fixed value (a scheduled time, a fixed cargo value)."""

    dist: Literal["deterministic"]
    value: NonNegativeFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return np.full(len(u), self.value, dtype=float)

    def mean_value(self) -> float:
        return self.value

    def constant(self) -> float | None:
        return float(self.value)


class Uniform(Dist):
    """Equally likely values between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return stats.uniform.ppf(u, loc=self.low, scale=self.high - self.low)

    def mean_value(self) -> float:
        return (self.low + self.high) / 2.0


class Triangular(Dist):
    """A minimum, a most likely and a maximum value: the usual elicitation when only ranges are known."""

    dist: Literal["triangular"]
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.high <= self.low:
            raise ValueError(
                f"needs low <= mode <= high and low < high (got {self.low}, {self.mode}, {self.high})"
            )
        return self

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        width = self.high - self.low
        return stats.triang.ppf(u, (self.mode - self.low) / width, loc=self.low, scale=width)

    def mean_value(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


class Lognormal(Dist):
    """Lognormal given by the mean and standard deviation of the variable itself (not of its log)."""

    dist: Literal["lognormal"]
    mean: PositiveFloat
    sd: PositiveFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        """``scale * exp(sigma * Phi^-1(u))``, as ``scipy.stats.lognorm.ppf`` computes it, but with the C
        library's ``exp`` element by element: numpy's vectorised float64 ``exp`` takes an AVX512F path on
        CPUs that have it, whose last bit differs from the C library's, so the same seed gave other cargo
        values (and golden tables) on another machine. Values on CPUs without AVX512F are unchanged."""
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        scale = self.mean * math.exp(-sigma2 / 2.0)
        z = special.ndtri(np.asarray(u, dtype=float)) * math.sqrt(sigma2)
        return np.fromiter(map(math.exp, z.tolist()), dtype=float, count=len(z)) * scale

    def mean_value(self) -> float:
        return self.mean


class Gamma(Dist):
    """Gamma given by mean and standard deviation (shape = (mean/sd)^2)."""

    dist: Literal["gamma"]
    mean: PositiveFloat
    sd: PositiveFloat

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        shape = (self.mean / self.sd) ** 2
        return stats.gamma.ppf(u, shape, scale=self.sd**2 / self.mean)

    def mean_value(self) -> float:
        return self.mean


class Empirical(Dist):
    """Draws uniformly, with replacement, from observed values."""

    dist: Literal["empirical"]
    values: Annotated[list[NonNegativeFloat], Field(min_length=1)]

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        values = np.sort(np.asarray(self.values, dtype=float))
        return values[np.minimum((u * len(values)).astype(np.int64), len(values) - 1)]

    def mean_value(self) -> float:
        return sum(self.values) / len(self.values)

    def describe(self, unit: str = "") -> str:
        return f"empirical ({len(self.values)} values, mean {self.mean_value():g}) {unit}".rstrip()


DISTRIBUTIONS: tuple[type[Dist], ...] = (
    Exponential,
    Deterministic,
    Uniform,
    Triangular,
    Lognormal,
    Gamma,
    Empirical,
)
DISTRIBUTION_TAGS = frozenset(cls.model_fields["dist"].annotation.__args__[0] for cls in DISTRIBUTIONS)

Distribution = Annotated[
    Exponential | Deterministic | Uniform | Triangular | Lognormal | Gamma | Empirical,
    Field(discriminator="dist"),
]
