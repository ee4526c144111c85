"""The command line's commands, one module each: its options and a handler that calls a study and prints.

Each module has ``register(sub, parents)``, which adds its sub-command(s) with ``handler`` set. Handlers
import studies and presentation lazily, so that ``bordersim --version`` and ``--help`` stay instant.
"""
