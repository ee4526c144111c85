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


def quantiles(spec: S.Distribution, u: np.ndarray) -> np.ndarray:
    """The inverse distribution function of a scenario distribution at probabilities ``u``."""
    return spec.quantiles(u)


def draw(spec: S.Distribution, gen: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent draws of a scenario distribution, by inversion of ``n`` uniforms.

    Inversion is what makes common random numbers work across policies: a truck keeps its quantile
    (its uniform) at a stage whatever distribution a policy puts there, so a policy with stochastically
    shorter service gives every truck a shorter (or equal) service, not a reshuffled one.
    """
    return quantiles(spec, gen.random(n))


def _blocks(fetch: Callable[[int], np.ndarray]) -> Iterator[float]:
    while True:
        yield from fetch(BLOCK).tolist()


def sampler(spec: S.Distribution, gen: np.random.Generator) -> Callable[[], float]:
    """A zero-argument callable returning the next draw; draws come from numpy in blocks.

    Block drawing returns the same sequence as drawing one value at a time would, so the k-th call is
    the k-th draw of the stream whatever the block size.
    """
    value = spec.constant()
    if value is not None:
        return lambda: value
    return _blocks(lambda n: draw(spec, gen, n)).__next__


def uniforms(gen: np.random.Generator) -> Callable[[], float]:
    """A zero-argument callable returning the next uniform on [0, 1) of ``gen``, fetched in blocks: the
    same numbers, in the same order, as calling ``gen.random()`` once per draw."""
    return _blocks(gen.random).__next__


def _tuple_blocks(specs: list[S.Distribution], gen: np.random.Generator) -> Iterator[tuple[float, ...]]:
    while True:
        u = gen.random(BLOCK)
        yield from zip(*(quantiles(sp, u).tolist() for sp in specs), strict=True)


def alternatives_sampler(
    specs: list[S.Distribution], gen: np.random.Generator
) -> Callable[[], tuple[float, ...]]:
    """Like :func:`sampler` for a stage with several service distributions (service rules): each call
    takes one uniform and returns its quantile under every alternative, so the truck's draw does not
    depend on which alternative applies to it or to the trucks before it."""
    return _tuple_blocks(specs, gen).__next__
