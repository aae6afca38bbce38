"""Jobs notifications declares; the chassis runs them (roles "all" and "jobs")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.chassis.jobs import Job
from services.notifications.identity_client import IdentityClient
from services.notifications.models import Email
from services.notifications.service import (
    MAIL_CHANNEL,
    Sessions,
    send_due_emails,
    send_share_digests,
)


def mailer(
    *,
    sessions: Sessions,
    send: Callable[[Email], Awaitable[None]],
    max_attempts: int,
    poll_seconds: float = 2.0,
) -> Job:
    """Woken by the NOTIFY of a transaction that queued emails; polls for retries.
    Not a singleton: replicas share the queue (SKIP LOCKED)."""

    async def send_due() -> bool:
        return await send_due_emails(sessions=sessions, send=send, max_attempts=max_attempts) > 0

    return Job.on_notify(MAIL_CHANNEL, send_due, fallback_seconds=poll_seconds, name="mailer")


def share_digests(
    *,
    sessions: Sessions,
    identity: IdentityClient,
    portal_url_template: str,
    quiet_seconds: float,
    interval: float,
) -> Job:
    """A singleton: one replica groups the shared documents and asks identity."""

    async def queue_due_digests() -> None:
        await send_share_digests(
            sessions=sessions,
            identity=identity,
            portal_url_template=portal_url_template,
            quiet_seconds=quiet_seconds,
        )

    return Job.every(interval, queue_due_digests, name="share-digests", singleton=True)
