"""Payment-method domains, pure: which host a tenant's portal answers on,
when a registration is due, and what a failed attempt leaves behind.

A domain's life: pending -> registered (on the tenant's Stripe account, with
Stripe's id), or pending -> failed (Stripe refused it: a bad host, an account
that does not let us act). A transient failure (Stripe down, 5xx, 429) stays
pending and backs off. Connecting another Stripe account makes a registered
domain due again, on the new account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.chassis.errors import InvalidArgument
from services.payments.domain_sync import RetryPolicy, backoff

# RFC 1123 labels; Stripe checks the rest (a public suffix, DNS) when it verifies.
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_HOST = 253


class DomainState(StrEnum):
    PENDING = "pending"
    REGISTERED = "registered"
    FAILED = "failed"


def portal_domain(slug: str, base_domain: str) -> str:
    """`<slug>.<base domain>`, the host the tenant's pay page is served on."""
    host = f"{slug}.{base_domain}".strip().lower().rstrip(".")
    labels = host.split(".")
    if len(host) > MAX_HOST or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise InvalidArgument(f"'{host}' is not a host name Stripe can register", field="slug")
    return host


def is_due(
    *, state: str, registered_on: str, account: str, attempt_at: datetime, now: datetime
) -> bool:
    """Whether the job should (re)register now on `account` (the tenant's
    connected account; none: nothing can be registered yet)."""
    if not account:
        return False
    if state == DomainState.REGISTERED:
        return registered_on != account
    if state == DomainState.FAILED:
        return registered_on != account  # refused on this account; a new one may accept
    return attempt_at <= now


@dataclass(frozen=True)
class Attempt:
    """What one attempt leaves on the row."""

    state: DomainState
    attempts: int
    next_attempt_at: datetime
    last_error: str


def after_failure(
    *, attempts: int, error: str, permanent: bool, now: datetime, policy: RetryPolicy
) -> Attempt:
    count = attempts + 1
    if permanent:
        return Attempt(DomainState.FAILED, count, now, error)
    return Attempt(DomainState.PENDING, count, now + backoff(count, policy), error)
