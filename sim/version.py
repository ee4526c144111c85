"""The package's version, a leaf: any module may import it without importing the package root, which
forwards to the Python API and so sits above every room (docs/architecture.md, section 2)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lang-son-bordersim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
