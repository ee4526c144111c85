"""Lang Son border-gate throughput simulator.

Data flows one way: scenario (validated) -> model -> replication records -> analysis.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lang-son-bordersim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
