"""Domain errors. Pure Python: domain.py raises them, the gRPC layer maps them
to status codes, the gateway maps those to problem+json."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request. `code` is stable; the message is for people."""

    code = "failed_precondition"
    # More the caller can act on, sent beside the ErrorDetail as gRPC trailing
    # metadata ((key ending "-bin", bytes), ...): what the refusal's RPC
    # documents, e.g. BookVisit's fresh slots with its `slot_taken`.
    trailers: tuple[tuple[str, bytes], ...] = ()

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(DomainError):
    code = "invalid_argument"


class OutOfRange(InvalidArgument):
    """Past the end of something with a size (a byte range of a file): gRPC's
    OUT_OF_RANGE, so a caller can tell it from a malformed request."""

    code = "out_of_range"


class NotFound(DomainError):
    code = "not_found"


class AlreadyExists(DomainError):
    code = "already_exists"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class PermissionDenied(DomainError):
    code = "permission_denied"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Conflict(DomainError):
    """A concurrent change won; retrying with fresh state may succeed."""

    code = "conflict"


class Unavailable(DomainError):
    """Something this call needs is not set up here, or did not answer;
    trying again shortly may work."""

    code = "unavailable"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` says when trying again can work."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class Overloaded(RateLimited):
    """Too many of this kind of call at once (chassis.admission): refused before
    anything changed; trying again after `retry_after` can work."""

    code = "overloaded"


def unavailable(what: str) -> str:
    """What a person reads when something is not there for them: the same words
    for never existed, removed and not theirs, so a client learns nothing from
    them; the page or the API problem shows it as it is."""
    return (
        f"This {what} isn't available \u2014 it may have been removed, "
        "or you may not have access to it."
    )
