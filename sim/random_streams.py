"""Random streams: one ``numpy.random.Generator`` per source of randomness, named, not numbered.

Every stream is spawned from the replication's ``SeedSequence`` with a spawn key derived from its name
(e.g. ``("service", "huu_nghi", "export", "customs")``). Naming rather than counting means that a policy
which adds a stage or an arrival stream does not shift the numbers any other stream produces: truck k of a
flow meets the same draws under every policy (common random numbers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import numpy as np

from sim.scenario import schema as S

BLOCK = 2048  # draws fetched from numpy at a time: one vectorised call instead of thousands of scalar ones


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """The SeedSequence of replication ``replication`` (0-based) of an experiment with ``root_seed``.

    The same (root seed, replication) pair gives the same sequence under every policy, which is what
    makes paired comparisons use common random numbers.
    """
    return np.random.SeedSequence(root_seed).spawn(replication + 1)[replication]


def _name_key(parts: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def stream(seq: np.random.SeedSequence, *name: str) -> np.random.Generator:
    """The generator of the stream called ``name`` under the replication sequence ``seq``."""
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, _name_key(name)))
    return np.random.Generator(np.random.PCG64(child))


def draw(spec: S.Distribution, gen: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent draws of a scenario distribution."""
    if isinstance(spec, S.Exponential):
        return gen.exponential(spec.mean, n)
    if isinstance(spec, S.Deterministic):
        return np.full(n, spec.value)
    if isinstance(spec, S.Uniform):
        return gen.uniform(spec.low, spec.high, n)
    if isinstance(spec, S.Triangular):
        return gen.triangular(spec.low, spec.mode, spec.high, n)
    if isinstance(spec, S.Lognormal):
        sigma2 = np.log1p((spec.sd / spec.mean) ** 2)
        return gen.lognormal(np.log(spec.mean) - sigma2 / 2.0, np.sqrt(sigma2), n)
    if isinstance(spec, S.Gamma):
        shape = (spec.mean / spec.sd) ** 2
        return gen.gamma(shape, spec.sd**2 / spec.mean, n)
    if isinstance(spec, S.Empirical):
        return gen.choice(np.asarray(spec.values, dtype=float), n, replace=True)
    raise TypeError(f"unknown distribution {spec!r}")  # unreachable: the schema admits no other


def _blocks(fetch: Callable[[int], np.ndarray]) -> Iterator[float]:
    while True:
        yield from fetch(BLOCK).tolist()


def sampler(spec: S.Distribution, gen: np.random.Generator) -> Callable[[], float]:
    """A zero-argument callable returning the next draw; draws come from numpy in blocks.

    Block drawing returns the same sequence as drawing one value at a time would, so the k-th call is
    the k-th draw of the stream whatever the block size.
    """
    if isinstance(spec, S.Deterministic):
        value = float(spec.value)
        return lambda: value
    return _blocks(lambda n: draw(spec, gen, n)).__next__
