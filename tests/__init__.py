"""The test suite: a package, so that ``tests.conftest`` is ours even where a dependency (Ciw) ships a
top-level ``tests`` package."""
