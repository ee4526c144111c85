"""Lang Son border-gate throughput simulator.

Data flows one way: scenario (validated) -> model -> replication records -> analysis.

``import sim`` is light (``bordersim --version`` answers without loading pandas); ``sim.run``,
``sim.compare``, ``sim.sweep``, ``sim.calibrate``, ``sim.validate_history``, ``sim.optimise``,
``sim.sensitivity`` and ``sim.backlog`` (the Python API, :mod:`sim.api`) load the rest when first used.
"""

import importlib
from typing import Any

from sim.version import __version__ as __version__

API = (
    "run",
    "compare",
    "sweep",
    "calibrate",
    "validate_history",
    "optimise",
    "sensitivity",
    "backlog",
    "forecast",
    "uncertainty",
    "StudyOptions",
    "Run",
    "Comparison",
    "Sweep",
    "ReplicationsFailed",
)


def __getattr__(name: str) -> Any:
    """The Python API's functions and result types, imported on first use (PEP 562)."""
    if name in API:  # the API sits on top of every layer; the package root only forwards to it
        return getattr(importlib.import_module("sim.api"), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
