"""The one exception hierarchy of leadpipe.

Every error the project raises on purpose derives from :class:`LeadpipeError`. Each stage has its
own subclass, and errors carry structured fields (file, row, column, key) so that the CLI can
print one line that says what went wrong and where to look.
"""

from __future__ import annotations


class LeadpipeError(Exception):
    """Root of all leadpipe errors.

    Args:
        message: what went wrong and, where possible, what to do next.
        hint: an optional next step for the user, printed by the CLI under the message.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(LeadpipeError):
    """A setting is unknown or has a bad value; raised before any data is touched."""

    def __init__(self, message: str, *, key: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.key = key


class IngestError(LeadpipeError):
    """A whole file cannot be ingested (unreadable, no lead columns, unknown format)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.row = row
        self.column = column


class MatchingError(LeadpipeError):
    """Deduplication could not run (bad rule, inconsistent input)."""


class LifecycleError(LeadpipeError):
    """Qualification, routing or conversion could not run (bad rule, no reps, bad state)."""


class WarehouseError(LeadpipeError):
    """A DuckDB statement failed, or the warehouse is locked, missing or of a newer version."""

    def __init__(
        self,
        message: str,
        *,
        statement: str | None = None,
        table: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.statement = statement
        self.table = table


class WarehouseLockedError(WarehouseError):
    """Another process has the warehouse file open for writing (DuckDB then refuses every other process)."""
