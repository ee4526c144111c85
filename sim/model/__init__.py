"""The SimPy model: build a validated scenario into an environment and run one replication."""

from sim.model.network import Model, run_replication

__all__ = ["Model", "run_replication"]
