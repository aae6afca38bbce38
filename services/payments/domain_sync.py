"""The accounting sync's rules, pure: the order records post in, the backoff
after a failure, when a record gives up, what staff may retry, and the
OAuth2 state that binds a connection attempt to its tenant.

A record's life: pending -> posted (with the provider's id), or pending ->
failed (refused by the provider, or still failing after `max_attempts`);
RetrySync puts a failed record back to pending with a fresh count. A record
waiting for another (a payment for its invoice's id) stays pending without
spending an attempt.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.chassis.errors import InvalidArgument, InvalidTransition


class SyncState(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"


class SyncKind(StrEnum):
    CUSTOMER = "customer"
    INVOICE = "invoice"
    PAYMENT = "payment"


# Customers before invoices before payments: each needs the one before's id.
RANK = {SyncKind.CUSTOMER: 0, SyncKind.INVOICE: 1, SyncKind.PAYMENT: 2}
STATE_TTL = timedelta(minutes=10)  # an authorize URL's life


class ConnectionState(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    # How long a claimed record is left alone while its post is under way;
    # after a crash it is due again then (and the look-up finds what landed).
    lease_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("a retry policy needs attempts >= 1 and 0 < base <= cap")


def backoff(attempts: int, policy: RetryPolicy) -> timedelta:
    """The wait after the `attempts`-th failure: base, 2 x base, 4 x base ... capped."""
    exponent = min(max(attempts, 1) - 1, 30)
    return timedelta(seconds=min(policy.cap_seconds, policy.base_seconds * 2**exponent))


@dataclass(frozen=True)
class Outcome:
    """What one attempt changes on its record."""

    state: SyncState
    next_attempt_at: datetime
    attempts: int
    last_error: str = ""
    external_id: str = ""


def posted(attempts: int, external_id: str, now: datetime) -> Outcome:
    return Outcome(SyncState.POSTED, now, attempts, "", external_id)


def failed_attempt(
    attempts: int, error: str, now: datetime, policy: RetryPolicy, *, retryable: bool
) -> Outcome:
    """A refused record fails at once; a transient failure backs off until
    the attempts run out."""
    if not retryable or attempts >= policy.max_attempts:
        return Outcome(SyncState.FAILED, now, attempts, error)
    return Outcome(SyncState.PENDING, now + backoff(attempts, policy), attempts, error)


def waiting(attempts: int, reason: str, now: datetime, policy: RetryPolicy) -> Outcome:
    """Not tried: what it needs is not posted yet. The claim's attempt is given back."""
    return Outcome(SyncState.PENDING, now + backoff(1, policy), max(attempts - 1, 0), reason)


def plan_retry(state: str) -> None:
    """Staff retry what failed; a posted record is in the books already, and
    a pending one is on its way."""
    if state == SyncState.POSTED:
        raise InvalidTransition("this record is already in the books", field="sync_id")
    if state == SyncState.PENDING:
        raise InvalidTransition("this record is already waiting to be posted", field="sync_id")


def check_provider(provider: str, available: tuple[str, ...]) -> str:
    name = provider.strip().lower()
    if name not in ("quickbooks", "xero"):
        raise InvalidArgument("choose quickbooks or xero", field="provider")
    if name not in available:
        raise InvalidArgument(
            f"{name} is not set up on this server: ask your platform operator", field="provider"
        )
    return name


def check_redirect_uri(uri: str) -> str:
    """The console's callback: https, or http on a local development host."""
    text = uri.strip()
    local = text.startswith(("http://localhost", "http://127.0.0.1")) or (
        text.startswith("http://") and ".localhost" in text.split("/")[2]
    )
    if not (text.startswith("https://") or local) or len(text) > 500:
        raise InvalidArgument("the redirect URI must be an https URL", field="redirect_uri")
    return text


def state_digest(state: str) -> str:
    """What we keep of an OAuth2 state: its SHA-256, never the state itself."""
    return hashlib.sha256(state.encode()).hexdigest()


def check_state(
    presented: str, *, stored_digest: str, expires_at: datetime | None, now: datetime
) -> None:
    """The state the provider echoed must be this tenant's latest, unspent, in time."""
    if not presented or not stored_digest or expires_at is None:
        raise InvalidArgument(
            "this connection link is not one this portal started: connect again", field="state"
        )
    if not hmac.compare_digest(state_digest(presented), stored_digest):
        raise InvalidArgument(
            "this connection link is not one this portal started: connect again", field="state"
        )
    if now >= expires_at:
        raise InvalidArgument("this connection link has expired: connect again", field="state")


def payment_reference(payment_id: str) -> str:
    """Our reference for a payment in the books: short enough for QuickBooks'
    21-character PaymentRefNum, unique enough within one integrator."""
    return "PAY-" + payment_id.replace("-", "")[:12].upper()
