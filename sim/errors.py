"""User-facing errors.

A user's mistake (a bad scenario, a wrong command-line value) must end in one clear message that names
the file, the field and what was expected, never in a traceback. Everything the user can cause raises a
:class:`UserError`; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    file: str | None
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<command line>"
        if self.line is not None:
            where += f", line {self.line}"
        field_part = f" field '{self.path}':" if self.path else ""
        return f"{where}:{field_part} {self.message}"


@dataclass
class UserError(Exception):
    """Raised for anything the user can fix; carries one or more problems."""

    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def single(cls, file: str | None, path: str, message: str, line: int | None = None) -> UserError:
        return cls([Problem(file, path, message, line)])

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) during a study, with what to tell the user: what was kept and how to finish."""
