"""The model: a scenario and a seed in, per-truck and per-stage records out (SimPy discrete-event engine).

``Model`` and ``run_replication`` are imported lazily, so that readers of saved results can use the record
layout (:mod:`sim.model.records`) without loading SimPy and the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.model.network import Model, run_replication

__all__ = ["Model", "run_replication"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim.model import network

        return getattr(network, name)
    raise AttributeError(f"module 'sim.model' has no attribute {name!r}")
