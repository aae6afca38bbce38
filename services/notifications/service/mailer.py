"""The mailer: sends queued emails over SMTP, in order, retrying with backoff.

Order: mail to one recipient about one project (its `ordering_key`) goes out
in the order of the events that caused it (`event_at`), one at a time. An
email is due only when nothing earlier for the same recipient and key is
still waiting, so a retry cannot be overtaken, and two replicas cannot send
a recipient's second email while the first is still pending. Different
recipients and projects go in parallel.

Failures (domain_delivery): a transient one (SMTP down, 4xx) keeps its place
and holds back what follows it for the same recipient and key, nothing else;
a permanent one (5xx, a bad address, a message that cannot be composed) is
retried a few times but holds back nothing. Either ends `failed`, with its
reason, after its attempts; that is logged as `notifications.email.failed`
and counted in the OpenTelemetry counter of the same name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opentelemetry import metrics
from sqlalchemy import Select, and_, func, select, tuple_
from sqlalchemy.orm import aliased

from services.chassis.telemetry import get_logger
from services.notifications import domain
from services.notifications.domain_delivery import (
    Failure,
    FailureKind,
    RetryPolicy,
    SendFailed,
)
from services.notifications.models import Email
from services.notifications.service.common import Sessions

log = get_logger(__name__)
_meter = metrics.get_meter(__name__)
SENT = _meter.create_counter(
    "notifications.email.sent", unit="{email}", description="Emails the SMTP server accepted"
)
RETRIED = _meter.create_counter(
    "notifications.email.retried",
    unit="{email}",
    description="Failed sends that will be tried again, by failure kind",
)
FAILED = _meter.create_counter(
    "notifications.email.failed",
    unit="{email}",
    description="Emails given up on (status failed), by failure kind",
)

SENT_LINK_PLACEHOLDER = "(removed after sending: a one-time link)"


@dataclass(frozen=True)
class MailerPolicy:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Mail waits until its event (or, when the producer's clock is ahead, its
    # queueing) is this old: mail for an earlier event still on its way from
    # another consumer, or from a handler being retried, can go first.
    hold_seconds: float = 0.0
    parallel: int = 8


def _due(now: datetime, hold: float):
    """Pending, its retry time come, and its event at least `hold` old."""
    return and_(
        Email.status == "pending",
        Email.next_attempt_at <= now,
        func.least(Email.event_at, Email.created_at) <= now - timedelta(seconds=hold),
    )


def _nothing_earlier_waiting():
    """No earlier email to the same recipient with the same key is still
    pending, unless it is pending after a permanent failure (it holds nothing)."""
    earlier = aliased(Email)
    return ~(
        select(earlier.id)
        .where(
            earlier.to_address == Email.to_address,
            earlier.ordering_key == Email.ordering_key,
            earlier.status == "pending",
            earlier.failure_kind != FailureKind.PERMANENT.value,
            tuple_(earlier.event_at, earlier.created_at, earlier.id)
            < tuple_(Email.event_at, Email.created_at, Email.id),
        )
        .exists()
    )


async def send_due_emails(
    *,
    sessions: Sessions,
    send: Callable[[Email], Awaitable[None]],
    policy: MailerPolicy,
    batch: int = 20,
) -> int:
    """Send the emails that are due, the first waiting one of each recipient
    and key; returns how many were attempted. The rows stay locked (SKIP
    LOCKED for other replicas) until their outcomes commit."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        emails = list(await session.scalars(due_emails(now, policy, batch)))
        gate = asyncio.Semaphore(max(1, policy.parallel))

        async def attempt(email: Email) -> Failure | None:
            async with gate:
                try:
                    await send(email)
                except SendFailed as exc:
                    return exc.failure
                except Exception as exc:  # unforeseen: retried, within the bound
                    return Failure.transient(f"{type(exc).__name__}: {exc}")
                return None

        # At most one email per recipient and key is due at once, so these
        # never race each other for order.
        outcomes = await asyncio.gather(*(attempt(e) for e in emails))
        for email, failure in zip(emails, outcomes, strict=True):
            if failure is None:
                _sent(email)
            else:
                _failed(email, failure, policy.retry)
    return len(emails)


def due_emails(now: datetime, policy: MailerPolicy, batch: int) -> Select[tuple[Email]]:
    """The first `batch` due emails, each the first waiting of its recipient
    and key, locked (SKIP LOCKED: another replica takes others)."""
    return (
        select(Email)
        .where(_due(now, policy.hold_seconds), _nothing_earlier_waiting())
        .order_by(Email.event_at, Email.created_at, Email.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )


def next_due(now: datetime, policy: MailerPolicy, within: float) -> Select[tuple[datetime]]:
    """When the soonest email due in the next `within` seconds falls due.

    Only rows whose next attempt is that close are looked at, by the index
    of pending rows' next attempts: the reminders scheduled days ahead (one
    per open change order and approver) are not read on every wake-up, as
    they were when every pending row was asked whether it was first in line."""
    hold = timedelta(seconds=policy.hold_seconds)
    return select(
        func.min(
            func.greatest(
                Email.next_attempt_at, func.least(Email.event_at, Email.created_at) + hold
            )
        )
    ).where(
        Email.status == "pending",
        Email.next_attempt_at <= now + timedelta(seconds=within),
        _nothing_earlier_waiting(),
    )


async def seconds_until_next_due(
    *, sessions: Sessions, policy: MailerPolicy, within: float
) -> float | None:
    """How long until some pending email falls due (0 if one is), or None if
    none does in the next `within` seconds (the mailer's poll covers those)."""
    now = datetime.now(UTC)
    async with sessions() as session:
        soonest = await session.scalar(next_due(now, policy, within))
    if soonest is None:
        return None
    wait = max(0.0, (soonest - datetime.now(UTC)).total_seconds())
    return wait if wait < within else None


def _failed(email: Email, failure: Failure, retry: RetryPolicy) -> None:
    email.attempts += 1
    email.last_error = failure.reason
    email.failure_kind = failure.kind.value
    delay = retry.after_failure(email.attempts, failure.kind)
    fields = {
        "email_id": str(email.id),
        "event_type": email.event_type,
        "attempts": email.attempts,
        "failure": failure.kind.value,
        "reason": failure.reason,
    }
    if delay is None:
        email.status = "failed"
        FAILED.add(1, {"failure": failure.kind.value, "event_type": email.event_type})
        log.error("notifications.email.failed", **fields)
        return
    email.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
    RETRIED.add(1, {"failure": failure.kind.value})
    log.warning("notifications.email.retrying", retry_in=delay, **fields)


def _sent(email: Email) -> None:
    email.status = "sent"
    email.attempts += 1
    email.sent_at = datetime.now(UTC)
    if email.event_type in domain.SENSITIVE_EVENTS:
        # The one-time link has left; keep no copy of it at rest.
        email.text_body = email.html_body = SENT_LINK_PLACEHOLDER
    SENT.add(1, {"event_type": email.event_type})
    log.info("notifications.email.sent", email_id=str(email.id), event_type=email.event_type)
