"""Lang Son border-gate throughput simulator.

Data flows one way: scenario (validated) -> model -> replication records -> analysis.

``import sim`` is light (``bordersim --version`` answers without loading pandas); the Python API
(:mod:`sim.api`: ``sim.run``, ``sim.compare``, ... a function per registered study, and ``sim.backlog``)
loads the rest when first used.
"""

import importlib
from typing import Any

from sim.version import __version__ as __version__

API = ("StudyOptions", "Run", "Comparison", "Sweep", "StudyView", "ReplicationsFailed", "backlog")
"""Names of the API besides the studies' functions (every registered study is ``sim.<study>``)."""


def __getattr__(name: str) -> Any:
    """The Python API's functions and result types, imported on first use (PEP 562): the names above and
    every registered study (``sim.run``, ``sim.compare``, ...)."""
    if not name.startswith("_"):  # the API sits on top of every layer; the package root only forwards to it
        api = importlib.import_module("sim.api")
        if hasattr(api, name):
            return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
