"""The errors pytest-radix raises: one base class and a subclass per kind of failure."""

from __future__ import annotations

__all__ = [
    "RadixAuthError",
    "RadixCassetteError",
    "RadixConfigError",
    "RadixError",
    "RadixResponseError",
    "RadixTransportError",
    "RadixWarning",
]


class RadixError(Exception):
    """Base class of every pytest-radix error; its message never holds a known secret."""

    def __init__(self, message: str) -> None:
        from pytest_radix.masking import mask

        super().__init__(mask(message))


class RadixConfigError(RadixError, ValueError):
    """A setting is missing or has a value pytest-radix cannot use."""


class RadixAuthError(RadixError):
    """The Radix API refused the credentials (or ``/auth`` answered with a client error).

    ``sent`` is false when this process sent nothing: another xdist worker met the refusal.
    """

    def __init__(self, message: str, *, status: int | None = None, sent: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.sent = sent


class RadixResponseError(RadixError):
    """The Radix API answered, but with something pytest-radix cannot read or accept."""


class RadixTransportError(RadixError):
    """No usable answer came: refused, timed out, TLS failed, cut off, or rate limited.

    ``timed_out``: the server took the whole timeout without answering. ``sent`` is false when
    this process sent nothing (an earlier request of the run timed out, here or on another
    xdist worker).
    """

    def __init__(self, message: str, *, timed_out: bool = False, sent: bool = True) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.sent = sent


NOT_SENT_AGAIN = "; /auth is not sent again in this run"
"""Ends the message of an ``/auth`` not sent because an earlier one of the run went
unanswered."""


class RadixCassetteError(RadixError):
    """A cassette is missing, unreadable, corrupt, or does not match the request."""


class RadixWarning(UserWarning):
    """Something was skipped or assumed, for example an expiry field that could not be read."""
