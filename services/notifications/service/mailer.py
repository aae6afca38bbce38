"""The mailer: sends queued emails over SMTP, retrying with backoff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.chassis.telemetry import get_logger
from services.notifications import domain
from services.notifications.models import Email
from services.notifications.service.common import Sessions

log = get_logger(__name__)

SENT_LINK_PLACEHOLDER = "(removed after sending: a one-time link)"


async def send_due_emails(
    *,
    sessions: Sessions,
    send: Callable[[Email], Awaitable[None]],
    max_attempts: int,
    batch: int = 20,
) -> int:
    """Send emails that are due; returns how many were attempted. The rows stay
    locked (SKIP LOCKED for other replicas) until their outcomes commit."""
    async with sessions() as session, session.begin():
        emails = list(
            await session.scalars(
                select(Email)
                .where(Email.status == "pending", Email.next_attempt_at <= func.now())
                .order_by(Email.created_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for email in emails:
            try:
                await send(email)
            except Exception as exc:
                _failed(email, exc, max_attempts)
            else:
                _sent(email)
    return len(emails)


def _failed(email: Email, exc: Exception, max_attempts: int) -> None:
    email.attempts += 1
    email.last_error = str(exc)[:2000]
    delay = domain.retry_after_failure(email.attempts, max_attempts)
    if delay is None:
        email.status = "failed"
        log.error("email failed for good", email_id=str(email.id), error=str(exc))
        return
    email.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
    log.warning(
        "email send failed; will retry", email_id=str(email.id), retry_in=delay, error=str(exc)
    )


def _sent(email: Email) -> None:
    email.status = "sent"
    email.attempts += 1
    email.sent_at = datetime.now(UTC)
    if email.event_type in domain.SENSITIVE_EVENTS:
        # The one-time link has left; keep no copy of it at rest.
        email.text_body = email.html_body = SENT_LINK_PLACEHOLDER
    log.info("email sent", email_id=str(email.id), event_type=email.event_type)
