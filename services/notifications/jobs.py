"""Jobs notifications declares; the chassis runs them (roles "all" and "jobs")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from services.chassis.jobs import Job
from services.notifications.identity_client import IdentityClient
from services.notifications.models import Email
from services.notifications.service import (
    MAIL_CHANNEL,
    MailerPolicy,
    Sessions,
    seconds_until_next_due,
    send_due_emails,
    send_share_digests,
)


def mailer(
    *,
    sessions: Sessions,
    send: Callable[[Email], Awaitable[None]],
    policy: MailerPolicy,
    poll_seconds: float = 2.0,
) -> Job:
    """Woken by the NOTIFY of a transaction that queued emails; polls for retries.
    Not a singleton: replicas share the queue (SKIP LOCKED)."""

    async def send_due() -> bool:
        if await send_due_emails(sessions=sessions, send=send, policy=policy) > 0:
            return True  # the next in line may be due now
        # Mail just queued is held briefly (MailerPolicy.hold_seconds) and a
        # retry may be close: wait for it here rather than for the next poll.
        wait = await seconds_until_next_due(sessions=sessions, policy=policy, within=poll_seconds)
        if wait is not None:
            # A floor: a due email another replica has locked must not make this spin.
            await asyncio.sleep(max(wait, 0.1))
            return True
        return False

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
