"""How mail leaves, as pure rules: text safe for a header or a body, whether
an address can be sent to, which failures are worth another try and when, and
which mail must keep its order.

One bad field (a project named "A\\r\\nBcc: x@evil", a stray NUL) must never
stop the queue: it is cleaned where the email is composed, cleaned again where
the message is built (rows queued before the cleaning existed), and a message
that still cannot go fails on its own, with its reason, without holding back
the mail behind it."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address

# Column sizes of the email row (models.Email): a longer value is cut, never refused.
SUBJECT_MAX = 300
NAME_MAX = 200
REASON_MAX = 2000

# C0 and C1 controls (CR, LF, TAB, NUL, ESC, DEL, ...) and the Unicode line and
# paragraph separators: any of them can end a header line for some reader.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Those that separate words become a space; the rest (NUL, ESC, ...) go.
_BREAK = re.compile("[\t\n\x0b\x0c\r\x85\u2028\u2029]")
# In a body, newlines and tabs are text; other controls (NUL above all, which
# PostgreSQL refuses in text) are not.
_BODY_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def one_line(value: str) -> str:
    """Line breaks and tabs become a space, other control characters go, runs
    of spaces become one space."""
    return " ".join(_CONTROL.sub("", _BREAK.sub(" ", value)).split())


def header_text(value: str, limit: int) -> str:
    """One line for a header (a subject, a display name), cut to `limit`."""
    return one_line(value)[:limit].rstrip()


def body_text(value: str) -> str:
    """A body with Unix newlines and no control characters but newline and tab."""
    return _BODY_CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def reason_text(value: str) -> str:
    """A failure reason fit to store and log: one line, bounded."""
    return header_text(value, REASON_MAX)


def address_problem(address: str) -> str:
    """Why no server would take this address ('' when it is a plain addr-spec).
    A space, a comma or a control character means it is not one address."""
    if not address:
        return "no address"
    if _CONTROL.search(address) or any(c.isspace() for c in address):
        return "the address contains a space or a control character"
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError) as exc:
        return f"not an email address: {reason_text(str(exc)) or type(exc).__name__}"
    if not parsed.username or not parsed.domain:
        return "not an email address"
    return ""


class FailureKind(enum.Enum):
    # The server or the road to it: SMTP down, a timeout, a 4xx, a refused
    # login or sender. The same message may go later; mail behind it for the
    # same recipient and project waits, so it cannot overtake.
    TRANSIENT = "transient"
    # This message: a 5xx for its recipient or content, an address no server
    # takes, a message that cannot be composed. Retried a few times, and
    # never holds back the mail behind it.
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    reason: str

    @classmethod
    def transient(cls, reason: str) -> Failure:
        return cls(FailureKind.TRANSIENT, reason_text(reason))

    @classmethod
    def permanent(cls, reason: str) -> Failure:
        return cls(FailureKind.PERMANENT, reason_text(reason))


class SendFailed(Exception):
    """Raised by the SMTP gateway: what went wrong, classified."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def smtp_reply_failure(code: int, message: str, *, about_this_message: bool) -> Failure:
    """A refusal by the server. 5xx is permanent only when it is about this
    message (its recipient or its content): a 5xx to our login, greeting or
    sender is our configuration, true of every message, so it is waited out."""
    reason = f"SMTP {code}: {message}"
    if 500 <= code < 600 and about_this_message:
        return Failure.permanent(reason)
    return Failure.transient(reason)


# Backoff between attempts, in seconds, by attempt number.
RETRY_DELAYS: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and backoff. Transient failures ride out an outage of a few
    hours; permanent ones get a short second chance and then fail."""

    delays: tuple[float, ...] = RETRY_DELAYS
    max_attempts: int = 8
    max_permanent_attempts: int = 3

    def after_failure(self, attempts: int, kind: FailureKind) -> float | None:
        """After the `attempts`-th failed send: seconds until the next try, or
        None when the email has failed for good."""
        limit = self.max_permanent_attempts if kind is FailureKind.PERMANENT else self.max_attempts
        if attempts <= 0:
            return 0
        if attempts >= limit or attempts > len(self.delays):
            return None
        return self.delays[attempts - 1]


def ordering_key(aggregate_type: str, aggregate_id: str, project_id: str = "") -> str:
    """Mail keeps its order per recipient and this key: everything about one
    project (its stage, its proposal, its documents) is one sequence; other
    mail is ordered within the thing its event is about."""
    if project_id:
        return f"project:{project_id}"
    return f"{aggregate_type}:{aggregate_id}"
