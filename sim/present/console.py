"""Where the terminal's text goes: results to stdout, messages to stderr through ``logging``.

Results go to stdout and everything else (progress, notes, hints, errors) to stderr, so that
``bordersim run ... --format csv > summary.csv`` keeps only results. Text is printed as written: the
consoles read no markup and no emoji codes, and text goes to rich as ``Text`` objects (which no console
parses), so ``[b]`` in a state cell or ``:x:`` in a YAML value is never misquoted as bold or an emoji.
Styling is given as styles of ``Text``, never as markup inside a string.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

FORMATS = ("table", "csv", "json", "markdown")
PIPE_WIDTH = 220  # a file or a pipe without COLUMNS: wide tables, which other tools read best

log = logging.getLogger("sim")


PLAIN = {"markup": False, "emoji": False}  # no string is read as markup or emoji codes


def _stdout_console() -> Console:
    console = Console(**PLAIN)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(width=PIPE_WIDTH, **PLAIN)
    return console


err_console = Console(stderr=True, **PLAIN)
out_console = _stdout_console()


def plain(text: object, style: str = "") -> Text:
    """Text to print exactly as written, on any console (a ``Text`` is never parsed for markup or emoji
    codes, even by a console that reads them)."""
    return Text(str(text), style=style)


# ---- messages -------------------------------------------------------------------------------------
PREFIX = {logging.ERROR: ("error:", "bold red"), logging.WARNING: ("note:", "yellow")}
WARNING_PREFIX = ("warning:", "bold yellow")  # a note that may mean the numbers mislead


class _ConsoleHandler(logging.Handler):
    """Log records as the terminal shows them: 'error:' in red, 'note:' in yellow, the rest plain."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = WARNING_PREFIX if getattr(record, "serious", False) else PREFIX.get(record.levelno)
        message = plain(record.getMessage(), "dim" if record.levelno < logging.INFO else "")
        line = Text.assemble(prefix, " ", message) if prefix else message
        err_console.print(line, highlight=False, soft_wrap=True)


def configure_logging(verbosity: int = 0) -> None:
    """Show errors only (-1, ``--quiet``), notes and progress (0), or details too (1, ``--verbose``)."""
    level = {-1: logging.ERROR, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    log.setLevel(level)
    if not any(isinstance(h, _ConsoleHandler) for h in log.handlers):
        log.addHandler(_ConsoleHandler())
    log.propagate = False


def quiet() -> bool:
    """Whether progress is hidden (``--quiet``)."""
    return log.getEffectiveLevel() > logging.INFO


def say(text: str, *, err: bool = False) -> None:
    """A line of plain text: on stdout as a result, or (``err``) on stderr as progress, hidden by --quiet."""
    if err:
        log.info(text)
    else:
        out_console.print(plain(text), highlight=False, soft_wrap=True)


def detail(text: str) -> None:
    """A line shown only with --verbose."""
    log.debug(text)


def error(text: str) -> None:
    """An error message; always shown."""
    log.error(text)


def note(text: str) -> None:
    """Something the user should know about the inputs or results; hidden by --quiet."""
    log.warning(text)


def warning(text: str) -> None:
    """A warning that the results may mislead (e.g. an unstable queue); hidden only by --quiet."""
    log.warning(text, extra={"serious": True})


def hint(lines: Sequence[str]) -> None:
    """What to do next, after a command that wrote results."""
    for line in lines:
        log.info(line)
