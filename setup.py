"""The build hook: the pure-Python package by default; ``BORDERSIM_COMPILE=1`` compiles the model's typed
core (pyproject.toml's ``[tool.mypy] files``) to C extensions with mypyc (README: A compiled build).

Everything else (name, dependencies, packages) is in pyproject.toml. The compiled build needs mypy and a C
compiler at build time, so it is built without pip's isolation, after ``pip install mypy``:

    BORDERSIM_COMPILE=1 pip install --no-build-isolation -e ".[test]"     # or, in a checkout, in place:
    BORDERSIM_COMPILE=1 python setup.py build_ext --inplace

``bordersim --version`` and every manifest say which build ran (``sim.version.build``).
"""

import os
import tomllib
from pathlib import Path

from setuptools import setup

if os.environ.get("BORDERSIM_COMPILE", "").strip() == "1":
    from mypyc.build import mypycify

    here = Path(__file__).resolve().parent
    core = tomllib.loads((here / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["files"]
    # one shared library named after the package (sim.version.SHARED_LIBRARY), so the model digest finds it
    setup(ext_modules=mypycify(list(core), opt_level="3", group_name="bordersim"))
else:
    setup()
