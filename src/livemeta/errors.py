"""User-facing errors: printed by the CLI as one clear message, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass


def excerpt(text: str, limit: int = 40) -> str:
    """Text from the user's input as a message may quote it: escaped (repr) and at most ``limit``
    characters, so that a message never echoes a whole line of a file it was not meant to read."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class LivemetaError(Exception):
    """An error the user can fix; ``hint`` says how."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record of one input file."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.reason}"


class ValidationFailed(LivemetaError):
    """A batch of study files failed validation; nothing was written."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        lines = [str(p) for p in self.problems]
        lines.append(f"{n} problem{'s' if n != 1 else ''} found; nothing was written.")
        super().__init__("\n".join(lines))


class StorageFailed(LivemetaError):
    """DuckDB could not read or write the database file (a full disk, a damaged file).

    ``outcome`` says what that meant for the user's data, when the code that failed knew it.
    """

    def __init__(self, message: str, *, hint: str | None = None, outcome: str | None = None):
        super().__init__(message, hint=hint)
        self.outcome = outcome


class DatabaseLocked(LivemetaError):
    """Another process holds the database file."""

    exit_code = 3


class NotInitialised(LivemetaError):
    """The database file does not exist or has no livemeta schema."""
