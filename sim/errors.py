"""User-facing errors.

A user's mistake (a bad scenario, a wrong command-line value) must end in one clear message that names
the file, the field and what was expected, never in a traceback. Everything the user can cause raises a
:class:`UserError`; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SHOWN = 500  # characters of a field path or a message shown: never megabytes of an input echoed back


def _cut(text: str, limit: int = MAX_SHOWN) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected (long parts cut when shown)."""

    file: str | None
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = _cut(self.file or "<command line>")
        if self.line is not None:
            where += f", line {self.line}"
        field_part = f" field '{_cut(self.path, 200)}':" if self.path else ""
        return f"{where}:{field_part} {_cut(self.message)}"


@dataclass
class UserError(Exception):
    """Raised for anything the user can fix; carries one or more problems."""

    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def single(cls, file: str | None, path: str, message: str, line: int | None = None) -> UserError:
        """An error with one problem: where (file, field, line) and what is wrong."""
        return cls([Problem(file, path, message, line)])

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) during a study, with what to tell the user: what was kept and how to finish."""
