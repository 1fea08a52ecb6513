"""Exceptions raised by hotpath: one class per hotpath error code.

Every exception is a :class:`HotpathError` carrying the stable ``code`` (the
same string the HTTP API and the C ABI use) and a human-readable ``message``.
Each also derives from the built-in exception a Python caller would expect:
bad input is a :class:`ValueError`, a missing file or image a
:class:`FileNotFoundError`, refused credentials a :class:`PermissionError`,
an unreachable or busy service an :class:`OSError`.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

__all__ = [
    "HotpathError",
    "InvalidError",
    "TooLargeError",
    "UnsupportedError",
    "UnprocessableError",
    "NotFoundError",
    "ColumnNotFoundError",
    "CancelledError",
    "ConflictError",
    "UnauthorizedError",
    "ForbiddenError",
    "BusyError",
    "UnavailableError",
    "IntegrityError",
    "InternalError",
    "ForkError",
    "error_for",
]


class HotpathError(Exception):
    """Base of every hotpath error.

    Attributes:
        code: the hotpath error code, e.g. ``"invalid"`` or ``"not_found"``.
        message: a one-line explanation, safe to show to a user.
        status: the HTTP status when the error came from the HTTP API, else None.
    """

    default_code = "internal"

    def __init__(self, message: str, code: Optional[str] = None, status: Optional[int] = None) -> None:
        # Exception.__init__ only: OSError's errno/strerror interpretation of
        # positional arguments is not wanted here.
        Exception.__init__(self, message)
        self.code: str = code or self.default_code
        self.message: str = message
        self.status: Optional[int] = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self):  # type: ignore[override]
        # Keep code and status through pickling (multiprocessing results).
        return (type(self), (self.message, self.code, self.status))


class InvalidError(HotpathError, ValueError):
    """The request or input is malformed (code ``invalid``)."""

    default_code = "invalid"


class TooLargeError(HotpathError, ValueError):
    """The input is beyond a configured limit (code ``too_large``)."""

    default_code = "too_large"


class UnsupportedError(HotpathError, ValueError):
    """A format or feature hotpath does not handle (code ``unsupported``)."""

    default_code = "unsupported"


class UnprocessableError(HotpathError, ValueError):
    """Well-formed, but the content cannot be processed, e.g. a corrupt image (code ``unprocessable``)."""

    default_code = "unprocessable"


class ConflictError(HotpathError, ValueError):
    """The thing exists already or changed meanwhile (code ``conflict``)."""

    default_code = "conflict"


class NotFoundError(HotpathError, FileNotFoundError):
    """The file, image, job or batch does not exist (code ``not_found``)."""

    default_code = "not_found"


class ColumnNotFoundError(HotpathError, LookupError):
    """A column asked for is not in the file's header (code ``column_not_found``); the file itself exists."""

    default_code = "column_not_found"


class CancelledError(HotpathError):
    """An in-process call was cancelled through its :class:`~hotpath.CancelToken` (code ``cancelled``)."""

    default_code = "cancelled"


class UnauthorizedError(HotpathError, PermissionError):
    """No or unknown API key (code ``unauthorized``)."""

    default_code = "unauthorized"


class ForbiddenError(HotpathError, PermissionError):
    """The API key lacks the needed scope, or a signature is wrong (code ``forbidden``)."""

    default_code = "forbidden"


class BusyError(HotpathError, OSError):
    """The server is saturated; retry after :attr:`retry_after` seconds (code ``busy``)."""

    default_code = "busy"
    retry_after: Optional[float] = None


class UnavailableError(HotpathError, ConnectionError):
    """A backend is down, shutting down or unreachable (code ``unavailable``); the server may say when to retry."""

    default_code = "unavailable"
    retry_after: Optional[float] = None


class IntegrityError(HotpathError, ValueError):
    """Encrypted data failed authentication: a byte was modified or the data cut short (code ``integrity``).

    No byte of data that failed is ever returned. From the HTTP API: a stored
    blob failed (status 502).
    """

    default_code = "integrity"


class InternalError(HotpathError, OSError):
    """A bug or unexpected failure inside hotpath (code ``internal``)."""

    default_code = "internal"


class ForkError(HotpathError, RuntimeError):
    """The native library was used in a process forked after the parent loaded it.

    The Go runtime does not survive ``fork()``: load hotpath in the child (do
    not call it in the parent before forking) or use the ``spawn`` start method.
    """

    default_code = "fork"


_BY_CODE: Dict[str, Type[HotpathError]] = {
    cls.default_code: cls
    for cls in (
        InvalidError,
        TooLargeError,
        UnsupportedError,
        UnprocessableError,
        ConflictError,
        NotFoundError,
        ColumnNotFoundError,
        CancelledError,
        UnauthorizedError,
        ForbiddenError,
        BusyError,
        UnavailableError,
        IntegrityError,
        InternalError,
    )
}


def error_for(code: str, message: str, status: Optional[int] = None) -> HotpathError:
    """Return the exception for a hotpath error code; unknown codes give InternalError keeping the code."""
    cls = _BY_CODE.get(code, InternalError)
    return cls(message, code, status)
