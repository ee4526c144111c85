"""The package's version, a leaf: any module may import it without importing the package root, which
forwards to the Python API and so sits above every room (docs/architecture.md, section 2)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lang-son-bordersim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

# The model's typed core: the sim.model modules a compiled build compiles with mypyc (setup.py, with
# BORDERSIM_COMPILE=1). The same list as pyproject.toml's [tool.mypy] files (tests/test_typed_core.py).
CORE = (
    "kernel",
    "resources",
    "trucks",
    "routes",
    "records",
    "random_streams",
    "upstream",
    "rail",
    "route_choice",
    "sources",
)
SHARED_LIBRARY = "bordersim__mypyc"  # mypyc's shared library of the compiled core (group "bordersim")


def _origin(module: str) -> str:
    """Where ``module`` would be loaded from (found, not imported: --version stays quick)."""
    from importlib.util import find_spec

    try:
        spec = find_spec(module)
    except (ImportError, ValueError):
        return ""
    return (spec.origin or "") if spec is not None else ""


def compiled_files() -> list[str]:
    """The compiled files of the core that are loaded in place of its sources (none: interpreted)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    origins = [_origin(f"sim.model.{name}") for name in CORE] + [_origin(SHARED_LIBRARY)]
    return [o for o in origins if o.endswith(tuple(EXTENSION_SUFFIXES))]


def build() -> str:
    """Which build of the model's core runs: ``interpreted``, ``compiled with mypyc``, or ``mixed`` naming
    the modules compiled (a stale or partial build: its results must not pass for either)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    compiled = [n for n in CORE if _origin(f"sim.model.{n}").endswith(tuple(EXTENSION_SUFFIXES))]
    if not compiled:
        return "interpreted"
    if len(compiled) == len(CORE):
        return "compiled with mypyc"
    return f"mixed: compiled {', '.join(compiled)}"
