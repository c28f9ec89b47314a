"""Domain errors raised by services and shown to users as clear messages.

Views catch :class:`DomainError` and show ``str(error)``; nothing here should ever
surface as a 500 page.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule. ``field`` names the input at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class WrongStateError(DomainError):
    """The object is not in a state that allows the operation (e.g. checking out a lost device)."""


class ConflictError(DomainError):
    """Another user changed the same object first (e.g. two simultaneous check-outs)."""


class NotCheckedOutWarning(DomainError):
    """Check-in of a device that is not checked out: harmless, reported as a warning."""
